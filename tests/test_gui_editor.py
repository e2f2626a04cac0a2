"""End-to-end GUI tests (pytest-qt, offscreen): real mouse events, real drops, real tiny-model edits."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tcp_editor import dialogs, project  # noqa: E402
from tcp_editor.main_window import MainWindow  # noqa: E402
from tcp_editor.services.inference import InferenceService  # noqa: E402

WAIT_MS = 20000


def make_photo(path, w=320, h=240, exif_make: str | None = "TCPTestCam", seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 // max(1, w - 1), yy * 255 // max(1, h - 1), (xx + yy) % 256], -1).astype(np.uint8)
    img[h // 4: h // 2, w // 4: w // 2] = (30, 160, 40)
    img = np.clip(img.astype(int) + rng.integers(-8, 9, img.shape), 0, 255).astype(np.uint8)
    im = Image.fromarray(img)
    kw = {}
    if exif_make:
        ex = Image.Exif()
        ex[0x010F] = exif_make  # Make
        kw["exif"] = ex.tobytes()
    if str(path).lower().endswith((".jpg", ".jpeg")):
        kw["quality"] = 95
    im.save(path, **kw)
    return img


class DialogRecorder:
    """Replaces tcp_editor.dialogs: records calls, never blocks."""

    def __init__(self, monkeypatch):
        self.errors: list[tuple[str, str]] = []
        self.confirm_answer = False
        self.restore_answer = True
        self.save_changes_answer = "discard"
        self.open_answer = ""
        self.save_answer = ""
        monkeypatch.setattr(dialogs, "error", lambda parent, title, text, details="": self.errors.append((title, text)))
        monkeypatch.setattr(dialogs, "warning", lambda parent, title, text: self.errors.append((title, text)))
        monkeypatch.setattr(dialogs, "info", lambda *a, **k: None)
        monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: self.confirm_answer)
        monkeypatch.setattr(dialogs, "ask_restore_autosave", lambda *a, **k: self.restore_answer)
        monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a, **k: self.save_changes_answer)
        monkeypatch.setattr(dialogs, "open_path", lambda *a, **k: self.open_answer)
        monkeypatch.setattr(dialogs, "save_path", lambda *a, **k: self.save_answer)
        monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: None)
        monkeypatch.setattr(dialogs, "ask_int", lambda *a, **k: None)


@pytest.fixture
def dlg(monkeypatch):
    return DialogRecorder(monkeypatch)


@pytest.fixture(scope="module")
def service():
    app = QApplication.instance() or QApplication([])
    svc = InferenceService(torch_threads=1)
    loaded = []
    svc.signals.modelLoaded.connect(loaded.append)
    svc.load_model(preset="tiny", device="cpu")
    import time

    t0 = time.time()
    while not loaded and time.time() - t0 < 60:
        app.processEvents()
        time.sleep(0.01)
    assert loaded, "the tiny model did not load"
    yield svc
    svc.shutdown()


@pytest.fixture
def win(qtbot, tmp_path, service, dlg):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(service=service, settings=settings, autosave_dir=str(tmp_path / "autosave"),
                   autosave_interval_s=3600, preview_long_side=256)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.doc.undo_stack.setClean()
    w.close()


@pytest.fixture
def photo(tmp_path):
    p = tmp_path / "photo.jpg"
    make_photo(p)
    return str(p)


@pytest.fixture
def style_photo(tmp_path):
    p = tmp_path / "style.png"
    rng = np.random.default_rng(3)
    arr = (rng.random((96, 128, 3)) * 255).astype(np.uint8)
    arr[..., 2] = 220
    Image.fromarray(arr).save(p)
    return str(p)


def view_pos(win, x, y) -> QPoint:
    """Viewport position of mask pixel (x, y)."""
    return win.canvas.mapFromScene(QPointF(x, y))


def paint_stroke(qtbot, win, points):
    vp = win.canvas.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=view_pos(win, *points[0]))
    for p in points[1:]:
        qtbot.mouseMove(vp, pos=view_pos(win, *p))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=view_pos(win, *points[-1]))


def drop_file(widget, pos: QPoint, path: str):
    """A real drag enter -> move -> drop sequence (Qt routes the drop to the accepted drag target)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPointF(pos), *args)
    QApplication.sendEvent(widget, enter)
    move = QDragMoveEvent(QPointF(pos), *args)
    QApplication.sendEvent(widget, move)
    ev = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                    Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, ev)
    return ev, mime  # keep the mime data alive as long as the event


def region_row_pos(win, row: int) -> QPoint:
    lst = win.regions_panel.list
    return lst.visualItemRect(lst.item(row)).center()


def open_with_region(qtbot, win, photo, style_photo):
    assert win.open_path(photo)
    win.set_tool("brush")
    win.canvas.set_brush_size(24)
    paint_stroke(qtbot, win, [(60, 60), (100, 70), (140, 90)])
    uid = win.doc.active_uid
    assert uid != -1
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        assert win.styles.set_region_style_from_path(uid, style_photo)
    return uid


# ----------------------------------------------------------------------------------------------


def test_paint_stroke_changes_mask_under_stroke(qtbot, win, photo):
    assert win.open_path(photo)
    doc = win.doc
    assert doc.preview_shape == (192, 256)
    win.set_tool("brush")
    win.canvas.set_brush_size(20)
    paint_stroke(qtbot, win, [(40, 100), (80, 100), (120, 100), (160, 100)])
    r = doc.active_region
    assert r is not None, "painting without a region creates one"
    m = r.mask
    for x in (40, 80, 120, 160):
        assert m[100, x] > 0.9, f"mask not painted at ({x}, 100)"
    assert m[20, 20] == 0 and m[180, 240] == 0, "mask painted far from the stroke"
    assert doc.undo_stack.count() == 2  # add region + stroke
    # eraser with real events
    win.set_tool("eraser")
    paint_stroke(qtbot, win, [(80, 100), (81, 100)])
    assert r.mask[100, 80] < 0.1 and r.mask[100, 160] > 0.9
    # undo / redo of strokes
    doc.undo_stack.undo()
    assert r.mask[100, 80] > 0.9
    doc.undo_stack.undo()
    assert r.mask.max() == 0
    doc.undo_stack.redo()
    assert r.mask[100, 120] > 0.9


