"""A workaround for a reference-counting bug in PySide6 6.12 on Python 3.11.

There, every call of a Qt method that returns nothing (`QPainterPath.lineTo`, `QWidget.update`,
`QSlider.setValue`, ...) hands Python a `None` without taking a reference to it, so each call
lowers `None`'s reference count by one. When the count reaches zero the interpreter aborts with
"Fatal Python error: none_dealloc: deallocating None" and a dump that lists the shiboken6 and
PySide6 modules. A freehand lasso of 800 points (its outline is rebuilt point by point on every
mouse move) was enough to take the editor down; a long session or test run gets there too.

Python 3.12 made `None` immortal, so the bug is harmless there. On older CPythons, when a probe
shows the bug, `protect_none()` gives `None` a reference count so large (2**40) that no session
can use it up, which is what 3.12 does. Nothing happens on builds without the bug.
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


def protect_none() -> bool:
    """Apply the workaround if needed (once per process). Returns True when it was applied."""
    global _done
    if _done:
        return False
    _done = True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):
        return False  # immortal None, or a debug build (another object layout)
    if not void_calls_leak_none():
        return False
    import ctypes

    # ob_refcnt is the first field of every object in a release build of CPython < 3.12
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    return True
