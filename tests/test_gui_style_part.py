"""Style from part of the reference (issue #13): the Style part dialog, its undo steps, the preview
and export with a real tiny model, projects (with and without the new member)."""

# ruff: noqa: F811 - the fixtures imported from test_gui_editor are used as test arguments

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialogButtonBox  # noqa: E402
from test_gui_editor import (  # noqa: E402,F401 - fixtures and helpers shared with the main GUI tests
    WAIT_MS,
    dlg,
    make_photo,
    paint_stroke,
    photo,
    service,
    win,
)

from tcp_editor import project  # noqa: E402


@pytest.fixture
def two_part_style(tmp_path):
    """A reference whose top (sky blue, smooth) and bottom (dark red, noisy) halves differ a lot."""
    rng = np.random.default_rng(5)
    arr = np.zeros((96, 128, 3), np.uint8)
    arr[:48] = (90, 150, 250)
    arr[48:] = np.clip(np.array([150, 30, 20]) + rng.integers(-40, 41, (48, 128, 3)), 0, 255)
    p = tmp_path / "two_part.png"
    Image.fromarray(arr).save(p)
    return str(p)


@pytest.fixture
def other_style(tmp_path):
    p = tmp_path / "other.png"
    Image.fromarray(np.full((64, 64, 3), (40, 200, 60), np.uint8)).save(p)
    return str(p)


def _preview(qtbot, win, change):
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        change()
    return win.previews.last_result.copy()


def _open(qtbot, win, photo, style):
    win.previews.progressive = False  # one preview per change: results compare exactly
    assert win.open_path(photo)
    win.set_tool("brush")
    win.canvas.set_brush_size(40)
    paint_stroke(qtbot, win, [(60, 80), (120, 90), (180, 100)])
    uid = win.doc.active_uid
    whole = _preview(qtbot, win, lambda: win.styles.set_region_style_from_path(uid, style))
    return uid, whole


def _brush_top_half(qtbot, dialog):
    c = dialog.canvas
    dialog.size.setValue(20)
    for y in (8, 24, 40):
        qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=c.to_widget(4, y).toPoint())
        for x in (40, 80, 124):
            qtbot.mouseMove(c, pos=c.to_widget(x, y).toPoint())
        qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=c.to_widget(124, y).toPoint())


def _ok(qtbot, dialog):
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


def test_style_part_dialog_reaches_the_preview_and_undoes(qtbot, win, photo, two_part_style, monkeypatch):
    uid, whole = _open(qtbot, win, photo, two_part_style)
    rp = win.regions_panel
    assert rp.part_btn.isEnabled() and not rp.part_clear_btn.isEnabled()
    assert "whole" in rp.part_label.text()
    seen = []
    import tcp_core.editing.apply as core_apply  # render.py imports apply_regions lazily, from here

    orig = core_apply.apply_regions
    monkeypatch.setattr(core_apply, "apply_regions",
                        lambda model, photo_, regions, **kw: seen.append(list(regions))
                        or orig(model, photo_, regions, **kw))

    qtbot.mouseClick(rp.part_btn, Qt.MouseButton.LeftButton)  # the Regions panel's "Style part…"
    dialog = win.styles.style_part
    assert dialog is not None and dialog.isVisible()
    _brush_top_half(qtbot, dialog)
    m = dialog.canvas.mask
    assert m.shape == (96, 128)
    assert m[:40].mean() > 0.5 and m[60:].max() == 0.0  # the brushed part: the sky only
    depth = win.doc.undo_stack.count()
    part = _preview(qtbot, win, lambda: _ok(qtbot, dialog))
    assert win.styles.style_part is None  # closed (and deleted)
    r = win.doc.region(uid)
    assert r.style_mask is not None and r.style_mask.shape == r.style.image.shape[:2]
    assert win.doc.undo_stack.count() == depth + 1
    assert win.doc.undo_stack.undoText() == "Set style part"
    # the style mask reached apply_regions, at the style photo's size
    # (a warm-up's stand-in preview, without the region's style part, may run after it: look at all calls)
    with_part = [c[0] for c in seen if c[0].style_mask is not None]
    assert with_part, [c[0] for c in seen]
    assert with_part[-1].style_mask.shape == (96, 128)
    # the sky's style gives another edit than the whole reference's average
    diff = np.abs(part.astype(int) - whole.astype(int))
    assert diff.max() > 20, diff.max()
    assert "brushed part" in rp.part_label.text() and rp.part_clear_btn.isEnabled()
    assert "brushed part" in rp.list.item(0).toolTip()

    # undo / redo (one step each)
    back = _preview(qtbot, win, win.doc.undo_stack.undo)
    assert win.doc.region(uid).style_mask is None
    assert seen[-1][0].style_mask is None  # without a style mask: the whole reference
    assert np.abs(back.astype(int) - whole.astype(int)).max() <= 1
    again = _preview(qtbot, win, win.doc.undo_stack.redo)
    assert win.doc.region(uid).style_mask is not None
    assert np.abs(again.astype(int) - part.astype(int)).max() <= 1

    # "Whole" clears it as one undo step
    _preview(qtbot, win, lambda: qtbot.mouseClick(rp.part_clear_btn, Qt.MouseButton.LeftButton))
    assert win.doc.region(uid).style_mask is None and win.doc.undo_stack.undoText() == "Clear style part"
    _preview(qtbot, win, win.doc.undo_stack.undo)
    assert win.doc.region(uid).style_mask is not None


