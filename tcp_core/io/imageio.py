"""The image-file API of tcp_core in one place (no torch, no Qt): what callers outside `tcp_core.io`
import. It only re-exports; the code lives in modules by job:

- `tcp_core.io.loading`: `load_image` (limits checked from the header, full decode, EXIF
  orientation applied, every colour mode and 16-bit to RGB + optional alpha), `LoadedImage`;
- `tcp_core.io.masks`: `load_mask`;
- `tcp_core.io.saving`: `save_image` / `image_writer` (formats, 16-bit PNG/TIFF, PNG metadata chunks);
- `tcp_core.io.metadata`: EXIF orientation and cleaning, ICC colour spaces;
- `tcp_core.io.pixels`: `to_uint8` / `to_uint16`;
- `tcp_core.io.files`: atomic writes, stale temp files, file identity, printable paths, image folders.
"""

from __future__ import annotations

from tcp_core.base.constants import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS
from tcp_core.io.files import (
    STALE_TEMP_S,
    ImageSaveError,
    atomic_write,
    atomic_write_all,
    display_path,
    file_id,
    iter_images,
    remove_stale_temp_files,
)
from tcp_core.io.loading import ImageLoadError, LoadedImage, load_image
from tcp_core.io.masks import load_mask
from tcp_core.io.pixels import to_uint8
from tcp_core.io.saving import SAVE_FORMATS, image_writer, save_image

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "SAVE_FORMATS",
    "STALE_TEMP_S",
    "ImageLoadError",
    "ImageSaveError",
    "LoadedImage",
    "atomic_write",
    "atomic_write_all",
    "display_path",
    "file_id",
    "image_writer",
    "iter_images",
    "load_image",
    "load_mask",
    "remove_stale_temp_files",
    "save_image",
    "to_uint8",
]
