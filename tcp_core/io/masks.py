"""Masks: a region painted for a photo, as HxW float32 in [0, 1] at the photo's size."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tcp_core.base.constants import DEFAULT_MAX_PIXELS
from tcp_core.io.files import as_path, display_path
from tcp_core.io.loading import (
    ImageLoadError,
    check_file,
    full_decode,
    load_error,
    load_image,
    open_checked,
    tile_is_16bit,
)
from tcp_core.io.metadata import ORIENTATION_TAG, TRANSPOSE, orient_array

__all__ = ["MASK_ASPECT_TOLERANCE", "MASK_PIXELS_PER_TARGET", "load_mask"]

MASK_PIXELS_PER_TARGET = 4  # a mask for a W x H photo may have up to 4 W H pixels, however small its file

MASK_ASPECT_TOLERANCE = 0.01



def _decode_mask(path: Path, max_pixels: int | None, allow_pixels: int = 0) -> np.ndarray:
    """Mask pixels as HxW float32 in [0, 1], display-oriented, without building an RGB copy."""
    check_file(path)
    fast_modes = ("L", "1", "LA", "La", "PA", "P", "RGBA", "RGBa", "RGB", "I;16", "I;16L", "I;16B", "I;16N", "I")
    try:
        with open(path, "rb") as fh:
            im, lifted = open_checked(path, fh, max_pixels, allow_pixels)
            with im:
                if im.mode not in fast_modes or tile_is_16bit(im):
                    im = None
                else:
                    full_decode(im, path, lifted)
                    try:
                        orientation = int(im.getexif().get(ORIENTATION_TAG, 1) or 1)
                    except Exception:
                        orientation = 1
                    if orientation not in TRANSPOSE:
                        orientation = 1
                    mode = im.mode
                    has_alpha = mode in ("LA", "La", "PA", "RGBA", "RGBa") or (
                        mode == "P" and "transparency" in im.info
                    )
                    m = None
                    if has_alpha:
                        a = np.asarray(im.getchannel("A") if mode != "P" else im.convert("RGBA").getchannel("A"))
                        if int(a.min()) < 255:
                            m = np.multiply(a, np.float32(1 / 255), dtype=np.float32)
                    if m is None:
                        if mode.startswith("I"):
                            m = np.multiply(np.asarray(im), np.float32(1 / 65535), dtype=np.float32)
                        else:
                            g = im if mode == "L" else im.convert("L")
                            m = np.multiply(np.asarray(g), np.float32(1 / 255), dtype=np.float32)
                    m = orient_array(m, orientation)
    except OSError as e:
        raise load_error(path, f"it cannot be read ({e.strerror or e})", "Check the path and permissions.") from None
    if im is None:  # unusual modes (CMYK, 16-bit colour, ...): the general loader
        img = load_image(path, max_pixels=max_pixels, keep_alpha=True, keep_16bit=True, _allow_pixels=allow_pixels)
        if img.alpha is not None:
            m = img.alpha.astype(np.float32) / 255.0
        else:
            c = img.rgb.astype(np.float32) / float(np.iinfo(img.rgb.dtype).max)
            m = 0.299 * c[:, :, 0] + 0.587 * c[:, :, 1] + 0.114 * c[:, :, 2]
    # m is a new float32 array in every branch: clip it in place (a 20 MP mask is 80 MB; one pass
    # instead of the multiply + clip + astype copies of before).
    m = np.asarray(m, dtype=np.float32)
    return np.clip(m, 0.0, 1.0, out=m)


def load_mask(
    path: str | os.PathLike | bytes,
    size: tuple[int, int] | None = None,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Load a mask as HxW float32 in [0, 1], resized to `size` = (W, H) when given.

    Grayscale value is the mask, except for a mask with real transparency (RGBA/LA/P with
    transparent pixels), whose alpha channel is the mask. A mask whose aspect ratio differs
    from `size` by more than 1% is refused (it was painted for another image).
    """
    path = as_path(path)
    if size is None:
        return _decode_mask(path, max_pixels)
    W, H = int(size[0]), int(size[1])
    if W <= 0 or H <= 0:
        raise ValueError(f"mask target size must be positive, got {W}x{H}")
    # A mask compresses far better than a photo: one for this photo may be as large as the photo
    # (up to MASK_PIXELS_PER_TARGET times), whatever its file size.
    m = _decode_mask(path, max_pixels, MASK_PIXELS_PER_TARGET * W * H)
    h, w = m.shape
    if (w, h) == (W, H):
        return m
    ar_mask, ar_img = w / h, W / H
    if abs(ar_mask - ar_img) / ar_img > MASK_ASPECT_TOLERANCE:
        raise ImageLoadError(
            f"Mask '{display_path(path)}' is {w}x{h} but the image is {W}x{H}: their aspect ratios "
            f"differ ({ar_mask:.3f} vs {ar_img:.3f}). Paint or export the mask for this image "
            f"(same size, or the same shape scaled)."
        )
    import cv2

    interp = cv2.INTER_AREA if (W < w and H < h) else cv2.INTER_LINEAR
    out = cv2.resize(m, (W, H), interpolation=interp)
    return np.clip(out, 0.0, 1.0).astype(np.float32)