def test_drop_style_on_region_and_edit_runs(qtbot, win, photo, style_photo):
    assert win.open_path(photo)
    win.canvas.set_brush_size(30)
    paint_stroke(qtbot, win, [(50, 50), (120, 80)])
    uid = win.doc.active_uid
    lst = win.regions_panel.list
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS) as blocker:
        ev, _mime = drop_file(lst.viewport(), region_row_pos(win, 0), style_photo)
        assert ev.isAccepted()
    r = win.doc.region(uid)
    assert r.style is not None and r.style.path == style_photo
    rid, ms = blocker.args
    assert rid > 0 and ms > 0
    res = win.previews.last_result
    assert res.shape == (192, 256, 3) and res.dtype == np.uint8
    # pixels far outside the (feathered) mask are untouched; inside the mask they changed
    assert np.array_equal(res[170:, 200:], win.doc.preview[170:, 200:])
    assert np.abs(res[60:70, 70:90].astype(int) - win.doc.preview[60:70, 70:90]).mean() > 1
    # unchanged pixels are transparent in the shown result: the full-res original shows there
    assert win.canvas.image_item.result_pix.hasAlphaChannel()
    assert "Edit:" in win.time_label.text() and "ms" in win.time_label.text()
    assert "UNTRAINED" in win.model_label.text() and "CPU" in win.model_label.text()
    # the style went into the gallery
    assert style_photo in win.regions_panel.gallery.paths()


def test_drop_photo_on_canvas_opens_it(qtbot, win, photo):
    vp = win.canvas.viewport()
    drop_file(vp, vp.rect().center(), photo)
    qtbot.waitUntil(lambda: win.doc.has_photo, timeout=5000)
    assert win.doc.path == photo
    assert os.path.abspath(photo) in win.files.recent_files()


def test_slider_moves_merge_and_undo(qtbot, win, photo, style_photo):
    uid = open_with_region(qtbot, win, photo, style_photo)
    doc, slider = win.doc, win.regions_panel.strength
    n = doc.undo_stack.count()
    slider.setSliderDown(True)
    for v in (90, 80, 70, 60, 50):
        slider.setValue(v)
    slider.setSliderDown(False)
    slider.sliderReleased.emit()
    assert doc.region(uid).strength == pytest.approx(0.5)
    assert doc.undo_stack.count() == n + 1, "one drag = one undo step"
    slider.setSliderDown(True)
    slider.setValue(30)
    slider.setSliderDown(False)
    slider.sliderReleased.emit()
    assert doc.undo_stack.count() == n + 2
    doc.undo_stack.undo()
    assert doc.region(uid).strength == pytest.approx(0.5)
    assert slider.value() == 50
    doc.undo_stack.undo()
    assert doc.region(uid).strength == pytest.approx(1.0)
    doc.undo_stack.redo()
    assert doc.region(uid).strength == pytest.approx(0.5)
    # the preview follows the final state
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        pass


def test_global_toggle_interpolation_and_region_ops(qtbot, win, photo, style_photo, tmp_path):
    uid = open_with_region(qtbot, win, photo, style_photo)
    doc = win.doc
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        win.controls.global_cb.setChecked(True)
    assert doc.global_transfer
    # with global transfer the far corner changes too
    assert not np.array_equal(win.previews.last_result[170:, 200:], doc.preview[170:, 200:])
    doc.undo_stack.undo()
    assert not doc.global_transfer and not win.controls.global_cb.isChecked()
    second = tmp_path / "second.png"
    make_photo(second, 200, 150, exif_make=None, seed=5)
    assert win.styles.set_second_photo(str(second))
    for what in ("style", "content"):
        win.controls.interp_what.setCurrentText(what)
        with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
            win.controls.interp_amount.setValue(60)
        assert doc.interp_amount == pytest.approx(0.6) and doc.interp_what == what
    # colour smoothing: a spin box step re-renders and is one undo step
    before = win.previews.last_result.copy()
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        win.controls.smoothing.setValue(0)
    assert doc.smoothing == 0 and not np.array_equal(win.previews.last_result, before)
    doc.undo_stack.undo()
    assert doc.smoothing == 6 and win.controls.smoothing.value() == 6
    # region interior: choosing another mode in the combo re-renders and is one undo step
    from tcp_editor.document import DEFAULT_INTERIOR_MODE

    combo = win.controls.interior
    before = win.previews.last_result.copy()
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        combo.setCurrentIndex(combo.findData("off" if DEFAULT_INTERIOR_MODE != "off" else "guided"))
    assert doc.interior != DEFAULT_INTERIOR_MODE and not np.array_equal(win.previews.last_result, before)
    doc.undo_stack.undo()
    assert doc.interior == DEFAULT_INTERIOR_MODE and combo.currentData() == DEFAULT_INTERIOR_MODE
    # rename / hide / reorder / delete, all undoable
    uid2 = doc.add_region()
    doc.rename_region(uid2, "Sky")
    assert win.regions_panel.list.item(1).text() == "Sky"
    doc.move_region(uid2, 0)
    assert [r.uid for r in doc.regions] == [uid2, uid]
    item = win.regions_panel.list.item(1)
    item.setCheckState(Qt.CheckState.Unchecked)
    assert not doc.region(uid).visible
    doc.delete_region(uid2)
    assert [r.uid for r in doc.regions] == [uid]
    for _ in range(4):
        doc.undo_stack.undo()
    assert [r.name for r in doc.regions] == [doc.region(uid).name, "Region 2"]
    assert doc.region(uid).visible


