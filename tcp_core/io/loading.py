"""Robust image loading for photos the user brings (no torch, no Qt): `load_image`.

- the pixel limit (`max_pixels`) is checked from the header, before any pixel is decoded, so a
  decompression bomb costs nothing; PIL's own bomb error/warning is turned into the same error;
- every image is fully decoded at load time (`Image.load()`), so truncated or corrupt files fail
  here with a clear `ImageLoadError`, never later in the pipeline (`LOAD_TRUNCATED_IMAGES` is
  left alone);
- EXIF orientation is applied to the pixels (as `ImageOps.exif_transpose` does) and the returned
  EXIF says orientation 1;
- grayscale, LA, P (with transparency), CMYK (through its ICC profile when it has one), 1-bit,
  RGBA, 16-bit PNG/TIFF (grayscale and colour; PIL reads 16-bit colour as 8-bit, so those are
  decoded with OpenCV) are all returned as HxWx3 RGB plus an optional HxW alpha;
- the ICC profile is kept only when it describes an RGB colour space (a CMYK or gray profile does
  not describe the RGB pixels we return).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import threading
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from tcp_core.base.constants import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS
from tcp_core.base.errors import UserError
from tcp_core.io.files import as_path, display_path
from tcp_core.io.metadata import ORIENTATION_TAG, TRANSPOSE, exif_with_orientation_1, icc_colour_space, orient_array
from tcp_core.io.pixels import to_uint8, to_uint16

__all__ = ["ImageLoadError", "LoadedImage", "load_image"]

# What opening a file may cost is bounded by what the file is: an image may declare at most
# max(SMALL_IMAGE_PIXELS, MAX_PIXELS_PER_BYTE x its size in bytes) pixels (and never more than
# max_pixels). Photos hold under 20 pixels per byte, flat graphics under 350 (deflate's own limit
# is about 1032:1 on one byte per pixel); 1-bit, lossless-WebP or crafted "bombs" declaring a huge
# canvas in a few KB are refused from the header, before anything is decoded.
SMALL_IMAGE_PIXELS = 16_000_000
MAX_PIXELS_PER_BYTE = 1024

_PIL_LIMIT_LOCK = threading.Lock()


class ImageLoadError(UserError, ValueError):
    """A file could not be read as an image. The message says which file, what is wrong, and what to do."""


@dataclass
class LoadedImage:
    """A decoded photo, display-oriented.

    `rgb` is HxWx3 uint8, or uint16 when loaded with `keep_16bit=True` from a 16-bit file.
    `alpha` is HxW uint8 (only with `keep_alpha=True` and an image that has transparency).
    `exif` is EXIF bytes ("Exif\\0\\0" header, orientation 1) or None; `icc` an RGB ICC profile or None.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None
    exif: bytes | None
    icc: bytes | None
    path: Path
    bit_depth: int
    format: str | None = None
    mode: str | None = None
    n_frames: int = 1

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as PIL counts."""
        return self.width, self.height

    @property
    def rgb8(self) -> np.ndarray:
        """The pixels as HxWx3 uint8 (scaled down from 16 bits if needed)."""
        return to_uint8(self.rgb)


def load_error(path: Path, what: str, todo: str) -> ImageLoadError:
    return ImageLoadError(f"Cannot open image '{display_path(path)}': {what}. {todo}")


def open_checked(
    path: Path, fh: BinaryIO, max_pixels: int | None, allow_pixels: int = 0
) -> tuple[Image.Image, bool]:
    """Open (header only) and check the pixel limit before anything is decoded.

    Besides `max_pixels`, the image may not declare more than max(SMALL_IMAGE_PIXELS,
    MAX_PIXELS_PER_BYTE x file size, `allow_pixels`) pixels (see SMALL_IMAGE_PIXELS).

    Returns (image, lifted): `lifted` says PIL's own hard bomb limit had to be lifted because the
    caller's `max_pixels` allows more; the decode must then run under `_PIL_LIMIT_LOCK`.
    """
    lifted = False
    try:
        with warnings.catch_warnings():
            # Our own limit is authoritative; PIL's warning for "large" images is noise here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                im = Image.open(fh)
            except Image.DecompressionBombError:
                # Read just the header without PIL's limit, so the size is checked (and reported)
                # against ours, which may be higher than PIL's when the user raised it.
                fh.seek(0)
                with _PIL_LIMIT_LOCK:
                    saved = Image.MAX_IMAGE_PIXELS
                    Image.MAX_IMAGE_PIXELS = None
                    try:
                        im = Image.open(fh)
                    finally:
                        Image.MAX_IMAGE_PIXELS = saved
                lifted = True
    except UnidentifiedImageError:
        raise load_error(
            path,
            "the file is not an image in a supported format",
            "Supported formats: " + ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS) + ".",
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, MemoryError) as e:
        raise load_error(path, f"the file is damaged ({e})", "Re-export or re-download the image.") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        im.close()
        raise load_error(path, f"it declares an empty size {w}x{h}", "The file is damaged.")
    if max_pixels is not None and w * h > max_pixels:
        im.close()
        raise load_error(
            path,
            f"it is {w}x{h} = {w * h / 1e6:.1f} megapixels, more than the limit of {max_pixels / 1e6:.1f} megapixels",
            "It may be a decompression bomb; if it is a genuine photo, downscale it, or raise the "
            "limit (--max-pixels) if you trust the file and have the memory.",
        )
    try:
        size = os.fstat(fh.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        size = None
    if size is not None and w * h > max(SMALL_IMAGE_PIXELS, MAX_PIXELS_PER_BYTE * size, allow_pixels):
        im.close()
        raise load_error(
            path,
            f"it declares {w}x{h} = {w * h / 1e6:.1f} megapixels in a file of only {size} bytes "
            f"({w * h / max(size, 1):.0f} pixels per byte; images above {SMALL_IMAGE_PIXELS / 1e6:.0f} megapixels "
            f"hold at most {MAX_PIXELS_PER_BYTE} per byte)",
            "It is almost certainly a decompression bomb, so it is not decoded.",
        )
    return im, lifted


def full_decode(im: Image.Image, path: Path, lifted: bool = False) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            if lifted:
                with _PIL_LIMIT_LOCK:
                    saved = Image.MAX_IMAGE_PIXELS
                    Image.MAX_IMAGE_PIXELS = None
                    try:
                        im.load()
                    finally:
                        Image.MAX_IMAGE_PIXELS = saved
            else:
                im.load()
    except Image.DecompressionBombError as e:
        raise load_error(path, f"it is too large to decode safely ({e})", "Downscale it first.") from None
    except MemoryError:
        raise load_error(
            path, "there is not enough memory to decode it", "Close other programs or downscale it."
        ) from None
    except Exception as e:  # OSError "image file is truncated", SyntaxError "broken PNG", zlib.error...
        raise load_error(
            path,
            f"the file is truncated or corrupt ({type(e).__name__}: {e})",
            "Re-export or re-download the image.",
        ) from None


def tile_is_16bit(im: Image.Image) -> bool:
    for t in getattr(im, "tile", None) or []:
        args = t.args if hasattr(t, "args") else t[3]
        raw = args[0] if isinstance(args, tuple) and args else args
        if isinstance(raw, str) and ";16" in raw:
            return True
    return False


def _decode_16bit_colour(path: Path) -> np.ndarray | None:
    """16-bit colour PNG/TIFF through OpenCV (PIL keeps only 8 bits). RGB/RGBA/GA order, or None."""
    import cv2

    try:
        buf = np.fromfile(path, dtype=np.uint8)
        a = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    except Exception:
        return None
    if a is None or a.dtype != np.uint16:
        return None
    if a.ndim == 2:
        return a[:, :, None]
    if a.shape[2] == 3:
        return a[:, :, ::-1]
    if a.shape[2] == 4:
        return a[:, :, [2, 1, 0, 3]]
    return a


def _pil_to_arrays(im: Image.Image, path: Path) -> tuple[np.ndarray, np.ndarray | None, int, bool]:
    """(colour HxWx{1,3} uint8|uint16, alpha HxW (same dtype) or None, bit depth, converted_with_icc)."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        a = np.asarray(im).astype(np.uint16)
        return a[:, :, None], None, 16, False
    if mode == "I":
        a = np.asarray(im)
        return np.clip(a, 0, 65535).astype(np.uint16)[:, :, None], None, 16, False
    if mode == "F":
        a = np.asarray(im, dtype=np.float32)
        hi = float(np.nanmax(a)) if a.size else 1.0
        scale = 1.0 if hi <= 1.0 else (255.0 if hi <= 255.0 else 65535.0)
        a = np.nan_to_num(a / scale, nan=0.0)
        return np.clip(np.rint(a * 65535.0), 0, 65535).astype(np.uint16)[:, :, None], None, 32, False
    if mode == "CMYK":
        icc = im.info.get("icc_profile")
        if icc:
            try:
                src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                dst = ImageCms.createProfile("sRGB")
                rgb = ImageCms.profileToProfile(im, src, dst, outputMode="RGB")
                return np.asarray(rgb), None, 8, True
            except Exception:
                pass  # fall back to PIL's naive conversion
        return np.asarray(im.convert("RGB")), None, 8, False
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info):
        rgba = np.asarray(im.convert("RGBA"))
        return rgba[:, :, :3], rgba[:, :, 3], 8, False
    if mode in ("L", "1"):
        return np.asarray(im.convert("L"))[:, :, None], None, 1 if mode == "1" else 8, False
    if mode == "RGB":
        return np.asarray(im), None, 8, False
    try:
        return np.asarray(im.convert("RGB")), None, 8, False
    except Exception as e:
        raise load_error(path, f"its colour mode {mode!r} is not supported ({e})", "Convert it to RGB first.") from None


