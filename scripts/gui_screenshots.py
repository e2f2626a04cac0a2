#!/usr/bin/env python3
"""Start the real editor window under X (Xvfb), make an edit, and save screenshots.

    apt-get install -y xvfb libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1   # Qt xcb needs these
    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/gui_screenshots.py [--out docs/screenshots]
    python scripts/gui_screenshots.py            # starts Xvfb itself when DISPLAY is unset

Opens a photo, selects its sky with one Select-similar click (real mouse events), drops a style photo on
the region (real drag-and-drop events), waits for the edit and saves:
  01_open.png      the photo just opened
  02_mask.png      the selected region with its mask overlay
  03_edit.png      the edited result
  04_split.png     the before/after split view
  05_dark.png      the same in the dark palette
  06_match.png     the style from the part of the style photo like the region (Match), at 130 %
Uses the bundled weights if weights/ has them, else the untrained demo128 model (then the
"edit" is not meaningful, and the status bar says so).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def ensure_display() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        sys.exit("No DISPLAY and no Xvfb: install it (apt-get install -y xvfb) or run under xvfb-run.")
    for n in range(99, 140):
        if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"):
            break
    proc = subprocess.Popen([xvfb, f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(f"/tmp/.X11-unix/X{n}"):
            break
        time.sleep(0.05)
    os.environ["DISPLAY"] = f":{n}"
    return proc


def pick_photo() -> str:
    holdout = os.path.join(ROOT, "data", "demo", "holdout")
    if os.path.isdir(holdout):
        files = sorted(f for f in os.listdir(holdout) if f.lower().endswith((".jpg", ".jpeg", ".png")))
        if files:
            return os.path.join(holdout, files[0])
    for p in ("/tmp/debx/usr/share/backgrounds/mate/nature/Garden.jpg",):
        if os.path.isfile(p):
            return p
    return os.path.join(ROOT, "resources", "styles", "dune.jpg")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "screenshots"))
    ap.add_argument("--photo", default=None)
    ap.add_argument("--style", default=None)
    ap.add_argument("--weights", default=None)
    args = ap.parse_args()
    os.environ.pop("QT_QPA_PLATFORM", None)
    xvfb = ensure_display()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    try:
        return run(args)
    finally:
        if xvfb is not None:
            xvfb.terminate()


SKY_TOLERANCE = 60  # Select similar's tolerance for the sky click: the sky and its clouds


def run(args) -> int:
    from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["tcp-editor"])
    from tcp_editor import dialogs
    from tcp_editor.main_window import MainWindow
    from tcp_editor.services.inference import InferenceService
    from tcp_editor.theme import apply_theme, dark_palette

    for name in ("error", "warning", "info"):
        setattr(dialogs, name, lambda *a, **k: print("dialog:", a[1:3], file=sys.stderr))
    apply_theme(app, dark=False)
    os.makedirs(args.out, exist_ok=True)
    tmp = tempfile.mkdtemp()
    settings = QSettings(os.path.join(tmp, "s.ini"), QSettings.Format.IniFormat)
    service = InferenceService()
    win = MainWindow(service=service, settings=settings, autosave_dir=os.path.join(tmp, "auto"),
                     autosave_interval_s=3600)
    win.resize(1280, 800)
    win.move(20, 20)
    win.show()
    QTest.qWaitForWindowExposed(win)

    def pump(seconds: float) -> None:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            app.processEvents()
            time.sleep(0.01)

    def wait(cond, timeout=300.0) -> None:
        t0 = time.perf_counter()
        while not cond():
            app.processEvents()
            time.sleep(0.01)
            if time.perf_counter() - t0 > timeout:
                raise TimeoutError("timed out waiting")

    def shot(name: str) -> str:
        pump(0.3)
        path = os.path.join(args.out, name)
        win.grab().save(path, "PNG", 0)  # 0 = smallest PNG
        print("wrote", path)
        return path

    win.models.load(args.weights, "cpu")
    wait(lambda: win.models.info is not None)
    photo = args.photo or pick_photo()
    assert win.open_path(photo)
    pump(0.5)
    shot("01_open.png")

    canvas, doc = win.canvas, win.doc
    vp = canvas.viewport()
    h, w = doc.preview_shape
    sky_click = (w * 0.5, h * 0.05)  # the top of the sky (the default photo's; pass --photo for another)

    def vpos(x, y):
        return canvas.mapFromScene(QPointF(x, y))

    # select the sky as an artist does: Select similar, the tolerance up to take its clouds too, one click
    win.set_tool("similar")
    win.controls.similarity.setValue(SKY_TOLERANCE)
    with_click = []
    win.selection.selectionApplied.connect(lambda: with_click.append(1))
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, vpos(*sky_click))
    wait(lambda: bool(with_click), 120)
    QTest.mouseMove(vp, vpos(w * 0.6, h * 0.3))
    doc.rename_region(doc.active_uid, "Sky")
    shot("02_mask.png")

    # drop a style photo onto the region row (real drag enter/move/drop events)
    styles = win.regions_panel.gallery.paths()
    style = args.style or next((s for s in styles if "evening" in s), styles[0] if styles else photo)
    lst = win.regions_panel.list
    pos = QPointF(lst.visualItemRect(lst.item(0)).center())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(style)])
    a = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    for ev in (QDragEnterEvent(pos, *a), QDragMoveEvent(pos, *a), QDropEvent(pos, *a)):
        QApplication.sendEvent(lst.viewport(), ev)
    n = []
    win.previewApplied.connect(lambda rid, ms: n.append(rid))
    wait(lambda: doc.active_region is not None and doc.active_region.style is not None)
    wait(lambda: bool(n) and win.previews.in_flight is None and not win.previews.dirty)
    win.controls.overlay_opacity.setValue(0)
    win.set_tool("pan")  # no brush circle in the picture
    shot("03_edit.png")
    win.action_map["split"].setChecked(True)
    win.split_slider.setValue(50)
    QTest.mouseMove(vp, vpos(w * 0.5, h * 0.8))
    shot("04_split.png")
    app.setPalette(dark_palette())
    win.controls.overlay_opacity.setValue(35)
    win.action_map["split"].setChecked(False)
    shot("05_dark.png")
    app.setPalette(app.style().standardPalette())
    win.controls.overlay_opacity.setValue(0)
    n.clear()
    QTest.mouseClick(win.regions_panel.match_btn, Qt.MouseButton.LeftButton)
    wait(lambda: doc.active_region.style_mask is not None)
    win.regions_panel.strength.setValue(130)
    wait(lambda: bool(n) and win.previews.in_flight is None and not win.previews.dirty)
    pump(0.5)
    wait(lambda: win.previews.in_flight is None and not win.previews.dirty)
    shot("06_match.png")
    doc.undo_stack.setClean()
    win.close()
    service.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