def test_mask_tools(qtbot, win, photo):
    assert win.open_path(photo)
    doc = win.doc
    uid = doc.add_region()
    r = doc.region(uid)
    win.action_map["fill"].trigger()
    assert r.mask.min() == 1
    win.action_map["invert"].trigger()
    assert r.mask.max() == 0
    # polygon lasso with real clicks, closed with a double click
    win.set_tool("lasso")
    vp = win.canvas.viewport()
    for x, y in ((40, 40), (140, 40), (140, 140)):
        qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=view_pos(win, x, y))
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=view_pos(win, 40, 140))
    qtbot.mouseDClick(vp, Qt.MouseButton.LeftButton, pos=view_pos(win, 40, 140))
    assert r.mask[90, 90] == pytest.approx(1.0) and r.mask[10, 10] == 0 and r.mask[170, 200] == 0
    before = r.mask.sum()
    win.action_map["grow"].trigger()
    assert r.mask.sum() > before
    win.action_map["shrink"].trigger()
    win.action_map["shrink"].trigger()
    assert r.mask.sum() < before
    win.action_map["feather"].trigger()
    assert 0 < r.mask[90, 40 + 8] < 1 or 0 < r.mask.ravel()[(r.mask.ravel() > 0) & (r.mask.ravel() < 1)].size
    win.action_map["clear"].trigger()
    assert r.mask.max() == 0
    # colour flood fill on the green square (preview coords: x 64..128, y 48..96)
    win.set_tool("flood")
    win.controls.tolerance.setValue(40)
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=view_pos(win, 90, 70))
    assert r.mask[70, 90] == 1 and r.mask[150, 200] == 0
    # select similar goes through the worker
    win.action_map["clear"].trigger()
    win.set_tool("similar")
    win.controls.similarity.setValue(100)  # the most tolerant: selects the most
    with qtbot.waitSignal(win.selection.selectionApplied, timeout=WAIT_MS):
        qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=view_pos(win, 90, 70))
    assert r.mask.max() > 0
    # import / export mask PNG
    mpath = str(tmp := os.path.join(os.path.dirname(photo), "mask.png"))
    m = np.zeros((240, 320), np.uint8)
    m[:, :160] = 255
    Image.fromarray(m).save(tmp)
    assert win.selection.import_mask(mpath)
    assert r.mask[100, 10] > 0.99 and r.mask[100, 250] < 0.01
    out = os.path.join(os.path.dirname(photo), "mask_out.png")
    assert win.selection.export_mask(out)
    back = np.asarray(Image.open(out))
    assert back.shape == (240, 320) and back[100, 10] == 255 and back[100, 300] == 0
    # every mask op was one undo step
    n = doc.undo_stack.count()
    doc.undo_stack.undo()
    assert doc.undo_stack.index() == n - 1


def test_export_full_res_keeps_exif_and_original(qtbot, win, photo, style_photo, tmp_path):
    open_with_region(qtbot, win, photo, style_photo)
    before = open(photo, "rb").read()
    out = str(tmp_path / "out.jpg")
    with qtbot.waitSignal(win.files.exportFinished, timeout=WAIT_MS) as blocker:
        assert win.files.export_to(out) is not None
    assert blocker.args == [out]
    im = Image.open(out)
    assert im.size == (320, 240)
    assert im.getexif().get(0x010F) == "TCPTestCam"
    assert open(photo, "rb").read() == before
    # PNG and WebP too
    for ext in (".png", ".webp"):
        with qtbot.waitSignal(win.files.exportFinished, timeout=WAIT_MS):
            win.files.export_to(str(tmp_path / f"out{ext}"))
        assert Image.open(tmp_path / f"out{ext}").size == (320, 240)
    # exporting onto the original asks first; "no" writes nothing
    dlg_calls = []
    import tcp_editor.dialogs as d

    orig_confirm = d.confirm
    d.confirm = lambda *a, **k: dlg_calls.append(a) or False
    try:
        assert win.files.export_to(photo) is None
    finally:
        d.confirm = orig_confirm
    assert dlg_calls and open(photo, "rb").read() == before


def _spy_exports(monkeypatch) -> list:
    """(photo shape, ExportConfig) of every apply_regions call from now on (render.py imports apply_regions lazily,
    from tcp_core.editing.apply, so the patched one is the one it calls)."""
    import tcp_core.editing.apply as core_apply

    seen = []
    orig = core_apply.apply_regions

    def spy(model, photo_, regions, config=None, **kw):
        seen.append((np.asarray(photo_).shape, config))
        return orig(model, photo_, regions, config, **kw)

    monkeypatch.setattr(core_apply, "apply_regions", spy)
    return seen


def _record_warm_ups(monkeypatch, svc) -> list:
    """The ExportConfig of every submit_warm call on `svc` from now on (the call still goes through)."""
    from test_gui_units import warm_export

    warm = []
    orig_warm = svc.submit_warm
    monkeypatch.setattr(svc, "submit_warm", lambda *a, **k: warm.append(warm_export(a, k)) or orig_warm(*a, **k))
    return warm