def load_image(
    path: str | os.PathLike | bytes,
    *,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    keep_alpha: bool = False,
    keep_16bit: bool = False,
    draft_short: int | None = None,
    _allow_pixels: int = 0,
) -> LoadedImage:
    """Load a photo as display-oriented RGB (see the module docstring).

    `keep_alpha=False` composites transparent images over white (so the editor sees what a
    viewer shows); `keep_alpha=True` returns the unpremultiplied colours and the alpha separately.
    `keep_16bit=True` returns uint16 pixels for 16-bit sources (uint8 otherwise).
    `draft_short`: a JPEG may be decoded at 1/2, 1/4 or 1/8 scale (libjpeg's fast scaled decode)
    as long as its short side stays at least this many pixels (training reads photos this way).
    Raises `ImageLoadError` for anything that is not a readable image within the limits.
    """
    path = as_path(path)
    if max_pixels is not None and max_pixels <= 0:
        raise ValueError("max_pixels must be positive (or None for no limit)")
    check_file(path)

    try:
        fh = open(path, "rb")
    except OSError as e:
        raise load_error(path, f"it cannot be read ({e.strerror})", "Check the file permissions.") from None
    with fh:
        im, lifted = open_checked(path, fh, max_pixels, _allow_pixels)
        with im:
            fmt = im.format
            mode = im.mode
            n_frames = int(getattr(im, "n_frames", 1) or 1)
            if n_frames > 1:
                im.seek(0)
            is_16bit_colour = tile_is_16bit(im) and mode not in ("I;16", "I;16L", "I;16B", "I;16N", "I")
            if draft_short and fmt == "JPEG":
                w0, h0 = im.size
                sc = draft_short / max(1, min(w0, h0))
                if sc < 1:
                    im.draft(im.mode, (max(1, -(-w0 * draft_short // min(w0, h0))),
                                       max(1, -(-h0 * draft_short // min(w0, h0)))))
            full_decode(im, path, lifted)
            try:
                exif_obj = im.getexif()
                orientation = int(exif_obj.get(ORIENTATION_TAG, 1) or 1)
            except Exception:
                exif_obj, orientation = None, 1
            if orientation not in TRANSPOSE:
                orientation = 1
            icc = im.info.get("icc_profile") or None

            colour = alpha = None
            bit_depth = 8
            used_icc_conversion = False
            if is_16bit_colour:
                a16 = _decode_16bit_colour(path)
                if a16 is not None and a16.shape[:2] == (im.size[1], im.size[0]):
                    bit_depth = 16
                    if a16.shape[2] in (2, 4):
                        colour, alpha = a16[:, :, :-1], a16[:, :, -1]
                    else:
                        colour = a16
            if colour is None:
                colour, alpha, bit_depth, used_icc_conversion = _pil_to_arrays(im, path)
            if alpha is not None and int(alpha.min()) == int(np.iinfo(alpha.dtype).max):
                alpha = None  # an alpha channel that is opaque everywhere carries nothing
            exif = exif_with_orientation_1(exif_obj) if exif_obj is not None else None

    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    colour = orient_array(colour, orientation)
    if alpha is not None:
        alpha = orient_array(alpha, orientation)

    if alpha is not None and not keep_alpha:
        hi = float(np.iinfo(colour.dtype).max)
        af = alpha.astype(np.float32)[:, :, None] / float(np.iinfo(alpha.dtype).max)
        colour = np.rint(colour.astype(np.float32) * af + hi * (1.0 - af)).astype(colour.dtype)
        alpha = None
    if alpha is not None:
        alpha = to_uint8(alpha)

    if keep_16bit and bit_depth == 16:
        colour = to_uint16(colour)
    else:
        colour = to_uint8(colour)
    colour = np.ascontiguousarray(colour)
    if not colour.flags.writeable:
        colour = colour.copy()
    if alpha is not None and not alpha.flags.writeable:
        alpha = alpha.copy()

    if used_icc_conversion or (icc is not None and icc_colour_space(icc) != b"RGB "):
        icc = None  # the returned pixels are (s)RGB; a CMYK/gray profile would be wrong for them

    return LoadedImage(
        rgb=colour,
        alpha=alpha,
        exif=exif,
        icc=icc,
        path=path,
        bit_depth=bit_depth,
        format=fmt,
        mode=mode,
        n_frames=n_frames,
    )


def check_file(path: Path) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise load_error(path, "the file does not exist", "Check the path.") from None
    except OSError as e:
        raise load_error(path, f"it cannot be accessed ({e.strerror})", "Check the path and permissions.") from None
    if stat.S_ISDIR(st.st_mode):
        raise load_error(path, "it is a folder, not a file", "Pass an image file.")
    if st.st_size == 0:
        raise load_error(path, "the file is empty (0 bytes)", "Re-export or re-download the image.")
