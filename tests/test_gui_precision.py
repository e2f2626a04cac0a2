"""Model > Precision (issue #14): the choice reaches the worker's real model, is saved in the
settings, shows in the status bar, and `tcp-editor --precision` sets it."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tcp_editor import dialogs  # noqa: E402
from tcp_editor.main_window import MainWindow  # noqa: E402
from tcp_editor.services.inference import InferenceService  # noqa: E402

WAIT_MS = 60000


@pytest.fixture
def own_service():
    """A service of its own: these tests reload the model, the shared one must stay as it is."""
    svc = InferenceService(torch_threads=1)
    yield svc
    svc.shutdown()


def _window(qtbot, tmp_path, service, settings):
    w = MainWindow(service=service, settings=settings, autosave_dir=str(tmp_path / "autosave"),
                   autosave_interval_s=3600, preview_long_side=256)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _action(win, precision: str):
    (a,) = [a for a in win.models.precision_group.actions() if a.data() == precision]
    return a


def _checked(win) -> list[str]:
    return [a.data() for a in win.models.precision_group.actions() if a.isChecked()]


def test_precision_menu_reaches_the_model_is_saved_and_shown(qtbot, tmp_path, own_service, monkeypatch):
    monkeypatch.setenv("TCP_EDITOR_NATIVE_BF16", "0")  # an AVX2-only CPU: auto is fp32 (as on this machine)
    errors = []
    monkeypatch.setattr(dialogs, "error", lambda *a, **k: errors.append(a))
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = _window(qtbot, tmp_path, own_service, settings)
    assert win.models.precision == "auto" and _checked(win) == ["auto"]
    worker = own_service.worker
    with qtbot.waitSignal(own_service.signals.modelLoaded, timeout=WAIT_MS):
        win.models.load(None, "cpu", preset="tiny")
    assert worker.model.precision_name == "fp32"  # auto on a CPU without native bf16
    qtbot.waitUntil(lambda: win.model_label.text().endswith("· CPU · fp32"), timeout=5000)
    assert win.models.info.precision == "fp32"

    with qtbot.waitSignal(own_service.signals.modelLoaded, timeout=WAIT_MS):
        _action(win, "bf16").trigger()  # the menu item
    assert worker.model.precision_name == "bf16"
    qtbot.waitUntil(lambda: win.model_label.text().endswith("· CPU · bf16"), timeout=5000)
    assert win.models.info.precision == "bf16"
    assert _checked(win) == ["bf16"]
    assert settings.value("model/precision") == "bf16"
    assert win.models.preset == "tiny" and win.models.device == "cpu"  # the same model, reloaded

    # a new window (next start) restores the choice and passes it on
    win2 = _window(qtbot, tmp_path, own_service, QSettings(str(tmp_path / "settings.ini"),
                                                           QSettings.Format.IniFormat))
    assert win2.models.precision == "bf16" and _checked(win2) == ["bf16"]
    with qtbot.waitSignal(own_service.signals.modelLoaded, timeout=WAIT_MS):
        win2.models.load(None, "cpu", preset="tiny")
    assert worker.model.precision_name == "bf16"
    win2.close()

    with qtbot.waitSignal(own_service.signals.modelLoaded, timeout=WAIT_MS):
        _action(win, "fp32").trigger()
    assert worker.model.precision_name == "fp32"
    qtbot.waitUntil(lambda: win.model_label.text().endswith("· fp32"), timeout=5000)
    assert settings.value("model/precision") == "fp32"
    assert not errors
    win.close()


def test_precision_setting_from_an_older_or_damaged_settings_file_falls_back_to_auto(qtbot, tmp_path, own_service):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("model/precision", "fp8")
    win = _window(qtbot, tmp_path, own_service, settings)
    assert win.models.precision == "auto" and _checked(win) == ["auto"]
    with pytest.raises(ValueError):
        win.models.set_precision("fp8")
    win.close()


def test_cli_precision_option(qtbot, tmp_path, monkeypatch):
    from PIL import Image

    from tcp_editor.app import run_gui
    from tcp_editor.cli import editor_parser

    assert editor_parser().parse_args(["--precision", "bf16"]).precision == "bf16"
    with pytest.raises(SystemExit):
        editor_parser().parse_args(["--precision", "fp16"])
    errors = []
    monkeypatch.setattr(dialogs, "error", lambda *a, **k: errors.append(a))
    monkeypatch.setattr(dialogs, "ask_restore_autosave", lambda *a, **k: False)
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((60, 80, 3), 120, np.uint8)).save(photo)
    seen = {}

    def close_when_ready():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if wins and wins[0].models.info is not None:
            w = wins[0]
            seen.update(info=w.models.info.precision, model=w.service.worker.model.precision_name,
                        label=w.model_label.text(), checked=_checked(w),
                        saved=w.settings.value("model/precision"))
            w.close()
        else:
            QTimer.singleShot(50, close_when_ready)

    QTimer.singleShot(50, close_when_ready)
    assert run_gui([str(photo), "--preset", "tiny", "--device", "cpu", "--precision", "bf16"]) == 0
    assert seen["model"] == "bf16" and seen["info"] == "bf16", seen
    assert seen["label"].endswith("· bf16") and seen["checked"] == ["bf16"] and seen["saved"] == "bf16"
    assert not errors
