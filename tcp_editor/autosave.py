"""Autosave: every N seconds (if the document changed) a background thread writes the project to
`<AppData>/autosave/autosave.tcpproj` (atomic); at start an autosave newer than the last clean
exit is offered for restoring; a clean exit removes it."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from . import dialogs, project
from .services.images import remove_stale_temp_files

AUTOSAVE_NAME = "autosave.tcpproj"


def default_autosave_dir() -> str:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return os.path.join(base or os.path.expanduser("~/.tcp-editor"), "autosave")


class AutosaveController(QObject):
    autosaved = Signal(str)  # path (the write runs on in the background)
    restored = Signal()

    def __init__(self, doc, settings, feedback, folder: str | None = None, interval_s: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc, self.settings, self.feedback = doc, settings, feedback
        self.folder = folder or default_autosave_dir()
        self.dirty = False
        self._thread: threading.Thread | None = None
        self._outcome = SimpleNamespace(failed=False)  # set by a failed background write
        interval = interval_s if interval_s is not None else int(settings.value("autosave/interval_s", 60))
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, interval) * 1000)
        self._timer.timeout.connect(self.save_now)
        self._timer.start()
        doc.changed.connect(self.mark)

    @property
    def path(self) -> str:
        return os.path.join(self.folder, AUTOSAVE_NAME)

    def mark(self) -> None:
        self.dirty = True

    def save_now(self, wait: bool = False) -> bool:
        """Write the autosave in a background thread (atomic). Returns False if nothing to do."""
        if self._thread is not None and self._thread.is_alive():
            return False
        if self._outcome.failed:  # the last write failed: what it held is still unsaved
            self._outcome.failed = False
            self.dirty = True
        if not self.doc.has_photo or not self.dirty:
            return False
        snap = project.snapshot(self.doc)
        self.dirty = False
        # The thread holds plain objects only, never this QObject or the document (project.PhotoPng): a Qt object
        # whose last reference a background thread dropped would be destroyed there.
        png, path, outcome = project.photo_png_cache(self.doc), self.path, self._outcome

        def work() -> None:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if snap._photo_png is None:
                    snap._photo_png = png.get()
                project.write(path, snap)
            except Exception:  # noqa: BLE001 - autosave must never take the editor down
                outcome.failed = True  # the next autosave writes again (save_now)
                return

        self._thread = threading.Thread(target=work, name="tcp-autosave", daemon=True)
        self._thread.start()
        if wait:
            self._thread.join()
        self.autosaved.emit(path)
        return True

    def check(self) -> bool:
        """Offer to restore an autosave newer than the last clean exit. True if restored."""
        path = self.path
        # A kill during an autosave leaves its temp file (the autosave itself is the previous one).
        # Only old ones go: another editor instance may be writing one right now.
        remove_stale_temp_files(path, older_than_s=60)
        if not os.path.isfile(path):
            return False
        try:
            clean = float(self.settings.value("session/clean_exit", 0) or 0)
        except (TypeError, ValueError):
            clean = 0.0
        mtime = os.path.getmtime(path)
        if mtime <= clean:
            return False
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime))
        if not dialogs.ask_restore_autosave(self.feedback.window, when):
            return False
        try:
            snap = project.load(path)
        except project.ProjectError as e:
            self.feedback.error("Cannot restore the autosave", str(e))
            return False
        project.restore(self.doc, snap, "")
        self.doc.project_path = ""
        self.dirty = True
        # mark as modified so that closing asks to save it somewhere
        self.doc.undo_stack.resetClean()
        self.restored.emit()
        self.feedback.status("Restored the autosaved project. Save it with Ctrl+S.", 10000)
        return True

    def clean_exit(self) -> None:
        """The window closes normally: record the time, wait for a running write, remove the autosave."""
        self.settings.setValue("session/clean_exit", time.time())
        self._timer.stop()
        if self._thread is not None:
            self._thread.join(10)
        try:
            os.remove(self.path)
        except OSError:
            pass
