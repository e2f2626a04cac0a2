"""A workaround for two reference-counting bugs in PySide6 6.12 on Python 3.11.

There, every call of a Qt method that returns nothing (`QPainterPath.lineTo`, `QWidget.update`,
`QSlider.setValue`, ...) hands Python a `None` without taking a reference to it, so each call
lowers `None`'s reference count by one. When the count reaches zero the interpreter aborts with
"Fatal Python error: none_dealloc: deallocating None" and a dump that lists the shiboken6 and
PySide6 modules. A freehand lasso of 800 points (its outline is rebuilt point by point on every
mouse move) was enough to take the editor down; a long session or test run gets there too.

Every `Signal.emit()` does the same to `True` (its return value): measured, 1000 emits lower
`True`'s count by 1000, and the process aborts with "bool_dealloc: deallocating True or False" once
it reaches zero. The editor emits on every preview, progress step and slider move, so a long
session ran out; a stress test with a worker thread emitting 200 000 results to the GUI thread
aborted 3 runs in 3, and ran clean 3 in 3 with `True` protected (docs/RELIABILITY.md). Qt methods
that return a bool (`blockSignals`, `isEmpty`) and ints are not affected.

Python 3.12 made `None`, `True` and `False` immortal, so the bugs are harmless there. On older
CPythons, when a probe shows a bug, `protect_leaked_singletons()` gives the leaked object a reference
count so large (2**40) that no session can use it up, which is what 3.12 does. Nothing happens on
builds without the bugs.
"""

from __future__ import annotations

import sys

_done = False


def void_calls_leak_none() -> bool:
    """True when calling a void Qt method lowers None's reference count (the bug is present)."""
    from PySide6.QtCore import QRectF

    r = QRectF()
    before = sys.getrefcount(None)
    for _ in range(16):
        r.setX(1.0)
    return sys.getrefcount(None) < before - 8


def emit_leaks_true() -> bool:
    """True when emitting a Qt signal lowers True's reference count (the second bug is present)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    p = _Probe()
    before = sys.getrefcount(True)
    for _ in range(16):
        p.ping.emit()
    return sys.getrefcount(True) < before - 8


def protect_leaked_singletons() -> bool:
    """Apply the workarounds needed (once per process): `None` where void calls leak it, `True` where emits leak it.
    Returns True when either was applied."""
    global _done
    if _done:
        return False
    _done = True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):
        return False  # immortal None / True, or a debug build (another object layout)
    leaking = [obj for obj, probe in ((None, void_calls_leak_none), (True, emit_leaks_true)) if probe()]
    import ctypes

    for obj in leaking:  # ob_refcnt is the first field of every object in a release build of CPython < 3.12
        ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40
    return bool(leaking)
