"""Robust image loading and saving for photos the user brings (no torch, no Qt).

Loading (`load_image`):
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

Saving (`save_image`) is atomic: the file is written to a temporary name in the target
directory, fsync'ed and renamed over the target, so a crash or an encoder error never leaves a
partial file, and it refuses to write onto the original photo (`overwrite_protect`).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tempfile
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageCms, UnidentifiedImageError

from tcp_core.base.constants import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS
from tcp_core.base.errors import UserError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "SAVE_FORMATS",
    "ImageLoadError",
    "ImageSaveError",
    "LoadedImage",
    "atomic_write",
    "atomic_write_all",
    "display_path",
    "image_writer",
    "iter_images",
    "load_image",
    "load_mask",
    "save_image",
    "to_uint8",
]

# What opening a file may cost is bounded by what the file is: an image may declare at most
# max(SMALL_IMAGE_PIXELS, MAX_PIXELS_PER_BYTE x its size in bytes) pixels (and never more than
# max_pixels). Photos hold under 20 pixels per byte, flat graphics under 350 (deflate's own limit
# is about 1032:1 on one byte per pixel); 1-bit, lossless-WebP or crafted "bombs" declaring a huge
# canvas in a few KB are refused from the header, before anything is decoded.
SMALL_IMAGE_PIXELS = 16_000_000
MAX_PIXELS_PER_BYTE = 1024
MASK_PIXELS_PER_TARGET = 4  # a mask for a W x H photo may have up to 4 W H pixels, however small its file
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}
MASK_ASPECT_TOLERANCE = 0.01

_ORIENTATION_TAG = 0x0112
_TRANSPOSE = {
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

_PIL_LIMIT_LOCK = threading.Lock()

_UMASK = os.umask(0)
os.umask(_UMASK)


class ImageLoadError(UserError, ValueError):
    """A file could not be read as an image. The message says which file, what is wrong, and what to do."""


class ImageSaveError(UserError, ValueError):
    """An image could not be written. The message says which file, what is wrong, and what to do."""


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


# ----------------------------------------------------------------------------------------------
# helpers


def display_path(path: str | os.PathLike | bytes) -> str:
    """A printable form of any path, including names that are not valid UTF-8."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", "backslashreplace")


def _as_path(path: str | os.PathLike | bytes) -> Path:
    if isinstance(path, bytes):
        return Path(os.fsdecode(path))
    return Path(path)


