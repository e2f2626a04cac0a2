"""Python's cyclic garbage collector, run only on the GUI thread.

CPython runs a collection in whichever thread happens to cross the allocation threshold. The
editor's inference worker allocates a great deal, so without this a collection can start on the
worker thread and destroy GUI objects that only a reference cycle kept alive (a closed dialog, a
window whose slots capture `self`) from the wrong thread, or in the middle of Qt's event dispatch
on the GUI thread. Qt does not allow either; the process dies with a segmentation fault at a
random later moment, most often under CPU load.

`MainThreadGC` turns automatic collection off and collects from a timer on the GUI thread instead,
at the same thresholds CPython would use (the pattern of pyqtgraph's and calibre's collectors).
Reference counting frees everything else at once, as before; only cycles wait for the timer.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class MainThreadGC(QObject):
    """Collect cyclic garbage from a GUI-thread timer; automatic collection is off while it runs.

    `start()` and `stop()` are called on the GUI thread; `stop()` restores the collector's previous
    state (enabled or not) and collects once."""

    def __init__(self, interval_ms: int = 250, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_ms))
        self._timer.timeout.connect(self.check)
        self._was_enabled: bool | None = None
        self.collections = 0  # how many collections the timer ran (for tests and diagnostics)

    @property
    def active(self) -> bool:
        return self._was_enabled is not None

    def start(self) -> None:
        if self.active:
            return
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        if not self.active:
            return
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
        self._was_enabled = None
        gc.collect()

    def check(self) -> None:
        """Collect the oldest generation whose count has passed its threshold (as CPython does)."""
        t0, t1, t2 = gc.get_threshold()
        c0, c1, c2 = gc.get_count()
        if t0 <= 0 or c0 <= t0:  # threshold 0: automatic collection was switched off by the user
            return
        gen = 0
        if c1 > t1:
            gen = 1
            if c2 > t2:
                gen = 2
        gc.collect(gen)
        self.collections += 1
