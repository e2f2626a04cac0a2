"""GUI checks for what a new user hit on a first session (issue #15): each test drives the real
window with pytest-qt and failed before its fix."""

# ruff: noqa: F811 - the fixtures imported from test_gui_editor are used as test arguments

from __future__ import annotations

import gc

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
    win.export_dialog()
    ext = ".png" if name.endswith(".tif") else name[name.rfind("."):]
    assert seen["directory"].endswith("castle_tcp" + ext)
    assert seen["selected"].startswith(filt + " ("), seen
    assert "*" + ext in seen["selected"]


# item 7 ------------------------------------------------------------------------------------------
def test_wheel_over_unfocused_controls_scrolls_instead_of_changing_them(qtbot, win):
    c = win.controls
    controls = [c.feather_px, c.grow_px, c.tolerance, c.brush_size, c.smoothing, c.similarity, c.hardness,
                c.overlay_opacity, c.interp_what, win.regions_panel.strength]
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
    assert any("mask overlay" in n and "invisible" in n for n in w2.notices), w2.notices
    # a visible choice is kept as it was
    w2.controls.overlay_opacity.setValue(30)
    w2.close()
    w3 = _window(qtbot, tmp_path, service, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert w3.controls.overlay_opacity.value() == 30
    assert not any("mask overlay" in n for n in w3.notices)
    w3.close()
