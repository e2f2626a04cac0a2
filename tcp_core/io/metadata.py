"""Photo metadata: EXIF orientation (applied to the pixels, then reset to 1 in the EXIF that is
written back), EXIF cleaning (no structural TIFF tags travel into another file), ICC colour spaces."""

from __future__ import annotations

import numpy as np
from PIL import Image

__all__ = ["ORIENTATION_TAG", "TRANSPOSE", "exif_with_orientation_1", "icc_colour_space", "orient_array"]

ORIENTATION_TAG = 0x0112
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Structural TIFF tags that describe the *source file's* pixel layout; they must not travel
# into the EXIF of another file (TIFF sources report them through getexif()).
_STRUCTURAL_TAGS = (
    254,
    255,
    256,
    257,
    258,
    259,
    262,
    263,
    266,
    273,
    277,
    278,
    279,
    280,
    281,
    284,
    290,
    291,
    292,
    293,
    317,
    320,
    322,
    323,
    324,
    325,
    338,
    339,
    340,
    341,
    347,
    530,
    531,
    532,
    700,
    33723,
    34377,
    34675,
)


def orient_array(a: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to an HxW[xC] array, exactly as PIL's exif_transpose does."""
    if orientation == 2:
        a = a[:, ::-1]
    elif orientation == 3:
        a = a[::-1, ::-1]
    elif orientation == 4:
        a = a[::-1]
    elif orientation == 5:
        a = a.swapaxes(0, 1)
    elif orientation == 6:
        a = np.rot90(a, k=-1)
    elif orientation == 7:
        a = a[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:
        a = np.rot90(a, k=1)
    return np.ascontiguousarray(a)


def icc_colour_space(icc: bytes) -> bytes | None:
    if len(icc) < 20:
        return None
    return icc[16:20]


def exif_with_orientation_1(exif: Image.Exif | bytes | None) -> bytes | None:
    """EXIF bytes with the orientation tag set to 1 (pixels are already display-oriented).

    Returns None for empty or unparseable EXIF: writing EXIF we cannot fix could make viewers
    rotate the (already rotated) pixels a second time.
    """
    if exif is None:
        return None
    try:
        if isinstance(exif, (bytes, bytearray)):
            raw = bytes(exif)
            if not raw:
                return None
            ex = Image.Exif()
            ex.load(raw)
        else:
            ex = exif
        for tag in _STRUCTURAL_TAGS:
            if tag in ex:
                del ex[tag]
        if len(ex) == 0:
            return None
        if ex.get(ORIENTATION_TAG, 1) != 1:
            ex[ORIENTATION_TAG] = 1
        out = ex.tobytes()
    except Exception:
        return None
    return out or None