def test_cancel_and_empty_part(qtbot, win, photo, two_part_style):
    uid, _ = _open(qtbot, win, photo, two_part_style)
    depth = win.doc.undo_stack.count()
    dialog = win.styles.style_part_dialog()
    _brush_top_half(qtbot, dialog)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert win.doc.region(uid).style_mask is None and win.doc.undo_stack.count() == depth
    # an erased-away part is no part: OK changes nothing
    dialog = win.styles.style_part_dialog()
    _brush_top_half(qtbot, dialog)
    dialog.erase_btn.click()
    _brush_top_half(qtbot, dialog)
    qtbot.mouseClick(dialog.clear_btn, Qt.MouseButton.LeftButton)
    assert dialog.style_mask() is None and "whole" in dialog.status.text()
    _ok(qtbot, dialog)
    assert win.doc.region(uid).style_mask is None and win.doc.undo_stack.count() == depth
    # the dialog starts from the region's current part
    mask = np.zeros((96, 128), np.float32)
    mask[:30] = 1.0
    assert win.doc.set_style_mask(uid, mask)
    dialog = win.styles.style_part_dialog()
    assert np.array_equal(dialog.canvas.mask, mask)
    dialog.reject()


def test_a_new_style_clears_the_part_in_the_same_undo_step(qtbot, win, photo, two_part_style, other_style):
    uid, _ = _open(qtbot, win, photo, two_part_style)
    doc = win.doc
    mask = np.zeros((96, 128), np.float32)
    mask[:40] = 1.0
    _preview(qtbot, win, lambda: doc.set_style_mask(uid, mask))
    old_style = doc.region(uid).style
    depth = doc.undo_stack.count()
    _preview(qtbot, win, lambda: win.styles.set_region_style_from_path(uid, other_style))
    assert doc.region(uid).style is not old_style and doc.region(uid).style_mask is None
    assert doc.undo_stack.count() == depth + 1
    assert not win.regions_panel.part_clear_btn.isEnabled()
    _preview(qtbot, win, doc.undo_stack.undo)
    assert doc.region(uid).style is old_style and np.array_equal(doc.region(uid).style_mask, mask)
    _preview(qtbot, win, doc.undo_stack.redo)
    assert doc.region(uid).style_mask is None
    # a style mask must fit its style; none can be set without a style
    with pytest.raises(ValueError):
        doc.set_style_mask(doc.add_region(), mask)


def test_export_uses_the_style_part(qtbot, win, photo, two_part_style, tmp_path):
    uid, _ = _open(qtbot, win, photo, two_part_style)
    outs = []
    for name in ("whole.png", "part.png"):
        if name == "part.png":
            mask = np.zeros((96, 128), np.float32)
            mask[:40] = 1.0
            _preview(qtbot, win, lambda mask=mask: win.doc.set_style_mask(uid, mask))
        with qtbot.waitSignal(win.files.exportFinished, timeout=WAIT_MS):
            win.files.export_to(str(tmp_path / name))
        outs.append(np.asarray(Image.open(tmp_path / name).convert("RGB")).astype(int))
    assert np.abs(outs[0] - outs[1]).max() > 20


