"""GUI entry point: `run_gui(argv)` (the CLI calls it for `tcp-editor [PHOTO]`)."""

from __future__ import annotations

import argparse
import os
import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

ORG = "TCP Editor"
APP = "TCP Editor"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tcp-editor", description="TCP Editor: region-wise photo style editing.")
    p.add_argument("photo", nargs="?", help="photo or .tcpproj project to open")
    p.add_argument("--weights", default=None, help="model: path, hf://OWNER/REPO/FILE.safetensors or default")
    p.add_argument("--device", default=None, choices=["auto", "cpu", "cuda", "mps"], help="compute device")
    p.add_argument("--preset", default=None, help=argparse.SUPPRESS)  # untrained preset (demos, tests)
    p.add_argument("--autosave-interval", type=int, default=None, help=argparse.SUPPRESS)
    return p


def _strip_program(argv: list[str]) -> list[str]:
    """Accept both argv without the program name (documented) and sys.argv-like lists."""
    if argv and sys.argv and argv[0] == sys.argv[0] and not os.path.isfile(argv[0]):
        return argv[1:]
    if argv and os.path.basename(argv[0]) in ("tcp-editor", "tcp-editor.exe", "__main__.py"):
        return argv[1:]
    return argv


def run_gui(argv: list[str] | None = None) -> int:
    """Start the editor; returns the process exit code."""
    args_list = _strip_program(list(sys.argv[1:] if argv is None else argv))
    try:
        args = _parser().parse_args(args_list)
    except SystemExit as e:  # --help or a usage error (already printed)
        return int(e.code or 0)

    from .main_window import MainWindow
    from .resources import icon_path
    from .services.inference import InferenceService
    from .theme import apply_theme

    app = QApplication.instance()
    owns_app = app is None
    if owns_app:
        # crisp rendering on fractional scale factors (150 %, 175 %): no rounding of the DPR
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "tcp-editor"])
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    app.setApplicationDisplayName(APP)
    icon = icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))  # title bars, task switcher, dock
    apply_theme(app)

    service = InferenceService()
    win = MainWindow(service=service, autosave_interval_s=args.autosave_interval)
    win.show()
    device = args.device or win.model_device
    win.load_model(args.weights, device, args.preset)
    if args.photo:
        QTimer.singleShot(0, lambda: win.open_path(args.photo))
    else:
        QTimer.singleShot(0, win.check_autosave)
    rc = app.exec() if owns_app else _run_nested(app, win)
    service.shutdown()
    return int(rc)


def _run_nested(app: QApplication, win) -> int:
    """An application already exists (embedding, tests): run until the window closes."""
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    win.closed.connect(loop.quit)
    return loop.exec()