def test_export_renders_with_the_region_interior(qtbot, win, photo, style_photo, tmp_path, monkeypatch):
    """Export (File > Export) passes the document's Region interior to the full-resolution render."""
    from tcp_editor.document import INTERIOR_MODES

    open_with_region(qtbot, win, photo, style_photo)
    seen = _spy_exports(monkeypatch)
    for mode in INTERIOR_MODES:
        win.doc.set_interior(mode)
        out = str(tmp_path / f"out_{mode}.png")
        with qtbot.waitSignal(win.files.exportFinished, timeout=WAIT_MS):
            assert win.files.export_to(out) is not None
        full = [config for shape, config in seen if shape[:2] == (240, 320)]  # the export's (previews are 256 px)
        assert full, seen
        assert full[-1].interior == mode and full[-1].swap_interior is (mode != "off")


def test_export_and_preview_render_with_the_colour_priming(qtbot, win, photo, style_photo, tmp_path, monkeypatch):
    """The Colour priming spin box re-renders the preview with it, and File > Export passes the document's
    Colour priming to the full-resolution render: apply_regions' ExportConfig.priming = percent / 100."""
    from tcp_editor.document import DEFAULT_PRE_TRANSFER_PERCENT

    open_with_region(qtbot, win, photo, style_photo)
    seen = _spy_exports(monkeypatch)
    value = 80 if DEFAULT_PRE_TRANSFER_PERCENT != 80 else 20
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        win.controls.pre_transfer.setValue(value)
    # (a preview still running from before the change may be the one that signalled: the next render has the value)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][1].priming == pytest.approx(value / 100), timeout=WAIT_MS)
    assert win.doc.pre_transfer == value
    win.doc.undo_stack.undo()
    assert win.doc.pre_transfer == DEFAULT_PRE_TRANSFER_PERCENT
    assert win.controls.pre_transfer.value() == DEFAULT_PRE_TRANSFER_PERCENT
    # the warm-up (brushing before a style is chosen) prepares the preview with the same priming
    warm = _record_warm_ups(monkeypatch, win.styles.service)
    win.doc.set_pre_transfer(value)
    assert win.styles.request_warm() is not None and warm and warm[-1].priming == pytest.approx(value / 100)
    win.doc.undo_stack.undo()
    for percent in (0, value):
        win.doc.set_pre_transfer(percent)
        out = str(tmp_path / f"out_{percent}.png")
        with qtbot.waitSignal(win.files.exportFinished, timeout=WAIT_MS):
            assert win.files.export_to(out) is not None
        full = [config for shape, config in seen if shape[:2] == (240, 320)]  # the export's (previews are 256 px)
        assert full, seen
        assert full[-1].priming == pytest.approx(percent / 100)


def test_export_preview_and_warm_up_use_the_mask_edge(qtbot, win, photo, style_photo, tmp_path, monkeypatch):
    """The Mask edge combo re-renders the preview with it; File > Export and the warm-up pass the document's Mask
    edge on: apply_regions' ExportConfig.edge (inside: edge == "inside")."""

    open_with_region(qtbot, win, photo, style_photo)
    seen = _spy_exports(monkeypatch)
    before = win.previews.last_result.copy()
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        win.controls.edge.setCurrentIndex(win.controls.edge.findData("inside"))
    # (a preview still running from before the change may be the one that signalled: the next render has the edge)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1][1].edge == "inside" and seen[-1][1].inside
                    and not np.array_equal(win.previews.last_result, before), timeout=WAIT_MS)
    assert win.doc.edge == "inside"
    warm = _record_warm_ups(monkeypatch, win.styles.service)
    assert win.styles.request_warm() is not None and warm and warm[-1].edge == "inside"
    for edge in ("across", "inside"):
        win.doc.set_edge(edge)
        out = str(tmp_path / f"out_{edge}.png")
        with qtbot.waitSignal(win.files.exportFinished, timeout=WAIT_MS):
            assert win.files.export_to(out) is not None
        full = [config for shape, config in seen if shape[:2] == (240, 320)]  # the export's (previews are 256 px)
        assert full, seen
        assert full[-1].edge == edge and full[-1].inside is (edge == "inside")


def test_priming_stretches_and_sky_grain_guard_reach_preview_warm_up_and_export(qtbot, win, photo, style_photo,
                                                                                tmp_path, monkeypatch):
    """The Transfer panel's "Priming stretches" and "Sky grain guard" combos: choosing an item changes the document
    (one undo step each) and re-renders the preview with it; undo brings the combo back; the warm-up and File >
    Export pass the document's values on (apply_regions' ExportConfig.priming_spread / .detail_gain, 0 as None: no
    cap)."""
    from tcp_editor.document import DEFAULT_DETAIL_GAIN

    open_with_region(qtbot, win, photo, style_photo)
    doc, controls = win.doc, win.controls
    seen = _spy_exports(monkeypatch)
    assert doc.priming_spread == "detail" and controls.priming_spread.currentData() == "detail"
    assert doc.detail_gain == DEFAULT_DETAIL_GAIN and controls.detail_gain.currentText() == "On"
    n = doc.undo_stack.count()
    controls.priming_spread.setCurrentIndex(controls.priming_spread.findData("all"))
    controls.detail_gain.setCurrentIndex(controls.detail_gain.findText("Off"))
    assert doc.priming_spread == "all" and doc.detail_gain == 0.0 and doc.undo_stack.count() == n + 2
    # (a preview still running from before the change may finish first: wait for one rendered with both)
    qtbot.waitUntil(lambda: any(c.priming_spread == "all" and c.detail_gain is None for _, c in seen),
                    timeout=WAIT_MS)
    warm = _record_warm_ups(monkeypatch, win.styles.service)
    assert win.styles.request_warm() is not None and (warm[-1].priming_spread, warm[-1].detail_gain) == ("all", None)
    out = str(tmp_path / "out_all_off.png")
    with qtbot.waitSignal(win.files.exportFinished, timeout=WAIT_MS):
        assert win.files.export_to(out) is not None
    full = [config for shape, config in seen if shape[:2] == (240, 320)]  # the export's (previews are 256 px)
    assert full and full[-1].priming_spread == "all" and full[-1].detail_gain is None
    doc.undo_stack.undo()
    assert doc.detail_gain == DEFAULT_DETAIL_GAIN and controls.detail_gain.currentText() == "On"
    doc.undo_stack.undo()
    assert doc.priming_spread == "detail" and controls.priming_spread.currentData() == "detail"
    out = str(tmp_path / "out_defaults.png")
    with qtbot.waitSignal(win.files.exportFinished, timeout=WAIT_MS):
        assert win.files.export_to(out) is not None
    full = [config for shape, config in seen if shape[:2] == (240, 320)]
    assert full[-1].priming_spread == "detail" and full[-1].detail_gain == DEFAULT_DETAIL_GAIN