def test_project_round_trip_with_and_without_style_part(qtbot, win, photo, two_part_style, tmp_path):
    uid, _ = _open(qtbot, win, photo, two_part_style)
    doc = win.doc
    mask = np.zeros((96, 128), np.float32)
    mask[:40] = 1.0
    mask[40:44] = 0.25
    doc.set_style_mask(uid, mask)
    uid2 = doc.add_region()  # a second region with a style but no part
    doc.apply_mask(uid2, np.pad(np.ones((20, 20), np.float32), ((10, 162), (200, 36))))
    win.styles.set_region_style_from_path(uid2, two_part_style)
    path = str(tmp_path / "p.tcpproj")
    assert win.files.save_project(path)
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        meta = json.loads(z.read("project.json"))
    assert "style_masks/0.png" in names and "style_masks/1.png" not in names
    assert meta["regions"][0]["style_mask"] == "style_masks/0.png" and "style_mask" not in meta["regions"][1]
    other = tmp_path / "other.png"
    make_photo(other, 200, 100, seed=9)
    assert win.open_path(str(other))
    assert win.open_path(path)
    r0, r1 = win.doc.regions
    assert r0.style_mask is not None and np.abs(r0.style_mask - mask).max() < 1e-4
    assert r1.style_mask is None
    assert "brushed part" in win.regions_panel.part_label.text() or win.doc.active_uid != r0.uid
    # undoable after loading too
    win.doc.set_active(r0.uid)
    assert win.styles.clear_style_part() and win.doc.region(r0.uid).style_mask is None

    # an old project (no style_mask entry, no member) loads as before
    old = str(tmp_path / "old.tcpproj")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for info in src.infolist():
            if info.filename.startswith("style_masks/"):
                continue
            data = src.read(info.filename)
            if info.filename == "project.json":
                m = json.loads(data)
                for e in m["regions"]:
                    e.pop("style_mask", None)
                data = json.dumps(m).encode()
            dst.writestr(info, data)
    snap = project.load(old)
    assert [r.style_mask for r in snap.regions] == [None, None]
    assert snap.regions[0].style is not None


