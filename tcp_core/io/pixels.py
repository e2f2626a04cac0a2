"""Pixel dtype conversions shared by loading and saving (numpy only)."""

from __future__ import annotations

import numpy as np

__all__ = ["to_uint16", "to_uint8"]


def to_uint8(a: np.ndarray) -> np.ndarray:
    """uint8 -> itself; uint16 -> correctly rounded 8-bit (v / 257); float in [0, 1] -> 0..255."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(a.dtype, np.floating):
        return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    raise TypeError(f"unsupported pixel dtype {a.dtype}")


def to_uint16(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint16:
        return a
    if a.dtype == np.uint8:
        return a.astype(np.uint16) * 257
    raise TypeError(f"unsupported pixel dtype {a.dtype}")
