"""Image files for the GUI: a thin layer over `tcp_core.io.imageio` (no torch, imported lazily).

The GUI catches `ImageLoadError` / `ImageSaveError` from here; they are tcp_core's own classes
when tcp_core.io.imageio is importable (it always is in a full checkout), so messages are the same
as the CLI's. It also hands the GUI the library's editing settings (their names, ranges and defaults, and
`ExportConfig`), so that no GUI module imports tcp_core itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from tcp_core.base.constants import DEFAULT_DETAIL_GAIN as _LIBRARY_DETAIL_GAIN
from tcp_core.base.constants import (  # noqa: F401 (the GUI's settings, defined once in the library)
    DEFAULT_FEATHER_EDGE,
    DEFAULT_INTERIOR_MODE,
    DEFAULT_MAX_PIXELS,
    DEFAULT_PRE_TRANSFER,
    DEFAULT_PRIMING_HIGHLIGHTS,
    DEFAULT_PRIMING_PROFILE,
    DEFAULT_PRIMING_SPREAD,
    DEFAULT_SMOOTHING,
    FEATHER_EDGES,
    IMAGE_EXTENSIONS,
    INTERIOR_MODES,
    MAX_SMOOTHING,
    MAX_STRENGTH,
    PRIMING_HIGHLIGHTS,
    PRIMING_PROFILES,
    PRIMING_SPREADS,
)

# The export's settings as one frozen value (`apply_regions(model, photo, regions, config)`): the preview, the warm-up
# and the export jobs carry one `ExportConfig`, built from the document by `Document.export_config`. Torch-free.
from tcp_core.editing.export_config import EXPORT_PRESETS, ExportConfig  # noqa: F401 (the GUI's, through here)

# Colour priming (`ExportConfig.priming`, 0..1) as the editor shows and stores it: an integer percent 0..100 (the
# spin box, project.json, a region's own priming); `Document.export_config` divides by 100. The default follows the
# library's DEFAULT_PRE_TRANSFER.
MAX_PRE_TRANSFER_PERCENT = 100
DEFAULT_PRE_TRANSFER_PERCENT = int(round(100 * DEFAULT_PRE_TRANSFER))
# The export's detail gain cap (`ExportConfig.detail_gain`) as the editor shows and stores it: a float, 0.0 = no cap
# (the library's None; `Document.export_config` passes `detail_gain or None`). The default follows the library's.
DEFAULT_DETAIL_GAIN = float(_LIBRARY_DETAIL_GAIN or 0.0)

EXPORT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WebP"}

try:  # tcp_core.io.imageio imports PIL and numpy only
    from tcp_core.io.imageio import ImageLoadError, ImageSaveError, atomic_write  # noqa: F401 (used by project.py)
except ImportError:  # pragma: no cover - partial checkouts

    class ImageLoadError(ValueError):
        pass

    class ImageSaveError(ValueError):
        pass


@dataclass
class Photo:
    rgb: np.ndarray  # HxWx3 uint8
    alpha: np.ndarray | None
    exif: bytes | None
    icc: bytes | None
    path: str


def is_image_path(path: str) -> bool:
    return os.path.splitext(str(path))[1].lower() in IMAGE_EXTENSIONS


def load_photo(path: str, max_pixels: int | None = DEFAULT_MAX_PIXELS, keep_alpha: bool = True) -> Photo:
    """Load a photo (display-oriented RGB uint8). Raises ImageLoadError with a user-facing message."""
    from tcp_core.io.imageio import load_image

    img = load_image(path, max_pixels=max_pixels, keep_alpha=keep_alpha)
    rgb = img.rgb8 if img.rgb.dtype != np.uint8 else img.rgb
    return Photo(np.ascontiguousarray(rgb), img.alpha, img.exif, img.icc, str(path))


def load_mask_file(path: str, size_wh: tuple[int, int], max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """A mask image as HxW float32 resized to (W, H); ImageLoadError if unreadable or another aspect."""
    from tcp_core.io.imageio import load_mask

    return load_mask(path, size=size_wh, max_pixels=max_pixels)


def save_photo(path: str, rgb: np.ndarray, alpha=None, exif=None, icc=None, quality: int = 92,
               protect: str | tuple[str, ...] | list[str] | None = None) -> str:
    """Atomic save, EXIF/ICC kept; refuses to write onto `protect` (the original photo, or several
    paths: the original photo first, then style references and the second photo)."""
    from tcp_core.io.imageio import save_image

    ext = os.path.splitext(str(path))[1].lower()
    if ext not in EXPORT_FORMATS and ext not in (".tif", ".tiff"):
        raise ImageSaveError(f"Cannot save '{path}': use a .png, .jpg or .webp name.")
    return str(save_image(path, rgb, alpha=alpha, exif=exif, icc=icc, quality=quality,
                          overwrite_protect=protect or None))


def save_mask_png(path: str, mask: np.ndarray) -> str:
    from PIL import Image

    from tcp_core.io.imageio import atomic_write

    arr = np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8)
    atomic_write(path, lambda f: Image.fromarray(arr, "L").save(f, format="PNG"))
    return str(path)


def remove_stale_temp_files(path: str, older_than_s: float = 60.0) -> list[str]:
    """Temp files of interrupted atomic writes of `path` (a kill mid-autosave), removed."""
    from tcp_core.io.imageio import remove_stale_temp_files as remove

    return [str(p) for p in remove(path, older_than_s)]


def same_file(a: str, b: str) -> bool:
    if not a or not b:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)