def test_export_never_writes_onto_a_style_reference(qtbot, win, photo, style_photo, tmp_path):
    """The Export dialog protects every file the edit reads, not only the original photo: a name
    that is the region's style reference is refused up front with a message, nothing is written,
    even when the user has agreed to replace the original."""
    open_with_region(qtbot, win, photo, style_photo)
    before = open(style_photo, "rb").read()
    errors = []
    import tcp_editor.dialogs as d

    orig_error, orig_confirm = d.error, d.confirm
    d.error = lambda parent, title, text, details="": errors.append(text)
    d.confirm = lambda *a, **k: True
    try:
        assert win.files.export_to(style_photo) is None
    finally:
        d.error, d.confirm = orig_error, orig_confirm
    assert errors and "style reference" in errors[0]
    assert open(style_photo, "rb").read() == before


def test_project_round_trip(qtbot, win, photo, style_photo, tmp_path):
    uid = open_with_region(qtbot, win, photo, style_photo)
    doc = win.doc
    doc.set_strength(uid, 0.4)
    doc.rename_region(uid, "Left")
    uid2 = doc.add_region()
    doc.apply_mask(uid2, np.pad(np.ones((20, 20), np.float32), ((10, 162), (200, 36))))
    doc.set_region_visible(uid2, False)
    doc.set_strength(uid2, 1.3)  # above 100 %
    doc.set_global_transfer(True)
    doc.set_smoothing(11)
    from tcp_editor.document import DEFAULT_INTERIOR_MODE, INTERIOR_MODES

    interior = next(m for m in INTERIOR_MODES if m != DEFAULT_INTERIOR_MODE)
    doc.set_interior(interior)
    from tcp_editor.document import DEFAULT_PRE_TRANSFER_PERCENT

    priming = 70 if DEFAULT_PRE_TRANSFER_PERCENT != 70 else 30
    doc.set_pre_transfer(priming)
    doc.set_edge("inside")
    doc.set_region_priming(uid, 85)
    doc.set_priming_profile("global")
    doc.set_priming_spread("all")
    doc.set_detail_gain(0.0)
    doc.set_priming_highlights("plain")  # (no control: a fix, not a choice)
    path = str(tmp_path / "p.tcpproj")
    assert win.files.save_project(path)
    assert doc.undo_stack.isClean()
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
    assert {"project.json", "photo.png", "photo.exif", "masks/0.png", "masks/1.png", "styles/0.png"} <= names
    masks = [r.mask.copy() for r in doc.regions]
    # open something else, then reopen the project
    other = tmp_path / "other.png"
    make_photo(other, 200, 100, seed=9)
    assert win.open_path(str(other))
    assert win.doc.regions == [] and win.doc.pre_transfer == DEFAULT_PRE_TRANSFER_PERCENT and win.doc.edge == "across"
    assert win.doc.priming_spread == "detail" and win.controls.priming_spread.currentData() == "detail"
    assert win.doc.detail_gain > 0 and win.controls.detail_gain.currentText() == "On"
    assert win.doc.priming_highlights == "neutral"
    assert win.open_path(path)
    doc = win.doc
    assert [r.name for r in doc.regions] == ["Left", "Region 2"]
    assert [r.visible for r in doc.regions] == [True, False]
    assert doc.regions[0].strength == pytest.approx(0.4) and doc.regions[1].strength == pytest.approx(1.3)
    assert doc.global_transfer and doc.smoothing == 11 and doc.interior == interior
    assert win.controls.interior.currentData() == interior
    assert doc.pre_transfer == priming and win.controls.pre_transfer.value() == priming
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("project.json"))
    assert meta["interior"] == interior and meta["pre_transfer"] == priming and meta["edge"] == "inside"
    assert doc.edge == "inside" and win.controls.edge.currentData() == "inside"
    assert [r.priming for r in doc.regions] == [85, None] and [e["priming"] for e in meta["regions"]] == [85, None]
    assert doc.priming_profile == meta["priming_profile"] == "global"
    assert win.controls.priming_profile.currentData() == "global"
    assert doc.priming_spread == meta["priming_spread"] == "all" and win.controls.priming_spread.currentData() == "all"
    assert doc.detail_gain == meta["detail_gain"] == 0.0 and win.controls.detail_gain.currentText() == "Off"
    assert doc.priming_highlights == meta["priming_highlights"] == "plain"
    export = doc.render_state().export  # the reopened project renders with what it was saved with
    assert (export.priming_highlights, export.priming_spread, export.detail_gain) == ("plain", "all", None)
    assert (export.interior, export.edge, export.priming_profile) == (interior, "inside", "global")
    assert export.priming == pytest.approx(priming / 100) and export.smoothing == 11
    assert doc.regions[0].style is not None and doc.regions[0].style.path == style_photo
    for a, b in zip(masks, [r.mask for r in doc.regions]):
        assert np.abs(a - b).max() < 1e-4
    assert doc.photo.shape == (240, 320, 3) and doc.exif is not None and doc.path == photo


