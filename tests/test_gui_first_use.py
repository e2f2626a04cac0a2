"""GUI checks for what a new user hit on a first session (issue #15): each test drives the real
window with pytest-qt and failed before its fix."""

# ruff: noqa: F811 - the fixtures imported from test_gui_editor are used as test arguments

from __future__ import annotations

import gc
import time

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPoint, QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from test_gui_editor import (  # noqa: E402,F401 - fixtures and helpers shared with the main GUI tests
    WAIT_MS,
    dlg,
    paint_stroke,
    photo,
    service,
    style_photo,
    win,
)

from tcp_core.editing.regions import RegionEdit  # noqa: E402
from tcp_editor import dialogs  # noqa: E402
from tcp_editor.main_window import MainWindow  # noqa: E402


def _window(qtbot, tmp_path, service, settings=None):
    settings = settings or QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(service=service, settings=settings, autosave_dir=str(tmp_path / "autosave"),
                   autosave_interval_s=3600, preview_long_side=256)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    return w


def _wheel(widget, delta_y: int = -120) -> QWheelEvent:
    pos = QPointF(widget.rect().center())
    ev = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, delta_y),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)
    return ev


# item 5 ------------------------------------------------------------------------------------------
def test_quit_discard_then_delete_raises_nothing(qtbot, tmp_path, service, dlg, photo):
    """Quit -> Discard with unsaved edits, then the window is destroyed: no slot may run on the
    deleted C++ window (it printed `Internal C++ object (MainWindow) already deleted`)."""
    w = _window(qtbot, tmp_path, service)
    assert w.open_path(photo)
    paint_stroke(qtbot, w, [(60, 60), (100, 70)])
    assert not w.doc.undo_stack.isClean()
    dlg.save_changes_answer = "discard"
    assert w.close()
    import shiboken6

    shiboken6.delete(w)  # what happens to run_gui's window when it returns
    del w
    gc.collect()
    QApplication.processEvents()


# item 6 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,filt", [("castle.jpg", "JPEG"), ("castle.png", "PNG"), ("castle.webp", "WebP"),
                                       ("castle.tif", "PNG")])
def test_export_dialog_filter_matches_the_suggested_name(qtbot, win, monkeypatch, tmp_path, name, filt):
    from test_gui_editor import make_photo

    p = tmp_path / name
    make_photo(p, exif_make=None)
    assert win.open_path(str(p))
    seen = {}

    def save_path(parent, title, directory="", filter=dialogs.EXPORT_FILTER, selected_filter=""):
        seen.update(directory=directory, selected=selected_filter)
        return ""

    monkeypatch.setattr(dialogs, "save_path", save_path)
    win.files.export_dialog()
    ext = ".png" if name.endswith(".tif") else name[name.rfind("."):]
    assert seen["directory"].endswith("castle_tcp" + ext)
    assert seen["selected"].startswith(filt + " ("), seen
    assert "*" + ext in seen["selected"]


# item 7 ------------------------------------------------------------------------------------------
def test_wheel_over_unfocused_controls_scrolls_instead_of_changing_them(qtbot, win):
    c = win.controls
    controls = [c.feather_px, c.grow_px, c.tolerance, c.brush_size, c.smoothing, c.similarity, c.hardness,
                c.overlay_opacity, c.interp_what, c.interior, c.pre_transfer, win.regions_panel.strength]
    before = [w.value() if hasattr(w, "value") else w.currentIndex() for w in controls]
    for w in controls:
        w.setEnabled(True)
        w.clearFocus()
        ev = _wheel(w)
        assert not ev.isAccepted(), f"{w.objectName() or type(w).__name__} took the wheel without focus"
    after = [w.value() if hasattr(w, "value") else w.currentIndex() for w in controls]
    assert after == before
    # a focused spin box still takes the wheel (the user clicked into it)
    c.feather_px.setFocus()
    qtbot.waitUntil(c.feather_px.hasFocus, timeout=2000)
    v = c.feather_px.value()
    _wheel(c.feather_px, 120)
    assert c.feather_px.value() == v + 1