def to_uint8(a: np.ndarray) -> np.ndarray:
    """uint8 -> itself; uint16 -> correctly rounded 8-bit (v / 257); float in [0, 1] -> 0..255."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(a.dtype, np.floating):
        return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    raise TypeError(f"unsupported pixel dtype {a.dtype}")


def _to_uint16(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.uint16:
        return a
    if a.dtype == np.uint8:
        return a.astype(np.uint16) * 257
    raise TypeError(f"unsupported pixel dtype {a.dtype}")


def _orient_array(a: np.ndarray, orientation: int) -> np.ndarray:
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


def _icc_colour_space(icc: bytes) -> bytes | None:
    if len(icc) < 20:
        return None
    return icc[16:20]


def _exif_with_orientation_1(exif: Image.Exif | bytes | None) -> bytes | None:
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
        if ex.get(_ORIENTATION_TAG, 1) != 1:
            ex[_ORIENTATION_TAG] = 1
        out = ex.tobytes()
    except Exception:
        return None
    return out or None


def _fail(path: Path, what: str, todo: str) -> ImageLoadError:
    return ImageLoadError(f"Cannot open image '{display_path(path)}': {what}. {todo}")


# ----------------------------------------------------------------------------------------------
# loading


def _open_checked(
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
        raise _fail(
            path,
            "the file is not an image in a supported format",
            "Supported formats: " + ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS) + ".",
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, MemoryError) as e:
        raise _fail(path, f"the file is damaged ({e})", "Re-export or re-download the image.") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        im.close()
        raise _fail(path, f"it declares an empty size {w}x{h}", "The file is damaged.")
    if max_pixels is not None and w * h > max_pixels:
        im.close()
        raise _fail(
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
        raise _fail(
            path,
            f"it declares {w}x{h} = {w * h / 1e6:.1f} megapixels in a file of only {size} bytes "
            f"({w * h / max(size, 1):.0f} pixels per byte; images above {SMALL_IMAGE_PIXELS / 1e6:.0f} megapixels "
            f"hold at most {MAX_PIXELS_PER_BYTE} per byte)",
            "It is almost certainly a decompression bomb, so it is not decoded.",
        )
    return im, lifted


def _full_decode(im: Image.Image, path: Path, lifted: bool = False) -> None:
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
        raise _fail(path, f"it is too large to decode safely ({e})", "Downscale it first.") from None
    except MemoryError:
        raise _fail(path, "there is not enough memory to decode it", "Close other programs or downscale it.") from None
    except Exception as e:  # OSError "image file is truncated", SyntaxError "broken PNG", zlib.error...
        raise _fail(
            path,
            f"the file is truncated or corrupt ({type(e).__name__}: {e})",
            "Re-export or re-download the image.",
        ) from None


def _tile_is_16bit(im: Image.Image) -> bool:
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
        raise _fail(path, f"its colour mode {mode!r} is not supported ({e})", "Convert it to RGB first.") from None


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
    path = _as_path(path)
    if max_pixels is not None and max_pixels <= 0:
        raise ValueError("max_pixels must be positive (or None for no limit)")
    _check_file(path)

    try:
        fh = open(path, "rb")
    except OSError as e:
        raise _fail(path, f"it cannot be read ({e.strerror})", "Check the file permissions.") from None
    with fh:
        im, lifted = _open_checked(path, fh, max_pixels, _allow_pixels)
        with im:
            fmt = im.format
            mode = im.mode
            n_frames = int(getattr(im, "n_frames", 1) or 1)
            if n_frames > 1:
                im.seek(0)
            is_16bit_colour = _tile_is_16bit(im) and mode not in ("I;16", "I;16L", "I;16B", "I;16N", "I")
            if draft_short and fmt == "JPEG":
                w0, h0 = im.size
                sc = draft_short / max(1, min(w0, h0))
                if sc < 1:
                    im.draft(im.mode, (max(1, -(-w0 * draft_short // min(w0, h0))),
                                       max(1, -(-h0 * draft_short // min(w0, h0)))))
            _full_decode(im, path, lifted)
            try:
                exif_obj = im.getexif()
                orientation = int(exif_obj.get(_ORIENTATION_TAG, 1) or 1)
            except Exception:
                exif_obj, orientation = None, 1
            if orientation not in _TRANSPOSE:
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
            exif = _exif_with_orientation_1(exif_obj) if exif_obj is not None else None

    if colour.shape[2] == 1:
        colour = np.repeat(colour, 3, axis=2)
    colour = _orient_array(colour, orientation)
    if alpha is not None:
        alpha = _orient_array(alpha, orientation)

    if alpha is not None and not keep_alpha:
        hi = float(np.iinfo(colour.dtype).max)
        af = alpha.astype(np.float32)[:, :, None] / float(np.iinfo(alpha.dtype).max)
        colour = np.rint(colour.astype(np.float32) * af + hi * (1.0 - af)).astype(colour.dtype)
        alpha = None
    if alpha is not None:
        alpha = to_uint8(alpha)

    if keep_16bit and bit_depth == 16:
        colour = _to_uint16(colour)
    else:
        colour = to_uint8(colour)
    colour = np.ascontiguousarray(colour)
    if not colour.flags.writeable:
        colour = colour.copy()
    if alpha is not None and not alpha.flags.writeable:
        alpha = alpha.copy()

    if used_icc_conversion or (icc is not None and _icc_colour_space(icc) != b"RGB "):
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


def _check_file(path: Path) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _fail(path, "the file does not exist", "Check the path.") from None
    except OSError as e:
        raise _fail(path, f"it cannot be accessed ({e.strerror})", "Check the path and permissions.") from None
    if stat.S_ISDIR(st.st_mode):
        raise _fail(path, "it is a folder, not a file", "Pass an image file.")
    if st.st_size == 0:
        raise _fail(path, "the file is empty (0 bytes)", "Re-export or re-download the image.")


def _decode_mask(path: Path, max_pixels: int | None, allow_pixels: int = 0) -> np.ndarray:
    """Mask pixels as HxW float32 in [0, 1], display-oriented, without building an RGB copy."""
    _check_file(path)
    fast_modes = ("L", "1", "LA", "La", "PA", "P", "RGBA", "RGBa", "RGB", "I;16", "I;16L", "I;16B", "I;16N", "I")
    try:
        with open(path, "rb") as fh:
            im, lifted = _open_checked(path, fh, max_pixels, allow_pixels)
            with im:
                if im.mode not in fast_modes or _tile_is_16bit(im):
                    im = None
                else:
                    _full_decode(im, path, lifted)
                    try:
                        orientation = int(im.getexif().get(_ORIENTATION_TAG, 1) or 1)
                    except Exception:
                        orientation = 1
                    if orientation not in _TRANSPOSE:
                        orientation = 1
                    mode = im.mode
                    has_alpha = mode in ("LA", "La", "PA", "RGBA", "RGBa") or (
                        mode == "P" and "transparency" in im.info
                    )
                    m = None
                    if has_alpha:
                        a = np.asarray(im.getchannel("A") if mode != "P" else im.convert("RGBA").getchannel("A"))
                        if int(a.min()) < 255:
                            m = a.astype(np.float32) * np.float32(1 / 255)
                    if m is None:
                        if mode.startswith("I"):
                            m = np.asarray(im).astype(np.float32) * np.float32(1 / 65535)
                        else:
                            g = im if mode == "L" else im.convert("L")
                            m = np.asarray(g).astype(np.float32) * np.float32(1 / 255)
                    m = _orient_array(m, orientation)
    except OSError as e:
        raise _fail(path, f"it cannot be read ({e.strerror or e})", "Check the path and permissions.") from None
    if im is None:  # unusual modes (CMYK, 16-bit colour, ...): the general loader
        img = load_image(path, max_pixels=max_pixels, keep_alpha=True, keep_16bit=True, _allow_pixels=allow_pixels)
        if img.alpha is not None:
            m = img.alpha.astype(np.float32) / 255.0
        else:
            c = img.rgb.astype(np.float32) / float(np.iinfo(img.rgb.dtype).max)
            m = 0.299 * c[:, :, 0] + 0.587 * c[:, :, 1] + 0.114 * c[:, :, 2]
    return np.clip(m, 0.0, 1.0).astype(np.float32, copy=False)


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
    path = _as_path(path)
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


# ----------------------------------------------------------------------------------------------
# saving


STALE_TEMP_S = 600.0  # a temp file untouched this long belongs to a killed write (sweeps in atomic_write)


def _temp_prefix(path: Path) -> str:
    return "." + os.fsencode(path.name)[:100].decode("utf-8", "ignore") + "."


def remove_stale_temp_files(path: str | os.PathLike | bytes, older_than_s: float = 60.0) -> list[Path]:
    """Delete the temp files that `atomic_write(path, ...)` calls left behind when the process was
    killed mid-write (`.NAME.XXXXXXXX.part` beside `path`: one token of letters, digits, _), if
    not modified for `older_than_s` (so a write in progress in another process is left alone).
    Returns the removed paths; errors are ignored. `atomic_write` calls it (STALE_TEMP_S) itself."""
    import re

    path = _as_path(path)
    parent = path.parent if str(path.parent) else Path(".")
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"[A-Za-z0-9_]+\.part")
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for p in entries:
        if pattern.fullmatch(p.name):
            try:
                if now - p.stat().st_mtime >= older_than_s and p.is_file():
                    p.unlink()
                    removed.append(p)
            except OSError:
                pass
    return removed


def atomic_write(path: str | os.PathLike | bytes, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file atomically: `write(f)` fills a temp file in the target's directory, which is
    fsync'ed and renamed over `path`. On any error the temp file is removed and `path` untouched.
    Temp files of earlier writes of `path` that were killed (untouched for STALE_TEMP_S) are removed."""
    return atomic_write_all([(path, write)], _encoder_errors=False)[0]


