"""Giving freed memory back to the operating system in long-running processes.

Edits allocate and free tens of MB of tensors and images each. glibc's malloc keeps much of that
freed memory in its arenas (one per thread that allocated), so the resident size of an editor
session or a batch run creeps up although nothing leaks (BENCHMARKS.md, soak). `malloc_trim(0)`
returns the free pages; it takes a few milliseconds, so callers run it when they go idle (the
inference worker) or between photos (batch `apply`), not inside an edit.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_trim = None
_resolved = False


def _malloc_trim():
    global _trim, _resolved
    if not _resolved:
        _resolved = True
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                fn = libc.malloc_trim  # glibc only (musl has none)
                fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
                _trim = fn
            except (OSError, AttributeError):
                _trim = None
    return _trim


def release_free_memory() -> bool:
    """Return the C heap's free memory to the OS (glibc `malloc_trim(0)`). True if it ran;
    False on platforms without it (nothing to do there: their allocators behave differently)."""
    fn = _malloc_trim()
    if fn is None:
        return False
    fn(0)
    return True
