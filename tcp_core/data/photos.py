"""Training photos on disk: finding them, decoding them, cutting random crops.

* `scan_images(dirs)`: every image file under the folders (recursive), sorted.
* `load_photo(path, target_short)`: one photo as HxWx3 uint8 RGB (EXIF orientation applied, any
  mode converted by `tcp_core.io.imageio.load_image`, the editor's loader), downscaled to a short
  side of at most `target_short`.
* `random_crop(photo, rng, resolution, scale_jitter)`: the training crop (METHOD section 2: random
  crops of 25-100 % of the short side, horizontal flips).

`tcp_core.data.stream` builds the trainer's pipeline on these: `PhotoStore` (decode on demand,
bounded cache) -> `make_batch` -> `BatchFeeder`. No torch and no Qt here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from tcp_core.base.constants import IMAGE_EXTENSIONS
from tcp_core.base.errors import UsageError
from tcp_core.io.imageio import ImageLoadError, load_image

MIN_SIDE = 32  # smaller images are skipped ("too small")

PathLike = str | os.PathLike


def _as_list(dirs: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(dirs, (str, os.PathLike)):
        return [Path(dirs)]
    return [Path(d) for d in dirs]


def scan_images(dirs: PathLike | Iterable[PathLike]) -> list[Path]:
    """All image files (jpg/jpeg/png/webp/tif/tiff/bmp, any case) under ``dirs``, recursively, sorted.

    A path that is itself an image file is taken as is. Hidden folders and macOS ``._*`` files are
    ignored. Raises ``UsageError`` (a ``ValueError``) naming the folders when a folder is missing or
    nothing is found.
    """
    folders = _as_list(dirs)
    if not folders:
        raise UsageError("no data folders given")
    missing = [str(d) for d in folders if not d.exists()]
    if missing:
        raise UsageError(f"data folder(s) not found: {', '.join(missing)}")
    found: set[Path] = set()
    for d in folders:
        if d.is_file():
            if d.suffix.lower() in IMAGE_EXTENSIONS:
                found.add(d)
            continue
        for root, subdirs, files in os.walk(d):
            subdirs[:] = [s for s in subdirs if not s.startswith(".")]
            for name in files:
                if name.startswith("._") or name.startswith("."):
                    continue
                if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                    found.add(Path(root) / name)
    if not found:
        exts = "/".join(sorted(e[1:] for e in IMAGE_EXTENSIONS))
        raise UsageError(f"no images ({exts}) found in: {', '.join(str(d) for d in folders)}")
    return sorted(found, key=lambda p: str(p))


def load_photo(path: PathLike, target_short: int, draft: bool = False) -> np.ndarray:
    """Decode ``path`` to HxWx3 uint8 RGB with its short side at most ``target_short`` (INTER_AREA).
    draft: a JPEG may be decoded at a reduced scale first (never below ``target_short``)."""
    rgb = np.ascontiguousarray(load_image(Path(path), draft_short=target_short if draft else None).rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"decoder returned {rgb.dtype} {rgb.shape}, expected HxWx3 uint8")
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"too small ({w}x{h}, need at least {MIN_SIDE} px)")
    short = min(h, w)
    if short > target_short:
        s = target_short / short
        size = (max(target_short, round(w * s)), max(target_short, round(h * s)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb)


def skip_reason(e: BaseException) -> str:
    """One line saying why a file was skipped (the exception's first line, with its type unless it
    is an `ImageLoadError`, whose messages say it all)."""
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if isinstance(e, ImageLoadError) and msg:
        return msg
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def random_crop(photo: np.ndarray, rng: np.random.Generator, resolution: int,
                scale_jitter: tuple[float, float]) -> np.ndarray:
    """A random square crop (side = U(scale_jitter) x short side), resized, maybe flipped: RxRx3 uint8."""
    h, w = photo.shape[:2]
    short = min(h, w)
    side = int(round(short * rng.uniform(scale_jitter[0], scale_jitter[1])))
    side = min(short, max(1, side))
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    crop = photo[y:y + side, x:x + side]
    if side != resolution:
        interp = cv2.INTER_AREA if side > resolution else cv2.INTER_LINEAR
        crop = cv2.resize(crop, (resolution, resolution), interpolation=interp)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return np.ascontiguousarray(crop)