def atomic_write_all(
    items: Sequence[tuple[str | os.PathLike | bytes, Callable[[BinaryIO], None]]], *, _encoder_errors: bool = True
) -> list[Path]:
    """Write several files as one: every temp file is written and fsync'ed first, and only when all
    of them succeeded are they renamed into place, so a full disk or an encoder error leaves none of
    the targets changed ("nothing was written" is then true). Raises `ImageSaveError`."""
    done: list[tuple[str, Path]] = []  # (temp, final)
    try:
        for target, write in items:
            path = _as_path(target)
            done.append((_write_temp(path, write, _encoder_errors), path))
    except BaseException:
        for tmp, _ in done:
            _unlink_quietly(tmp)
        raise
    committed: list[Path] = []
    for i, (tmp, path) in enumerate(done):
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode) if path.exists() else (0o666 & ~_UMASK)
            os.chmod(tmp, mode)
        except OSError:
            pass
        try:
            os.replace(tmp, path)
        except OSError as e:
            for t, _ in done[i:]:
                _unlink_quietly(t)
            wrote = "; nothing was written"
            if committed:
                wrote = f"; written: {', '.join(display_path(p) for p in committed)}"
            raise ImageSaveError(f"Cannot save '{display_path(path)}': {e.strerror or e}{wrote}.") from e
        committed.append(path)
    for parent in {p.parent if str(p.parent) else Path(".") for p in committed}:
        _fsync_dir(parent)
    return committed