# item 8 ------------------------------------------------------------------------------------------
def test_invisible_overlay_is_not_restored_silently(qtbot, tmp_path, service, dlg):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    w = _window(qtbot, tmp_path, service, settings)
    w.controls.overlay_opacity.setValue(0)
    w.close()
    settings.sync()
    w2 = _window(qtbot, tmp_path, service, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert w2.controls.overlay_opacity.value() > 0, "brushing would be invisible"
    assert w2.canvas.overlay.opacity() > 0
    assert any("mask overlay" in n and "invisible" in n for n in w2.feedback.notices), w2.feedback.notices
    # a visible choice is kept as it was
    w2.controls.overlay_opacity.setValue(30)
    w2.close()
    w3 = _window(qtbot, tmp_path, service, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert w3.controls.overlay_opacity.value() == 30
    assert not any("mask overlay" in n for n in w3.feedback.notices)
    w3.close()


# item 4 ------------------------------------------------------------------------------------------
class _CountingNet:
    """Counts the network's encoder and swap passes (the expensive, cacheable parts of a preview)."""

    def __init__(self, net, monkeypatch):
        self.calls = {"encode": 0, "swap": 0}
        for name in self.calls:
            orig = getattr(net, name)

            def counted(*a, _orig=orig, _name=name, **k):
                self.calls[_name] += 1
                return _orig(*a, **k)

            monkeypatch.setattr(net, name, counted)


def test_first_preview_is_prepared_while_the_user_brushes(qtbot, win, service, photo, monkeypatch):
    """While a region is brushed and no style is chosen yet, the worker encodes the photo and swaps
    it with the gallery's styles; the first preview with a gallery style then runs no encoder and no
    swap pass, only the region edit (it took 4.6 s on the demo model before)."""
    from tcp_editor.resources import bundled_styles

    service.worker.model.clear_cache()
    counter = _CountingNet(service.worker.model.net, monkeypatch)
    with qtbot.waitSignal(service.signals.warmed, timeout=WAIT_MS):
        assert win.open_path(photo)
    win.set_tool("brush")
    win.canvas.set_brush_size(24)
    with qtbot.waitSignal(service.signals.warmed, timeout=WAIT_MS) as warm:
        paint_stroke(qtbot, win, [(60, 60), (100, 70), (140, 90)])
    assert warm.args[1] >= 2 + len(bundled_styles())  # photo, region-edit kernels, every gallery style
    before = dict(counter.calls)
    uid = win.doc.active_uid
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        assert win.styles.set_region_style_from_path(uid, bundled_styles()[1])
    assert counter.calls == before, f"the first preview recomputed cached work: {before} -> {counter.calls}"


def test_warm_up_yields_to_a_preview(qtbot, win, service, photo, style_photo):
    """A preview asked for during a warm-up runs after at most one warm-up step, not after all."""
    win.styles.prewarm = False  # only the warm-up below
    assert win.open_path(photo)
    mask = np.zeros(win.doc.preview_shape, np.float32)
    mask[40:120, 60:200] = 1
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        win.doc.add_region(mask=mask, style=win.styles.load_style(style_photo))
    order = []
    ours = []  # only this warm-up: one started when the region was added may still finish meanwhile
    service.signals.warmed.connect(lambda rid, *a: rid in ours and order.append("warmed"))
    win.previewApplied.connect(lambda rid, ms: rid >= 0 and order.append("preview"))
    styles = [np.full((64 + 8 * i, 64, 3), (i * 40) % 256, np.uint8) for i in range(16)]  # a long warm-up
    model = service.worker.model
    fast_swap = model.swap

    def slow_swap(*a, **k):  # the tiny model would finish all 16 warm-up steps before the request lands
        time.sleep(0.03)
        return fast_swap(*a, **k)

    model.swap = slow_swap
    model.clear_cache()
    ours.append(service.submit_warm(win.doc.preview, styles))
    win.previews.request_now()
    qtbot.waitUntil(lambda: "warmed" in order and "preview" in order, timeout=WAIT_MS)
    assert order.index("preview") < order.index("warmed"), order


# item 9 ------------------------------------------------------------------------------------------
def test_select_similar_default_is_strict_and_the_slider_updates_live(qtbot, win, service, photo, monkeypatch):
    """A click on "sky" at the default takes the sky, not what is only fairly similar (the demo
    model rates mountains 0.8-0.9 like the sky); the slider says which way selects more, and moving
    it re-thresholds the last click on the canvas, as one undo step."""
    assert win.open_path(photo)
    h, w = win.doc.preview_shape
    sim = np.full((h, w), 0.6, np.float32)
    sim[: h // 3] = 1.0  # the clicked "sky"
    sim[h // 3: 2 * h // 3] = 0.86  # "mountains": similar codes, other content
    asked = []
    monkeypatch.setattr(service.worker.model, "similar_region",
                        lambda image, x, y, tolerance: asked.append(tolerance) or sim.copy())
    c = win.controls
    assert "higher selects more" in c.similarity_label.text()
    win.set_tool("similar")
    with qtbot.waitSignal(win.selection.selectionApplied, timeout=WAIT_MS):
        qtbot.mouseClick(win.canvas.viewport(), Qt.MouseButton.LeftButton,
                         pos=win.canvas.mapFromScene(QPointF(w / 2, 10)))
    r = win.doc.active_region
    stack = win.doc.undo_stack
    n = stack.count()
    assert r.mask[5, 5] == 1 and r.mask[h // 2, w // 2] == 0, "the default took more than the sky"
    assert asked == [c.similarity.value() / 100]  # the click is seeded at the slider's tolerance
    c.similarity.setValue(75)  # more tolerant: the mountains too, live
    assert r.mask[h // 2, w // 2] == 1 and r.mask[h - 5, 5] == 0
    c.similarity.setValue(10)
    assert r.mask[5, 5] == 1 and r.mask[h // 2, w // 2] == 0
    assert stack.count() == n, "moving the slider made extra undo steps"
    stack.undo()
    assert r.mask.max() == 0
    c.similarity.setValue(80)  # after another edit (the undo) the slider no longer changes the mask
    assert r.mask.max() == 0


# item 11 -----------------------------------------------------------------------------------------
def test_the_edit_stays_within_the_outline_and_off_the_frames_next_to_a_brushed_sky(service):
    """Issue #15: feathering across the mask's edge with a plain blur changed window frames next to a brushed sky by
    up to 152 gray levels. With Mask edge "inside" no pixel outside the mask changes at all. With the photo-guided
    feather across the edge (the default) the edit reaches no further than the canvas's solid outline
    (ModelInfo.reach_px), and a dark frame that the mask stops at stays as it was."""
    import cv2

    from tcp_editor.services.images import ExportConfig
    from tcp_editor.services.render import render

    model, info = service.worker.model, service.worker.info
    rng = np.random.default_rng(1)
    noise = (rng.random((180, 240, 3)) * 255).astype(np.uint8)
    style = np.zeros((64, 64, 3), np.uint8)
    style[..., 0] = 250
    mask = np.zeros((180, 240), np.float32)
    mask[20:90, 30:200] = 1.0
    mask[90:100, 30:200] = np.linspace(1, 0.2, 10, dtype=np.float32)[:, None]  # a soft brush edge
    reach = info.reach_px(180, 240, "across")
    assert reach > 0
    within = cv2.dilate((mask > 0).astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8)) > 0
    for crop in (False, True):
        inside = render(model, noise, [RegionEdit(style, mask, 1.0)], crop=crop, export=ExportConfig(edge="inside"))
        outside = mask == 0
        assert np.array_equal(inside[outside], noise[outside]), f"crop={crop}: pixels outside the mask changed"
        assert np.abs(inside[40:70, 60:170].astype(int) - noise[40:70, 60:170]).max() > 0, "no edit inside"
        across = render(model, noise, [RegionEdit(style, mask, 1.0)], crop=crop)
        assert np.array_equal(across[~within], noise[~within]), f"crop={crop}: the edit reached past the outline"
    # a smooth blue sky over a dark window frame (rows 100 on); the brushed sky mask stops at the frame
    sky = np.zeros((180, 240, 3), np.uint8)
    sky[:100] = np.linspace(200, 140, 100, dtype=np.float32)[:, None, None].astype(np.uint8) * np.array([0.6, 0.8, 1.0])
    sky[100:] = (40, 30, 25)
    sky_mask = np.zeros((180, 240), np.float32)
    sky_mask[:100] = 1.0
    for crop in (False, True):
        out = render(model, sky, [RegionEdit(style, sky_mask, 1.0)], crop=crop).astype(int)
        assert np.abs(out[:90] - sky[:90]).max() > 10, "no edit of the sky"
        assert np.abs(out[102:] - sky[102:]).max() <= 4, f"crop={crop}: the frame changed"


def test_the_canvas_outline_is_where_the_export_changes_the_photo(service):
    """The canvas outlines `services.extent.edit_extent`, the feather `apply_regions` blends each edit with: the
    export changes nothing outside the solid line by more than `EXTENT_VISIBLE` of its change and leaves nothing
    inside it unchanged; along a photo edge the mask follows (a sky over a dark frame) the line ends at the edge,
    across smooth photo it reaches out a few pixels."""
    import cv2

    from tcp_editor.mask_ops import EXTENT_VISIBLE
    from tcp_editor.services.extent import edit_extent
    from tcp_editor.services.render import render

    model, info = service.worker.model, service.worker.info
    assert edit_extent(np.ones((8, 8), np.float32), np.zeros((8, 8, 3), np.uint8), None, "across") is None
    style = np.zeros((64, 64, 3), np.uint8)
    style[..., 0] = 250
    sky = np.zeros((180, 240, 3), np.uint8)
    sky[:100] = np.linspace(200, 140, 100, dtype=np.float32)[:, None, None].astype(np.uint8) * np.array([0.6, 0.8, 1.0])
    sky[100:, :120] = (40, 30, 25)  # a dark frame under the left half of the sky; the right half goes on smoothly
    sky[100:, 120:] = sky[99, 120:]
    mask = np.zeros((180, 240), np.float32)
    mask[:100] = 1.0
    for edge in ("across", "inside"):
        from tcp_editor.services.images import ExportConfig

        out = render(model, sky, [RegionEdit(style, mask, 1.0)], crop=True, export=ExportConfig(edge=edge))
        change = np.abs(out.astype(int) - sky).max(-1)
        feathered = edit_extent(mask, sky, info, edge)
        assert not (change[feathered == 0] > 0).any(), f"{edge}: the export changed pixels its feather does not hold"
        shown = feathered > EXTENT_VISIBLE  # inside the solid line
        assert change[~shown].max() <= max(4, EXTENT_VISIBLE * change.max() + 1), f"{edge}: changed past the line"
        near = cv2.dilate((change > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        assert not (shown & ~near).any(), f"{edge}: the outline holds pixels the export leaves alone"
        below = shown[100:]
        if edge == "inside":
            assert not below.any()
        else:
            assert not below[:, 10:110].any() and below[:, 130:230].sum(0).min() >= 5, "the line hugs the frame"


def test_model_info_feather_matches_the_core(service):
    from tcp_core.editing.inference import working_size
    from tcp_core.editing.masks import auto_feather_px

    info = service.worker.info
    model = service.worker.model
    assert info.resolution == model.config.resolution and info.size_multiple > 0
    for h, w in ((768, 1024), (1024, 768), (683, 1024), (400, 1024), (256, 256), (192, 256)):
        ws = working_size(h, w, info.resolution, info.size_multiple)
        assert info.working_size(h, w) == tuple(ws)
        assert info.feather_px(h, w) == auto_feather_px((h, w), ws)


def test_overlay_outlines_where_the_edit_stops_and_where_it_is_full(qtbot, win, photo):
    """The active region's solid outline is where the edit reaches, the dashed one where it has its full strength:
    the outlines of the feather the export blends it with (`services.extent`). With the feather across the mask's
    edge (the default) the solid line lies outside the mask, within ModelInfo.reach_px of it, and the dashed one
    inside it; with Mask edge "Keep inside the mask" nothing is drawn outside the mask."""
    import cv2

    from tcp_editor.mask_ops import EXTENT_VISIBLE
    from tcp_editor.services.extent import edit_extent

    assert win.open_path(photo)
    c, info, shape = win.canvas, win.models.info, win.doc.preview_shape
    assert win.doc.edge == "across" and c.edge == "across" and c.model_info is info
    win.set_tool("brush")
    c.set_brush_size(150)  # (wider than twice the fade depth of the test model's coarse network)
    paint_stroke(qtbot, win, [(70, 90), (180, 90)])
    m = win.doc.active_region.mask
    qtbot.waitUntil(lambda: bool(c.extent[0]), timeout=2000)
    for edge in ("across", "inside"):
        win.controls.edge.setCurrentIndex(win.controls.edge.findData(edge))
        assert win.doc.edge == edge and c.edge == edge
        c.update_extent_outline()
        feathered = edit_extent(m, win.doc.preview, info, edge)
        outer, inner = (np.concatenate(x) for x in c.extent)
        ys, xs = np.nonzero(feathered > EXTENT_VISIBLE)
        box = np.array((outer[:, 0].min(), outer[:, 0].max(), outer[:, 1].min(), outer[:, 1].max()))
        assert np.abs(box - (xs.min(), xs.max(), ys.min(), ys.max())).max() <= 4, \
            "the solid line is where the edit reaches (but for specks of a few pixels)"
        assert (feathered[outer[:, 1], outer[:, 0]] > EXTENT_VISIBLE).mean() > 0.9  # on the edit's border (pinholes
        # filled)
        g = info.reach_px(*shape, edge)
        support = cv2.dilate((m > 0).astype(np.uint8), np.ones((2 * g + 1,) * 2, np.uint8)) if g else m > 0
        assert support[outer[:, 1], outer[:, 0]].all(), "no further than the feather's reach"
        ys, xs = np.nonzero(m > 0)
        assert inner[:, 1].min() > ys.min() and inner[:, 1].max() < ys.max()  # the fade band, inside the mask
        assert min(m[inner[:, 1], inner[:, 0]].min(), feathered[inner[:, 1], inner[:, 0]].min()) >= 1 - EXTENT_VISIBLE
        shown = c.extent_item._buf
        assert shown.shape[:2] == m.shape and shown[outer[:, 1], outer[:, 0], 3].min() == 255
        if edge == "inside":
            assert shown[m == 0].max() == 0, "the outline stays on the mask"
        else:
            assert shown[m == 0].max() == 255, "the reach is drawn outside the mask"
    win.doc.undo_stack.undo()  # back to across: the outline follows
    qtbot.waitUntil(lambda: c.edge == "across", timeout=2000)
    win.doc.undo_stack.undo()  # no mask: no outline
    qtbot.waitUntil(lambda: not c.extent[0], timeout=2000)
    assert c.extent_item._buf is None


def test_outline_of_a_ragged_mask_costs_no_qt_call_per_point(qtbot, win, photo):
    """PySide6 6.12 on Python 3.11 drops a reference to None on every call of a void method: an
    outline built point by point (QPainterPath.lineTo) over a noisy mask's ~10^5 border points
    killed the editor ("Fatal Python error: none_dealloc", seen in test_hardening's GUI child)."""
    import sys

    assert win.open_path(photo)
    rng = np.random.default_rng(0)
    mask = np.zeros(win.doc.preview_shape, np.float32)
    mask[40:100, 40:120] = (rng.random((60, 80)) < 0.3)
    win.doc.add_region(mask=mask)
    # the outline of the mask's own ragged border (no model's feather yet: with one, the feather makes the noise one
    # faint blob across the mask's edge, and nothing inside it)
    win.canvas.set_feather(None, "inside")
    win.canvas.update_extent_outline()  # warm
    before = sys.getrefcount(None)
    win.canvas.update_extent_outline()
    assert sys.getrefcount(None) > before - 50
    assert sum(len(c) for c in win.canvas.extent[0]) > 500  # a ragged border of many points, all drawn


# item 12 -----------------------------------------------------------------------------------------
LASSO_CHILD = r"""
import sys, numpy as np
from PySide6.QtWidgets import QApplication
app = QApplication([])
from tcp_editor.main_window import MainWindow
w = MainWindow()
w.styles.prewarm = False
from PIL import Image
Image.fromarray(np.full((240, 320, 3), 90, np.uint8)).save(sys.argv[1])
assert w.open_path(sys.argv[1])
w.show()
app.processEvents()
c = w.canvas
c._lasso = []
for i in range(1500):  # a long freehand lasso: the outline is redrawn on every mouse move
    c._lasso.append((160 + 80 * np.cos(i / 200), 120 + 80 * np.sin(i / 200)))
    c._update_lasso_item()
print("survived", flush=True)
w.doc.undo_stack.setClean()
w.close()
"""


def test_a_long_freehand_lasso_does_not_abort_the_editor(tmp_path):
    """PySide6 6.12 on Python 3.11 drops a reference to None on every void Qt call; the lasso's
    outline, rebuilt point by point on each mouse move, took None's count to zero and aborted the
    process with a faulthandler dump listing shiboken6 and PySide6 (the suite's crash, issue #15
    item 12). Now None is protected (tcp_editor.pyside_fix) and the outline is one call."""
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", LASSO_CHILD, str(tmp_path / "p.png")], capture_output=True,
                         text=True, timeout=300, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0 and "survived" in out.stdout, out.stderr[-1500:]


EMIT_CHILD = """
import sys, threading
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot
from tcp_editor.pyside_fix import emit_leaks_true, protect_leaked_singletons
app = QCoreApplication([])
N = 4 * sys.getrefcount(True) + 2000  # far more emits than True has references: the bug's abort if unprotected
if sys.argv[1] == "protect":
    protect_leaked_singletons()
leaks = emit_leaks_true()

class Worker(QObject):
    result = Signal(int, object, float)
    go = Signal()

    @Slot()
    def run(self):
        for i in range(N):
            self.result.emit(i, [i], 1.0)

class Sink(QObject):
    n = 0

    @Slot(int, object, float)
    def on_result(self, i, payload, ms):
        self.n += 1
        if self.n == N:
            app.quit()

t = QThread(); w = Worker(); w.moveToThread(t); t.start()
s = Sink(); w.result.connect(s.on_result); w.go.connect(w.run); w.go.emit()
app.exec(); t.quit(); t.wait()
print("survived", s.n, N, leaks)
"""


def test_a_worker_emitting_many_results_does_not_abort_the_editor():
    """PySide6 6.12 on Python 3.11 also drops a reference to True on every Signal.emit(): a worker thread that sent
    its results to the GUI thread (as the inference worker does on every preview) took True's count to zero and
    aborted with "bool_dealloc". With the editor's protection the same run survives; where the bug is present, the
    unprotected run is shown to abort (so this test can tell)."""
    import os
    import subprocess
    import sys

    def no_core_file():  # the unprotected child aborts: no core dump in the checkout
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def child(mode):
        return subprocess.run([sys.executable, "-c", EMIT_CHILD, mode], capture_output=True, text=True, timeout=300,
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, preexec_fn=no_core_file)

    out = child("protect")
    assert out.returncode == 0 and "survived" in out.stdout, out.stderr[-1500:]
    n, total, leaks = out.stdout.split()[1:]
    assert n == total
    if leaks == "True" and sys.version_info < (3, 12):
        bare = child("bare")
        assert bare.returncode != 0 and "bool_dealloc" in bare.stderr


def test_none_protection_only_where_the_bug_is():
    import sys

    from tcp_editor import pyside_fix

    if sys.version_info >= (3, 12):
        assert sys.getrefcount(None) > 1 << 30  # immortal anyway
    elif pyside_fix.void_calls_leak_none():
        assert sys.getrefcount(None) > 1 << 39, "MainWindow/conftest did not protect None"
    if sys.version_info < (3, 12) and pyside_fix.emit_leaks_true():
        assert sys.getrefcount(True) > 1 << 39, "MainWindow/conftest did not protect True"
