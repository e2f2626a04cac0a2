"""How the window's controllers talk to the user: status-bar messages, notices and error dialogs."""

from __future__ import annotations

from . import dialogs


class Feedback:
    def __init__(self, window) -> None:
        self.window = window  # the parent of dialogs; its status bar shows messages
        self.notices: list[str] = []  # messages that matter (tests read them)
        self._error_showing = False

    def status(self, text: str, timeout_ms: int = 0) -> None:
        self.window.statusBar().showMessage(text, timeout_ms)

    def notify(self, text: str, timeout_ms: int = 10000) -> None:
        """A status-bar message that matters to the user; also kept in `notices`."""
        self.notices.append(text)
        self.status(text, timeout_ms)

    def error(self, title: str, text: str, details: str = "") -> None:
        if self._error_showing:  # one dialog at a time; the status bar has the rest
            return
        self._error_showing = True
        try:
            dialogs.error(self.window, title, text, details)
        finally:
            self._error_showing = False