def _unlink_quietly(p: str) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def _fsync_dir(parent: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        try:
            dfd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass


def _write_temp(path: Path, write: Callable[[BinaryIO], None], encoder_errors: bool) -> str:
    """`write` into a new fsync'ed temp file beside `path`; returns its name (removed on any error)."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ImageSaveError(
            f"Cannot save '{display_path(path)}': the folder '{display_path(parent)}' does not exist. "
            "Create it first or choose another output path."
        )
    remove_stale_temp_files(path, STALE_TEMP_S)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".part", dir=parent)
    except OSError as e:
        raise ImageSaveError(
            f"Cannot save '{display_path(path)}': cannot create a file in '{display_path(parent)}' "
            f"({e.strerror}). Check the folder's permissions and free space."
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as e:
        _unlink_quietly(tmp)
        if isinstance(e, ImageSaveError):
            raise
        if isinstance(e, OSError):
            raise ImageSaveError(
                f"Cannot save '{display_path(path)}': {e.strerror or e}. "
                "Check free disk space and permissions; nothing was written."
            ) from e
        if encoder_errors and isinstance(e, Exception):  # ValueError, KeyError... from an encoder
            fmt = getattr(write, "format", None) or "image"
            raise ImageSaveError(
                f"Cannot save '{display_path(path)}': the {fmt} encoder failed ({e}). Nothing was written."
            ) from e
        raise
    return tmp


def file_id(p: str | os.PathLike) -> tuple[int, int] | None:
    """(device, inode) of an existing file, None otherwise: the same for every link and spelling of it."""
    try:
        st = os.stat(p)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
    except OSError:
        pass
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


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
        a16 = _to_uint16(alpha)
        bgr = np.dstack([bgr, a16])
    bgr = np.ascontiguousarray(bgr)
    ext = ".png" if fmt == "PNG" else ".tif"
    params = [cv2.IMWRITE_PNG_COMPRESSION, 4] if fmt == "PNG" else []
    ok, buf = cv2.imencode(ext, bgr, params)
    if not ok:
        raise OSError("the 16-bit encoder failed")
    data = buf.tobytes()
    if fmt == "PNG":
        chunks = []
        if icc:
            chunks.append(_png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc)))
        if exif:
            raw = exif[6:] if exif.startswith(b"Exif\x00\x00") else exif
            chunks.append(_png_chunk(b"eXIf", raw))
        data = _png_insert_chunks(data, chunks)
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
    path = _as_path(path)
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
            if _same_file(path, _as_path(src)):
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
    exif = _exif_with_orientation_1(exif)
    if icc is not None and _icc_colour_space(icc) != b"RGB ":
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
    else:
        rgb8 = to_uint8(rgb)
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
        elif fmt == "PNG":
            kw.update(compress_level=4)
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


# ----------------------------------------------------------------------------------------------
# folders


def iter_images(dirs: str | os.PathLike | Iterable[str | os.PathLike], recursive: bool = True) -> Iterator[Path]:
    """Image files (by extension, case-insensitive) in `dirs`, sorted; hidden files are skipped.

    A path that is itself an image file is yielded as is.
    """
    if isinstance(dirs, (str, bytes, os.PathLike)):
        dirs = [dirs]
    found: set[Path] = set()
    for d in dirs:
        d = _as_path(d)
        if d.is_file():
            if d.suffix.lower() in IMAGE_EXTENSIONS:
                found.add(d)
            continue
        if not d.is_dir():
            continue
        if recursive:
            for root, subdirs, files in os.walk(d):
                subdirs[:] = [s for s in subdirs if not s.startswith(".")]
                for name in files:
                    if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                        found.add(Path(root) / name)
        else:
            for p in d.iterdir():
                if not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file():
                    found.add(p)
    yield from sorted(found, key=lambda p: (os.fsencode(p).lower(), os.fsencode(p)))
