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
# Smoke checks (scripts/build_bundle.sh, `TCP_EDITOR_SMOKE_QUIT_MS=2000 bash scripts/run.sh`): the
# editor starts as usual, then once its window shows a loaded model and this many ms have passed it
# prints one "gui smoke: ok: ..." line and closes; a model that fails to load, or none within
# SMOKE_GIVE_UP_S: a "gui smoke: FAILED: ..." line and exit code 3.
SMOKE_ENV = "TCP_EDITOR_SMOKE_QUIT_MS"
SMOKE_GIVE_UP_S = 180.0


def _parser() -> argparse.ArgumentParser:
    from .cli import editor_parser

    return editor_parser()


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

    from .main_thread_gc import MainThreadGC
    from .main_window import MainWindow
    from .pyside_fix import protect_leaked_singletons
    from .resources import icon_path
    from .services.inference import InferenceService
    from .theme import apply_theme

    protect_leaked_singletons()  # before any widget: PySide6 6.12 on Python 3.11 (see pyside_fix)
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
    gc_on_gui_thread = MainThreadGC()  # never collect GUI objects on the worker thread (main_thread_gc)
    gc_on_gui_thread.start()

    service = InferenceService()
    win = MainWindow(service=service, autosave_interval_s=args.autosave_interval)
    win.show()
    # the smoke check listens for a failed load before the load starts: a bad file fails on the worker
    # thread within milliseconds, and a failure signalled before the connection would be missed (the check
    # then waited SMOKE_GIVE_UP_S; seen under load in session 29)
    smoke = _start_smoke_check(win) if os.environ.get(SMOKE_ENV) else None
    device = args.device or win.models.device
    win.models.load(args.weights, device, args.preset, args.precision or win.models.precision)
    if args.photo:
        QTimer.singleShot(0, lambda: win.open_path(args.photo))
    else:
        QTimer.singleShot(0, win.autosave.check)
    rc = app.exec() if owns_app else _run_nested(app, win)
    service.shutdown()
    gc_on_gui_thread.stop()
    return 3 if smoke is not None and smoke["failed"] else int(rc)


def _start_smoke_check(win) -> dict:
    """See SMOKE_ENV. Returns a dict whose "failed" is set when no model loaded in time."""
    import time

    try:
        quit_ms = max(0, int(os.environ.get(SMOKE_ENV, "0")))
    except ValueError:
        quit_ms = 0
    state = {"failed": False, "t0": time.monotonic(), "model_error": None}
    worker = getattr(getattr(win, "service", None), "worker", None)
    if worker is not None:  # a model that fails to load ends the check at once (not after SMOKE_GIVE_UP_S)
        # Straight on the worker's signal, so on the worker thread (it only sets a dict entry, no Qt call): on
        # `service.signals` it would wait behind the window's own handler of the same signal, whose error dialog
        # is modal and would hold it until someone closed the dialog.
        worker.modelFailed.connect(lambda failure: state.update(model_error=failure.message))

    def poll() -> None:
        waited = time.monotonic() - state["t0"]
        if state["model_error"] is not None and win.models.info is None:
            first = state["model_error"].strip().splitlines()[0] if state["model_error"].strip() else "unknown error"
            print(f"gui smoke: FAILED: the model did not load: {first}", flush=True)
            state["failed"] = True
            modal = QApplication.activeModalWidget()  # the error dialog would wait for a click
            if modal is not None and modal is not win:
                modal.close()
            win.doc.undo_stack.setClean()
            win.close()
            return
        if win.models.info is not None and waited >= quit_ms / 1000.0:
            from .resources import bundled_styles

            print(f"gui smoke: ok: window '{win.windowTitle()}', {win.models.info.label}, "
                  f"{len(bundled_styles())} bundled styles", flush=True)
            win.doc.undo_stack.setClean()
            win.close()
            return
        if waited > SMOKE_GIVE_UP_S:
            print(f"gui smoke: FAILED: no window with a loaded model after {SMOKE_GIVE_UP_S:.0f} s", flush=True)
            state["failed"] = True
            win.doc.undo_stack.setClean()
            win.close()
            return
        QTimer.singleShot(100, poll)

    QTimer.singleShot(100, poll)
    return state


def _run_nested(app: QApplication, win) -> int:
    """An application already exists (embedding, tests): run until the window closes."""
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    win.closed.connect(loop.quit)
    return loop.exec()