@pytest.mark.parametrize("kind", ["corrupt", "not_image", "huge", "missing", "bad_project"])
def test_bad_files_show_error_and_window_keeps_working(qtbot, win, dlg, photo, tmp_path, kind):
    assert win.open_path(photo)
    if kind == "corrupt":
        data = open(photo, "rb").read()
        bad = tmp_path / "corrupt.jpg"
        bad.write_bytes(data[: len(data) // 3])
    elif kind == "not_image":
        bad = tmp_path / "notes.png"
        bad.write_text("this is not an image\n" * 50)
    elif kind == "huge":
        win.files.max_pixels = win.styles.max_pixels = 100_000
        bad = tmp_path / "huge.png"
        Image.new("RGB", (500, 400), (10, 20, 30)).save(bad)
    elif kind == "missing":
        bad = tmp_path / "nope.jpg"
    else:
        bad = tmp_path / "bad.tcpproj"
        with zipfile.ZipFile(bad, "w") as z:
            z.writestr("project.json", '{"format": "tcpproj", "version": 1, "photo": {"file": "photo.png"}}')
    assert not win.open_path(str(bad))
    assert len(dlg.errors) == 1, dlg.errors
    title, text = dlg.errors[0]
    assert "Cannot open" in title and text
    # a bad style photo also just shows an error
    uid = win.doc.add_region()
    assert not win.styles.set_region_style_from_path(uid, str(bad))
    assert len(dlg.errors) == 2
    # the window still works: the old photo is still open and editable
    assert win.doc.path == photo
    win.set_tool("brush")
    paint_stroke(qtbot, win, [(100, 100), (110, 100)])
    assert win.doc.region(uid).mask[100, 105] > 0.5


def test_inference_error_dialog_keeps_document(qtbot, win, dlg, photo, style_photo, service):
    uid = open_with_region(qtbot, win, photo, style_photo)
    good = win.previews.last_result.copy()
    mask_before = win.doc.region(uid).mask.copy()

    class Broken:
        device_name = "cpu"
        device_description = "CPU"
        source = "broken"

        def __getattr__(self, name):
            raise RuntimeError("simulated out-of-memory in the network")

    real_model, real_info = service.worker.model, service.worker.info
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(Broken())
    try:
        with qtbot.waitSignal(service.signals.failed, timeout=WAIT_MS):
            win.doc.set_strength(uid, 0.3)
        qtbot.waitUntil(lambda: len(dlg.errors) == 1, timeout=5000)
        assert "simulated out-of-memory" in dlg.errors[0][1]
        assert np.array_equal(win.previews.last_result, good)
        assert np.array_equal(win.doc.region(uid).mask, mask_before)
        assert win.doc.region(uid).strength == pytest.approx(0.3)
    finally:
        with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
            service.set_model(real_model, real_info)
    # a failing model load keeps the old model and reports clearly
    with qtbot.waitSignal(service.signals.modelFailed, timeout=WAIT_MS):
        win.models.load(os.path.join(os.path.dirname(photo), "missing.safetensors"), "cpu")
    qtbot.waitUntil(lambda: any("Could not load the model" in t for t, _ in dlg.errors), timeout=5000)
    # asking for a device that is not there (no CUDA here) also keeps the working model and menu
    import torch

    if not torch.cuda.is_available():
        with qtbot.waitSignal(service.signals.modelFailed, timeout=WAIT_MS):
            win.models.set_device("cuda")
        qtbot.waitUntil(lambda: win.models.device != "cuda", timeout=5000)
        checked = [a.text() for a in win.models.device_group.actions() if a.isChecked()]
        assert checked == [win.models.device.upper()]
    assert service.worker.model is real_model
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        win.doc.set_strength(uid, 0.8)


def test_before_after_and_view(qtbot, win, photo, style_photo):
    open_with_region(qtbot, win, photo, style_photo)
    c = win.canvas
    qtbot.keyPress(c, Qt.Key.Key_Backslash)
    assert c.image_item.show_original
    qtbot.keyRelease(c, Qt.Key.Key_Backslash)
    assert not c.image_item.show_original
    win.split_slider.setValue(30)
    assert win.action_map["split"].isChecked() and c.image_item.split == pytest.approx(0.3)
    win.action_map["split"].setChecked(False)
    assert c.image_item.split is None
    win.action_map["zoom_100"].trigger()
    assert c.zoom_percent() == pytest.approx(100.0, rel=1e-3)
    z = c.transform().m11()
    from PySide6.QtGui import QWheelEvent

    vp = c.viewport()
    pos = QPointF(vp.width() / 2, vp.height() / 2)
    ev = QWheelEvent(pos, c.mapToGlobal(pos.toPoint()).toPointF(), QPoint(0, 0), QPoint(0, 240),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)
    assert c.transform().m11() > z
    win.action_map["fit"].trigger()
    size = c.brush_size
    qtbot.keyClick(c, Qt.Key.Key_BracketRight)
    assert c.brush_size > size
    qtbot.keyClick(c, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(c, Qt.Key.Key_BracketLeft)
    assert c.brush_size < size
    # middle-button pan moves the view
    c.zoom_by(4)
    h0 = c.horizontalScrollBar().value()
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=QPoint(200, 200))
    qtbot.mouseMove(vp, pos=QPoint(150, 200))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=QPoint(150, 200))
    assert c.horizontalScrollBar().value() != h0


def _qobjects_held_by(fn) -> list:
    """The Qt objects a function's closure holds, directly or through a bound method's `self`."""
    from PySide6.QtCore import QObject

    held = []
    for cell in fn.__closure__ or ():
        v = cell.cell_contents
        for x in (v, getattr(v, "__self__", None)):
            if isinstance(x, QObject):
                held.append(type(x).__name__)
    return held


def test_background_writes_hold_no_qt_object_and_a_failed_autosave_is_retried(qtbot, win, photo, monkeypatch):
    """The photo's encode after opening and the autosave's write run on Python threads: they must hold plain objects
    only (a Qt object whose last reference a background thread dropped would be destroyed on that thread). A write
    that fails leaves the change unsaved, so the next autosave writes again."""
    import threading

    started = []
    real_thread = threading.Thread

    def spy(*a, target=None, **k):
        started.append((k.get("name"), target))
        return real_thread(*a, target=target, **k)

    monkeypatch.setattr(threading, "Thread", spy)
    assert win.open_path(photo)
    uid = win.doc.add_region()
    win.doc.apply_mask(uid, np.ones(win.doc.preview_shape, np.float32))
    real_write = project.write
    monkeypatch.setattr(project, "write", lambda path, snap: (_ for _ in ()).throw(OSError("disk full")))
    assert win.autosave.save_now(wait=True)
    assert not os.path.exists(win.autosave.path)
    names = [n for n, _ in started]
    assert "tcp-photo-png" in names and "tcp-autosave" in names, names
    for name, target in started:
        assert _qobjects_held_by(target) == [], (name, _qobjects_held_by(target))
    monkeypatch.setattr(project, "write", real_write)
    assert win.autosave.save_now(wait=True), "a failed autosave is written again"
    assert os.path.isfile(win.autosave.path)
    assert not win.autosave.save_now()  # and then nothing is left to write


def test_autosave_and_restore(qtbot, tmp_path, service, dlg, photo, style_photo):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    adir = str(tmp_path / "auto")
    w = MainWindow(service=service, settings=settings, autosave_dir=adir, autosave_interval_s=3600,
                   preview_long_side=256)
    qtbot.addWidget(w)
    assert w.open_path(photo)
    uid = w.doc.add_region()
    w.doc.apply_mask(uid, np.ones(w.doc.preview_shape, np.float32))
    assert w.autosave.save_now(wait=True)
    assert os.path.isfile(w.autosave.path)
    assert not w.autosave.save_now()  # nothing changed since
    # simulate a crash: no clean exit recorded; a new window offers to restore
    w2 = MainWindow(service=service, settings=settings, autosave_dir=adir, autosave_interval_s=3600,
                    preview_long_side=256)
    qtbot.addWidget(w2)
    assert w2.autosave.check()
    assert len(w2.doc.regions) == 1 and w2.doc.regions[0].mask.min() == 1
    # a clean exit removes the autosave and records the time
    dlg.save_changes_answer = "discard"
    w2.close()
    w.doc.undo_stack.setClean()
    w.close()
    assert not os.path.exists(os.path.join(adir, "autosave.tcpproj"))
    assert float(settings.value("session/clean_exit")) > 0


def test_project_validation_errors(tmp_path):
    bad = tmp_path / "x.tcpproj"
    bad.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(project.ProjectError, match="not a valid zip"):
        project.load(str(bad))
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("project.json", "{not json")
    with pytest.raises(project.ProjectError, match="not valid JSON"):
        project.load(str(bad))
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("project.json", '{"format": "tcpproj", "version": 99}')
    with pytest.raises(project.ProjectError, match="newer"):
        project.load(str(bad))
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("project.json", '{"format": "other"}')
    with pytest.raises(project.ProjectError, match="does not describe"):
        project.load(str(bad))


def test_gallery_drag_and_region_buttons(qtbot, win, photo):
    assert win.open_path(photo)
    gallery = win.regions_panel.gallery
    assert gallery.count() >= 3, "bundled styles are in the gallery"
    mime = gallery.mimeData([gallery.item(0)])
    assert [u.toLocalFile() for u in mime.urls()] == [gallery.item(0).data(Qt.ItemDataRole.UserRole + 1)]
    panel = win.regions_panel
    qtbot.mouseClick(panel.add_btn, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.add_btn, Qt.MouseButton.LeftButton)
    a, b = (r.uid for r in win.doc.regions)
    assert win.doc.active_uid == b
    # the gallery's drag payload dropped on the first row sets that region's style
    lst = panel.list
    path = mime.urls()[0].toLocalFile()
    _ev, _m = drop_file(lst.viewport(), region_row_pos(win, 0), path)
    qtbot.waitUntil(lambda: win.doc.region(a).style is not None, timeout=5000)
    assert win.doc.region(a).style.path == path and win.doc.region(b).style is None
    qtbot.mouseClick(panel.up_btn, Qt.MouseButton.LeftButton)
    assert [r.uid for r in win.doc.regions] == [b, a]
    qtbot.mouseClick(panel.down_btn, Qt.MouseButton.LeftButton)
    assert [r.uid for r in win.doc.regions] == [a, b]
    qtbot.mouseClick(panel.del_btn, Qt.MouseButton.LeftButton)
    assert [r.uid for r in win.doc.regions] == [a]
    # double-clicking a gallery item styles the active region
    lst.setCurrentRow(0)
    gallery.styleActivated.emit(gallery.item(1).data(Qt.ItemDataRole.UserRole + 1))
    assert win.doc.region(a).style.path == gallery.item(1).data(Qt.ItemDataRole.UserRole + 1)


def test_dark_palette_when_asked():
    from PySide6.QtGui import QPalette

    from tcp_editor.theme import apply_theme

    app = QApplication.instance()
    old_pal, old_style = app.palette(), app.style().name()
    try:
        assert apply_theme(app, dark=True)
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 100
        assert app.style().name().lower() == "fusion"
    finally:
        app.setPalette(old_pal)
        app.setStyle(old_style)


def test_progressive_preview_refines_small_regions(qtbot, win, photo, style_photo, service, monkeypatch):
    sent, applied = [], []
    orig = service.submit_render

    def spy(state, crop=True, keyframe_step=None):
        rid = orig(state, crop=crop, keyframe_step=keyframe_step)
        sent.append((rid, crop))
        return rid

    monkeypatch.setattr(service, "submit_render", spy)
    win.previewApplied.connect(lambda rid, ms: applied.append(rid))
    open_with_region(qtbot, win, photo, style_photo)  # a small brushed region
    # first the fast whole-photo preview, then (when idle) the export's crop pipeline
    qtbot.waitUntil(lambda: any(crop and rid in applied for rid, crop in sent), timeout=WAIT_MS)
    assert sent[0][1] is False and sent[-1][1] is True
    n = len(sent)
    qtbot.wait(1000)
    assert len(sent) == n, "no refine loop"


def slider_handle_center(slider) -> QPoint:
    from PySide6.QtWidgets import QStyle, QStyleOptionSlider

    opt = QStyleOptionSlider()
    slider.initStyleOption(opt)
    rect = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                         QStyle.SubControl.SC_SliderHandle, slider)
    return rect.center()


