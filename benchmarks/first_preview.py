#!/usr/bin/env python3
"""How long the editor's first previews take, as a new user meets them (issue #15 item 4).

    python benchmarks/first_preview.py PHOTO [--brush-seconds 2] [--json out.json]

A real main window (offscreen) with the bundled model, in a fresh process: open PHOTO, brush a
region with real mouse events for --brush-seconds (what a user does before choosing a style),
pick a bundled style (the first preview), brush three more strokes (timed from the mouse release),
then pick another bundled style (a new style). Each time is from the action to the preview on the
canvas (`previewApplied`). By default the photo is opened while the model is still loading, as
`tcp-editor PHOTO` does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("photo")
    ap.add_argument("--brush-seconds", type=float, default=2.0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--pause", type=float, default=0.5, help="seconds between the stroke's end and choosing a style")
    ap.add_argument("--wait-for-model", action="store_true",
                    help="open the photo only once the model has loaded (default: at once, as `tcp-editor PHOTO`)")
    ap.add_argument("--open-after", type=float, default=0.0,
                    help="seconds after the start before the photo is opened (File > Open takes a while)")
    ap.add_argument("--no-prewarm", action="store_true", help="the editor without its warm-up (as before #15)")
    args = ap.parse_args()

    from PySide6.QtCore import QPointF, QSettings, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from tcp_editor import dialogs
    from tcp_editor.main_window import MainWindow
    from tcp_editor.resources import bundled_styles
    from tcp_editor.services.inference import InferenceService

    app = QApplication.instance() or QApplication([])
    tmp = tempfile.mkdtemp(prefix="tcp-first-preview-")
    dialogs.error = lambda *a, **k: print("error dialog:", a[1:], file=sys.stderr)
    service = InferenceService()
    win = MainWindow(service=service, settings=QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat),
                     autosave_dir=os.path.join(tmp, "autosave"), autosave_interval_s=3600)
    win.styles.prewarm = not args.no_prewarm
    win.resize(1280, 820)
    win.show()

    def wait(pred, timeout=120.0):
        t0 = time.perf_counter()
        while not pred():
            app.processEvents()
            time.sleep(0.002)
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError
        return time.perf_counter() - t0

    warmed: list = []
    service.worker.warmed.connect(lambda rid, n, ms: warmed.append([round(x) for x in ms]))
    t0 = time.perf_counter()
    win.models.load(None, "cpu")
    if args.wait_for_model:
        wait(lambda: win.models.info is not None)
    load_s = time.perf_counter() - t0
    applied: list[float] = []
    edit_ms: list[float] = []  # the worker's own time for each preview (the status bar's "Edit: N ms")
    win.previewApplied.connect(lambda rid, ms: rid >= 0 and (applied.append(time.perf_counter()),
                                                             edit_ms.append(round(ms))))

    def idle(seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.005)

    def timed(action, from_release: bool = False) -> float:
        """Seconds from the action (or from the mouse release that ends it) to the preview."""
        n = len(applied)
        t = time.perf_counter()
        action()
        wait(lambda: len(applied) > n)
        res = applied[n] - (released[0] if from_release else t)
        idle(1.0)  # the user looks at it (progressive refinement runs meanwhile)
        wait(lambda: win.previews.in_flight is None)
        return res

    vp = win.canvas.viewport()

    def mouse(kind, x, y, buttons):
        p = win.canvas.mapFromScene(QPointF(x, y))
        ev = QMouseEvent(kind, QPointF(p), QPointF(vp.mapToGlobal(p)), Qt.MouseButton.LeftButton, buttons,
                         Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, ev)

    released = [0.0]

    def stroke(points, seconds):
        from PySide6.QtCore import QEvent

        mouse(QEvent.Type.MouseButtonPress, *points[0], Qt.MouseButton.LeftButton)
        dt = seconds / max(1, len(points) - 1)
        for p in points[1:]:
            end = time.perf_counter() + dt
            mouse(QEvent.Type.MouseMove, *p, Qt.MouseButton.LeftButton)
            while time.perf_counter() < end:
                app.processEvents()
                time.sleep(0.005)
        released[0] = time.perf_counter()
        mouse(QEvent.Type.MouseButtonRelease, *points[-1], Qt.MouseButton.NoButton)
        app.processEvents()

    idle(args.open_after)
    t = time.perf_counter()
    assert win.open_path(args.photo)
    app.processEvents()
    open_s = time.perf_counter() - t
    h, w = win.doc.preview_shape
    win.set_tool("brush")
    win.canvas.set_brush_size(max(20, w // 12))
    pts = [(w * (0.1 + 0.8 * i / 20), h * (0.15 + 0.05 * (i % 3))) for i in range(21)]  # across the top
    stroke(pts, args.brush_seconds)
    idle(args.pause)
    model_ready_at_style = win.models.info is not None
    uid = win.doc.active_uid
    styles = bundled_styles()
    first = timed(lambda: win.styles.set_region_style_from_path(uid, styles[1]))
    later = []
    for k in range(3):
        y = h * (0.3 + 0.05 * k)
        later.append(timed(lambda y=y: stroke([(w * 0.2, y), (w * 0.5, y), (w * 0.8, y)], 0.3), from_release=True))
    new_style = timed(lambda: win.styles.set_region_style_from_path(uid, styles[2]))
    res = {"photo": os.path.basename(args.photo), "preview_shape": [h, w], "model_load_wait_s": round(load_s, 3),
           "open_s": round(open_s, 3), "open_after_s": args.open_after, "brush_seconds": args.brush_seconds,
           "first_preview_s": round(first, 3),
           "later_stroke_previews_s": [round(x, 3) for x in later], "new_style_preview_s": round(new_style, 3),
           "prewarm": win.styles.prewarm, "model_loaded_when_style_chosen": model_ready_at_style,
           "warm_ups_ms_per_step": warmed, "preview_worker_ms": edit_ms, "cpu": _cpu(), "threads": os.cpu_count()}
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    win.doc.undo_stack.setClean()
    win.close()
    service.shutdown()
    return 0


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


if __name__ == "__main__":
    sys.exit(main())
