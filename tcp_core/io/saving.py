"""Saving photos: `save_image` (atomic) and `image_writer` (for several files written as one).

Saving is atomic (`tcp_core.io.files.atomic_write_all`): the file is written to a temporary name
in the target directory, fsync'ed and renamed over the target, so a crash or an encoder error
never leaves a partial file, and it refuses to write onto the original photo (`overwrite_protect`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from tcp_core.io.files import ImageSaveError, as_path, atomic_write_all, display_path, same_file
from tcp_core.io.metadata import exif_with_orientation_1, icc_colour_space
from tcp_core.io.pixels import to_uint8, to_uint16
from tcp_core.io.png import metadata_chunks, write_png8

__all__ = ["PNG_COMPRESS_LEVEL", "SAVE_FORMATS", "image_writer", "save_image"]

# zlib level of every PNG written (8-bit through `tcp_core.io.png`, 16-bit through OpenCV; the pixels do
# not depend on it). Measured on the 20 MP photo of benchmarks/bench_apply_startup.py with PIL's
# encoder (CPU seconds of the encode): level 1: 26.7 MB 1.9 s, 2: 26.4 MB 2.1 s, 3: 25.5 MB 3.0 s,
# 4 (before): 26.6 MB 3.8 s, 6 (PIL's default): about 7.5 s. Levels 1-3 use zlib's fast matcher; on
# photo noise level 4's lazy matching costs 80 % more time for no smaller file. PIL and OpenCV cost
# the same at the same level; `tcp_core.io.png` (two filters chosen with numpy, the deflate in
# parallel strips) 1.45 s of CPU for 26.3 MB at level 2.
PNG_COMPRESS_LEVEL = 2
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}



def _png_insert_chunks(png: bytes, chunks: list[bytes]) -> bytes:
    """Insert ready-made chunks right after IHDR (iCCP must precede PLTE/IDAT)."""
    if not chunks:
        return png
    ihdr_end = 8 + 4 + 4 + 13 + 4
    return png[:ihdr_end] + b"".join(chunks) + png[ihdr_end:]


def _encode_16bit(rgb: np.ndarray, alpha: np.ndarray | None, fmt: str, exif: bytes | None, icc: bytes | None) -> bytes:
    import cv2

    bgr = rgb[:, :, ::-1]
    if alpha is not None:
        a16 = to_uint16(alpha)
        bgr = np.dstack([bgr, a16])
    bgr = np.ascontiguousarray(bgr)
    ext = ".png" if fmt == "PNG" else ".tif"
    params = [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESS_LEVEL] if fmt == "PNG" else []
    ok, buf = cv2.imencode(ext, bgr, params)
    if not ok:
        raise OSError("the 16-bit encoder failed")
    data = buf.tobytes()
    if fmt == "PNG":
        data = _png_insert_chunks(data, metadata_chunks(exif, icc))
    return data


def save_image(
    path: str | os.PathLike | bytes,
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    exif: bytes | None = None,
    icc: bytes | None = None,
    quality: int = 95,
    overwrite_protect: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
) -> Path:
    """Save HxWx3 RGB (uint8, or uint16 for PNG/TIFF) atomically; format from the extension.

    EXIF (orientation reset to 1) and the ICC profile are embedded. JPEG has no alpha: a given
    alpha is composited over white. 16-bit pixels are written as 16-bit PNG/TIFF and reduced to
    8 bits for JPEG/WebP (16-bit TIFF carries no metadata). Refuses to write onto
    `overwrite_protect` (the original photo, or a list: the original photo first, then the other
    inputs such as style references and masks). Raises `ImageSaveError`.
    """
    write = image_writer(path, rgb, alpha=alpha, exif=exif, icc=icc, quality=quality,
                         overwrite_protect=overwrite_protect)
    return atomic_write_all([(path, write)])[0]


def image_writer(
    path: str | os.PathLike | bytes,
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    exif: bytes | None = None,
    icc: bytes | None = None,
    quality: int = 95,
    overwrite_protect: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
) -> Callable[[BinaryIO], None]:
    """The checks of `save_image` (arguments, extension, `overwrite_protect`), done now, and a
    `write(f)` that encodes the image into `f`, for `atomic_write_all` (several files at once)."""
    path = as_path(path)
    ext = path.suffix.lower()
    fmt = SAVE_FORMATS.get(ext)
    if fmt is None:
        raise ImageSaveError(
            f"Cannot save '{display_path(path)}': unsupported extension '{path.suffix}'. Use .png, .jpg, .webp or .tif."
        )
    if overwrite_protect is not None:
        protected = (
            [overwrite_protect] if isinstance(overwrite_protect, (str, bytes, os.PathLike)) else list(overwrite_protect)
        )
        for i, src in enumerate(protected):
            if same_file(path, as_path(src)):
                if i == 0:
                    raise ImageSaveError(
                        f"Refusing to save over the original photo '{display_path(path)}'. Choose another output name."
                    )
                raise ImageSaveError(
                    f"Refusing to save over '{display_path(path)}': it is an input of this edit "
                    f"('{display_path(src)}'). Choose another output name."
                )
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype not in (np.uint8, np.uint16) or rgb.size == 0:
        raise ImageSaveError(
            f"Cannot save '{display_path(path)}': expected HxWx3 uint8/uint16 pixels, "
            f"got shape {rgb.shape} dtype {rgb.dtype}."
        )
    if alpha is not None:
        alpha = np.asarray(alpha)
        if alpha.shape != rgb.shape[:2]:
            raise ImageSaveError(
                f"Cannot save '{display_path(path)}': alpha is {alpha.shape}, pixels are {rgb.shape[:2]}."
            )
        if alpha.dtype not in (np.uint8, np.uint16):
            alpha = np.clip(np.rint(np.asarray(alpha, np.float32) * 255.0), 0, 255).astype(np.uint8)
    exif = exif_with_orientation_1(exif)
    if icc is not None and icc_colour_space(icc) != b"RGB ":
        icc = None
    quality = int(min(100, max(1, quality)))

    if fmt == "JPEG" and alpha is not None:
        hi = float(np.iinfo(rgb.dtype).max)
        af = to_uint8(alpha).astype(np.float32)[:, :, None] / 255.0
        rgb = np.rint(rgb.astype(np.float32) * af + hi * (1.0 - af)).astype(rgb.dtype)
        alpha = None

    if rgb.dtype == np.uint16 and fmt in ("PNG", "TIFF"):
        data = _encode_16bit(rgb, alpha, fmt, exif, icc if fmt == "PNG" else None)

        def write(f: BinaryIO) -> None:
            f.write(data)

        write.format = fmt  # type: ignore[attr-defined]
        return write
    rgb8 = to_uint8(rgb)
    if fmt == "PNG":
        pixels = rgb8 if alpha is None else np.dstack([rgb8, to_uint8(alpha)])

        def write(f: BinaryIO) -> None:
            write_png8(f, pixels, exif=exif, icc=icc, level=PNG_COMPRESS_LEVEL)

        write.format = fmt  # type: ignore[attr-defined]
        return write
    if alpha is not None:
        im = Image.fromarray(np.dstack([rgb8, to_uint8(alpha)]), "RGBA")
    else:
        im = Image.fromarray(np.ascontiguousarray(rgb8), "RGB")
    kw: dict = {}
    if exif:
        kw["exif"] = exif
    if icc:
        kw["icc_profile"] = icc
    if fmt == "JPEG":
        kw.update(quality=quality, subsampling=0 if quality >= 90 else 2)
    elif fmt == "WEBP":
        kw.update(quality=quality, method=4, lossless=quality >= 100)
    elif fmt == "TIFF":
        # libtiff (used for compressed TIFF) cannot write EXIF sub-IFDs (date taken, GPS):
        # with EXIF, PIL's own uncompressed writer keeps them all.
        kw.update(compression="raw" if exif else "tiff_adobe_deflate")

    def write(f: BinaryIO) -> None:
        if fmt == "TIFF":  # libtiff writes to the file descriptor itself and prints its own errors
            buf = io.BytesIO()  # (a full disk gave "Error writing TIFF header." on stderr): encode first
            im.save(buf, format=fmt, **kw)
            f.write(buf.getbuffer())
        else:
            im.save(f, format=fmt, **kw)

    write.format = fmt  # type: ignore[attr-defined]  (named in encoder errors)
    return write