def test_strength_drag_previews_key_frames_then_exact(qtbot, win, photo, style_photo, service, monkeypatch):
    """While the strength slider is held (a real mouse drag), previews use the key-frame path
    (keyframe_step set); the release brings one exact preview (keyframe_step None) on screen."""
    from PySide6.QtTest import QTest

    sent, applied = [], []
    orig = service.submit_render

    def spy(state, crop=True, keyframe_step=None):
        rid = orig(state, crop=crop, keyframe_step=keyframe_step)
        sent.append((rid, keyframe_step, state.regions[0].strength if state.regions else None))
        return rid

    monkeypatch.setattr(service, "submit_render", spy)
    win.previews.progressive = False  # one request per state: easier to follow
    win.previewApplied.connect(lambda rid, ms: applied.append(rid))
    uid = open_with_region(qtbot, win, photo, style_photo)
    slider = win.regions_panel.strength
    start = slider_handle_center(slider)
    n0 = len(sent)
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    assert slider.isSliderDown()
    for dx in (-10, -25, -40, -60):
        QTest.mouseMove(slider, QPoint(start.x() + dx, start.y()))
        qtbot.wait(60)
    qtbot.waitUntil(lambda: any(k is not None and rid in applied for rid, k, _ in sent[n0:]), timeout=WAIT_MS)
    during = sent[n0:]
    assert during and all(k == pytest.approx(0.25) for _, k, _ in during), during
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(start.x() - 60, start.y()))
    final = win.doc.region(uid).strength
    assert final < 1.0
    qtbot.waitUntil(lambda: any(k is None and s == pytest.approx(final) and rid in applied
                                for rid, k, s in sent[n0:]), timeout=WAIT_MS)
    last_rid, last_k, _ = sent[-1]
    assert last_k is None, "the last preview after the release is exact"
    # the exact preview on screen is the export pipeline's result for the final strength
    qtbot.waitUntil(lambda: win.previews.in_flight is None, timeout=WAIT_MS)
    assert win.previews.last_result is not None