def _rewrite(src_path, dst_path, edit_meta, extra=()):
    with zipfile.ZipFile(src_path) as src, zipfile.ZipFile(dst_path, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "project.json":
                m = json.loads(data)
                edit_meta(m)
                data = json.dumps(m).encode()
            dst.writestr(info, data)
        for name, data in extra:
            dst.writestr(name, data)


def test_style_part_members_are_bounded_and_checked(qtbot, win, photo, two_part_style, tmp_path):
    import io

    uid, _ = _open(qtbot, win, photo, two_part_style)
    mask = np.zeros((96, 128), np.float32)
    mask[:40] = 1.0
    win.doc.set_style_mask(uid, mask)
    path = str(tmp_path / "p.tcpproj")
    assert win.files.save_project(path)

    def png(arr):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        return buf.getvalue()

    cases = {
        # larger than any style photo the editor stores
        "huge": (lambda m: m["regions"][0].update(style_mask="big.png"),
                 [("big.png", png(np.zeros((8, 1100), np.uint8)))], "larger than"),
        # missing member
        "missing": (lambda m: m["regions"][0].update(style_mask="nope.png"), [], "missing"),
        # another shape than its style photo
        "shape": (lambda m: m["regions"][0].update(style_mask="tall.png"),
                  [("tall.png", png(np.full((128, 40), 255, np.uint8)))], "does not fit"),
        # a part without a style photo
        "no_style": (lambda m: m["regions"][0].update(style=None), [], "no style photo"),
        "not_png": (lambda m: m["regions"][0].update(style_mask="photo.exif"), [], "not a PNG"),
    }
    for name, (edit, extra, message) in cases.items():
        bad = str(tmp_path / f"{name}.tcpproj")
        _rewrite(path, bad, edit, extra)
        with pytest.raises(project.ProjectError, match=message):
            project.load(bad)
    # an empty part (as no editor writes it) is the whole photo
    ok = str(tmp_path / "empty.tcpproj")
    _rewrite(path, ok, lambda m: m["regions"][0].update(style_mask="zero.png"),
             [("zero.png", png(np.zeros((96, 128), np.uint16)))])
    assert project.load(ok).regions[0].style_mask is None
    assert os.path.getsize(path) > 0


# Match region (the automatic style part, TCPModel.match_style_part, computed in the worker) -------

@pytest.fixture
def answers(win):
    """Ids of the worker's answers (called) and drops (discarded), as they arrive on the GUI thread."""
    seen: list[int] = []
    w = win.service.signals

    def on_called(rid, *_):
        seen.append(rid)

    w.called.connect(on_called)
    w.discarded.connect(seen.append)
    yield seen
    w.called.disconnect(on_called)
    w.discarded.disconnect(seen.append)


def _click_match(qtbot, dialog):
    qtbot.mouseClick(dialog.match_btn, Qt.MouseButton.LeftButton)


def test_match_region_fills_the_canvas_and_ok_sets_it_in_one_undo_step(qtbot, win, dlg, photo, two_part_style):
    uid, _ = _open(qtbot, win, photo, two_part_style)
    doc = win.doc
    before = np.zeros((96, 128), np.float32)
    before[:10, :10] = 1.0  # a previous hand-brushed part
    _preview(qtbot, win, lambda: doc.set_style_mask(uid, before))
    depth = doc.undo_stack.count()
    dialog = win.styles.style_part_dialog()
    btn = dialog.match_btn
    assert btn.objectName() == "stylePartMatch" and btn.isVisible() and btn.isEnabled()
    assert "looks like the region" in btn.toolTip() and "brush" in btn.toolTip()
    _click_match(qtbot, dialog)
    assert dialog.matching and not btn.isEnabled() and dialog.status.text() == "Matching…"
    qtbot.waitUntil(lambda: not dialog.matching, timeout=WAIT_MS)
    m = dialog.canvas.mask
    assert m.shape == (96, 128) and m.dtype == np.float32
    assert 0.0 <= m.min() and m.max() <= 1.0 and np.mean(m > 0.5) > 0.05
    assert not np.array_equal(m, before)  # the match replaced what was brushed
    assert btn.isEnabled() and dialog.status.text().startswith("Matched:")
    assert doc.undo_stack.count() == depth  # nothing committed yet
    # refine with the eraser, then OK: one undo step with the refined match
    dialog.erase_btn.click()
    _brush_top_half(qtbot, dialog)
    refined = dialog.canvas.mask.copy()
    assert refined[:40].mean() < m[:40].mean() or m[:40].max() == 0.0
    _preview(qtbot, win, lambda: _ok(qtbot, dialog))
    r = doc.region(uid)
    assert r.style_mask is not None and np.allclose(r.style_mask, refined)
    assert doc.undo_stack.count() == depth + 1 and doc.undo_stack.undoText() == "Set style part"
    _preview(qtbot, win, doc.undo_stack.undo)
    assert np.array_equal(doc.region(uid).style_mask, before)
    assert dlg.errors == []


def test_match_region_needs_a_region_and_tells_failures_in_the_dialog(qtbot, win, dlg, photo, two_part_style,
                                                                     monkeypatch):
    assert win.open_path(photo)
    uid = win.doc.add_region()  # a style but nothing brushed
    assert win.styles.set_region_style_from_path(uid, two_part_style)
    dialog = win.styles.style_part_dialog(uid)
    assert not dialog.match_btn.isEnabled()
    assert "brush it on the photo first" in dialog.match_btn.toolTip()
    assert "brush it on the photo first" in dialog.status.text()
    assert win.styles.match_region(dialog, uid, win.doc.region(uid).style) is None and not dialog.matching
    dialog.reject()

    # a failing match: a clear message in the dialog's status line, the button back, no crash
    uid, _ = _open(qtbot, win, photo, two_part_style)
    model = win.service.worker.model

    def broken(*_a, **_k):
        raise ValueError("no features")

    monkeypatch.setattr(model, "match_style_part", broken)
    dialog = win.styles.style_part_dialog(uid)
    _click_match(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.matching, timeout=WAIT_MS)
    assert dialog.status.text() == "Match region failed: no features"
    assert dialog.match_btn.isEnabled() and dialog.style_mask() is None and dlg.errors == []
    dialog.reject()


def test_a_stale_match_answer_is_left_alone(qtbot, win, dlg, photo, two_part_style, answers):
    uid, _ = _open(qtbot, win, photo, two_part_style)
    doc = win.doc
    depth = doc.undo_stack.count()
    seen = answers
    # the dialog is closed before the answer comes
    dialog = win.styles.style_part_dialog()
    _click_match(qtbot, dialog)
    rid = win.styles.match_request[0]
    dialog.reject()
    assert win.styles.match_request is None and win.styles.style_part is None
    # a new dialog, opened while the old request may still run, is not filled by it
    second = win.styles.style_part_dialog()
    qtbot.waitUntil(lambda: rid in seen, timeout=WAIT_MS)
    qtbot.wait(50)
    assert second.canvas.mask.max() == 0.0 and not second.matching
    assert doc.region(uid).style_mask is None and doc.undo_stack.count() == depth
    # a second request supersedes the first: only the latest one fills the canvas
    style = doc.region(uid).style
    first = win.styles.match_region(second, uid, style)
    latest = win.styles.match_region(second, uid, style)
    assert latest != first and win.styles.match_request == (latest, second) and second.matching
    qtbot.waitUntil(lambda: first in seen and latest in seen, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not second.matching, timeout=WAIT_MS)
    assert second.canvas.mask.max() > 0.0 and win.styles.match_request is None
    second.reject()
    assert doc.region(uid).style_mask is None and doc.undo_stack.count() == depth and dlg.errors == []


def test_one_click_match_in_the_regions_panel_sets_the_style_part_in_one_undo_step(qtbot, win, dlg, photo,
                                                                                   two_part_style):
    """The Regions panel's Match: the part of the style photo like the region becomes the style part
    without the dialog (one undo step, the preview follows); Whole and undo take it back."""
    uid, whole = _open(qtbot, win, photo, two_part_style)
    doc, panel = win.doc, win.regions_panel
    depth = doc.undo_stack.count()
    btn = panel.match_btn
    assert btn.objectName() == "styleMatchButton" and btn.isVisible() and btn.isEnabled()
    assert "looks like the region" in btn.toolTip()
    with qtbot.waitSignal(win.previewApplied, timeout=WAIT_MS):
        qtbot.mouseClick(btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: doc.region(uid).style_mask is not None, timeout=WAIT_MS)
    m = doc.region(uid).style_mask
    assert m.shape == (96, 128) and 0.0 <= m.min() and m.max() <= 1.0 and np.mean(m > 0.5) > 0.05
    assert doc.undo_stack.count() == depth + 1 and doc.undo_stack.undoText() == "Set style part"
    assert panel.part_label.text() == "From: the brushed part of the style" and panel.part_clear_btn.isEnabled()
    assert win.styles.match_request is None
    assert not np.array_equal(win.previews.last_result, whole)  # the edit now takes the part's style
    _preview(qtbot, win, doc.undo_stack.undo)
    assert doc.region(uid).style_mask is None
    assert dlg.errors == []


def test_one_click_match_needs_a_brushed_region_and_reports_failures_and_stale_answers(qtbot, win, dlg, photo,
                                                                                       two_part_style, other_style,
                                                                                       monkeypatch, answers):
    assert win.open_path(photo)
    uid = win.doc.add_region()  # a style but nothing brushed: the status bar says to brush it
    assert win.styles.set_region_style_from_path(uid, two_part_style)
    assert win.regions_panel.match_btn.isEnabled()
    assert win.styles.match_now(uid) is None and win.styles.match_request is None
    assert "Brush the region first" in win.statusBar().currentMessage()

    uid, _ = _open(qtbot, win, photo, two_part_style)
    doc = win.doc
    # the style changes before the answer comes: the answer (for the old style) is left alone
    depth = doc.undo_stack.count()
    rid = win.styles.match_now(uid)
    assert rid is not None
    assert win.styles.set_region_style_from_path(uid, other_style)
    qtbot.waitUntil(lambda: rid in answers, timeout=WAIT_MS)
    qtbot.wait(50)
    assert doc.region(uid).style_mask is None and doc.undo_stack.count() == depth + 1  # (only the style)

    # a failing match: one clear error, no style part, no crash
    model = win.service.worker.model

    def broken(*_a, **_k):
        raise ValueError("no features")

    monkeypatch.setattr(model, "match_style_part", broken)
    assert win.styles.match_now(uid) is not None
    qtbot.waitUntil(lambda: bool(dlg.errors), timeout=WAIT_MS)
    assert "Match region failed" in str(dlg.errors[0]) and "no features" in str(dlg.errors[0])
    assert doc.region(uid).style_mask is None and win.styles.match_request is None


def test_select_on_the_style_photo_adds_and_alt_takes_away_then_ok_sets_it(qtbot, win, dlg, photo, two_part_style,
                                                                          monkeypatch):
    """The Style part dialog's Select: a click on the style photo asks the worker for the part like the clicked point
    (Select similar on the style photo), which is added to the mask; Alt+click takes the part it finds away; OK sets
    the result in one undo step."""
    uid, _ = _open(qtbot, win, photo, two_part_style)
    doc = win.doc
    model = win.service.worker.model
    asked = []
    top = np.zeros((96, 128), np.float32)
    top[:48] = 1.0  # "the sky": the top half of the reference

    def similar(image, x, y, tolerance):  # what the model answers, on the slider's scale
        asked.append((image.shape, x, y, tolerance))
        return top.copy() if y < 48 else 1.0 - top

    monkeypatch.setattr(model, "similar_region", similar)
    depth = doc.undo_stack.count()
    dialog = win.styles.style_part_dialog()
    c = dialog.canvas
    assert dialog.select_btn.isVisible() and "Alt+click" in dialog.select_btn.toolTip()
    dialog.select_btn.click()
    assert c.select and not c.erase
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=c.to_widget(60, 10).toPoint())
    assert dialog.status.text() == "Selecting…"
    qtbot.waitUntil(lambda: not dialog.matching, timeout=WAIT_MS)
    assert asked == [((96, 128, 3), 60, 10, 0.3)]
    assert np.array_equal(c.mask, top) and dialog.status.text().startswith("Selected: the part is 50%")
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.AltModifier, pos=c.to_widget(60, 10).toPoint())
    qtbot.waitUntil(lambda: not dialog.matching, timeout=WAIT_MS)
    assert c.mask.max() == 0.0  # Alt: the part like the click taken away
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=c.to_widget(60, 80).toPoint())
    qtbot.waitUntil(lambda: not dialog.matching, timeout=WAIT_MS)
    assert np.array_equal(c.mask, 1.0 - top)  # the bottom half this time
    assert doc.undo_stack.count() == depth  # nothing committed yet
    dialog.brush_btn.click()  # back to the brush: clicks paint again
    assert not c.select and not c.erase
    _preview(qtbot, win, lambda: _ok(qtbot, dialog))
    assert np.array_equal(doc.region(uid).style_mask, 1.0 - top)
    assert doc.undo_stack.count() == depth + 1 and doc.undo_stack.undoText() == "Set style part"
    assert dlg.errors == []


def test_select_on_the_style_photo_with_the_real_model_and_a_failure(qtbot, win, dlg, photo, two_part_style,
                                                                     monkeypatch):
    uid, _ = _open(qtbot, win, photo, two_part_style)
    dialog = win.styles.style_part_dialog()
    c = dialog.canvas
    dialog.select_btn.click()
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=c.to_widget(60, 10).toPoint())
    qtbot.waitUntil(lambda: not dialog.matching, timeout=WAIT_MS)
    m = c.mask
    assert m.shape == (96, 128) and m[10, 60] == 1.0 and 0 <= m.min() and m.max() <= 1  # the clicked point is in
    model = win.service.worker.model

    def broken(*_a, **_k):
        raise RuntimeError("no features")

    monkeypatch.setattr(model, "similar_region", broken)
    before = c.mask.copy()
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=c.to_widget(60, 80).toPoint())
    qtbot.waitUntil(lambda: not dialog.matching, timeout=WAIT_MS)
    assert "Select similar failed" in dialog.status.text() and np.array_equal(c.mask, before)
    dialog.reject()
    assert dlg.errors == []