def test_strength_slider_goes_past_100_percent(qtbot, win, photo, style_photo, service, monkeypatch):
    """A new region starts at 100 % (the reference's style), two thirds along the slider; dragging it
    to the right end asks for more of the reference's look, up to MAX_STRENGTH, and that strength
    is what the preview renders."""
    from PySide6.QtTest import QTest

    from tcp_editor.document import MAX_STRENGTH

    sent = []
    orig = service.submit_render

    def spy(state, crop=True, keyframe_step=None):
        rid = orig(state, crop=crop, keyframe_step=keyframe_step)
        sent.append((keyframe_step, state.regions[0].strength if state.regions else None))
        return rid

    monkeypatch.setattr(service, "submit_render", spy)
    uid = open_with_region(qtbot, win, photo, style_photo)
    slider, label = win.regions_panel.strength, win.regions_panel.strength_label
    assert slider.value() == 100 and slider.maximum() == round(MAX_STRENGTH * 100) and label.text() == "100%"
    start = slider_handle_center(slider)
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(slider, QPoint(slider.width() + 20, start.y()))
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(slider.width() + 20, start.y()))
    assert win.doc.region(uid).strength == pytest.approx(MAX_STRENGTH)
    assert label.text() == f"{round(MAX_STRENGTH * 100)}%"
    qtbot.waitUntil(lambda: any(k is None and s == pytest.approx(MAX_STRENGTH) for k, s in sent), timeout=WAIT_MS)
    win.doc.undo_stack.undo()
    assert win.doc.region(uid).strength == pytest.approx(1.0) and slider.value() == 100


def test_photo_is_encoded_for_projects_in_the_background(qtbot, win, photo, tmp_path, monkeypatch):
    """Opening a photo encodes it for project files off the GUI thread; Save then reuses it."""
    assert win.open_path(photo)
    qtbot.waitUntil(lambda: project.photo_png_cache(win.doc).png is not None, timeout=WAIT_MS)
    assert project.photo_png_cache(win.doc).photo is win.doc.photo

    def no_encode(_):
        raise AssertionError("Save encoded the photo again in the GUI thread")

    monkeypatch.setattr(project, "encode_photo", no_encode)
    out = tmp_path / "p.tcpproj"
    assert win.files.save_project(str(out))
    snap = project.load(str(out))
    assert np.array_equal(snap.photo, win.doc.photo)
