"""Training data set: photos from one or more folders, served as random square crops.

* `scan_images(dirs)`: every image file under the folders (recursive), sorted.
* `PhotoDataset(dirs, resolution)`: decodes each photo once (EXIF orientation applied, any mode
  converted to 8-bit RGB), keeps it downscaled to a short side of ``max(3 * resolution, 512)`` px
  as a uint8 array, and serves random crops (scale jitter + horizontal flip) as float tensors
  ``[3, R, R]`` in ``[-1, 1]``. Unreadable files are skipped and listed in ``.skipped``.
* `make_loader(dataset, batch_size, num_workers, seed)`: an endless iterator of ``[B, 3, R, R]``.

Randomness: sample ``i`` is a pure function of ``(dataset.seed, i)`` (a fresh numpy Generator per
sample), and `make_loader` feeds global sample numbers ``epoch * len(dataset) + k`` in a per-epoch
permutation seeded by ``(seed, epoch)``. So batches are reproducible and do not depend on the
number of workers or on which worker made them, and ``start_batch`` resumes the exact stream.

No Qt here.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import DataLoader, Dataset, Sampler

from tcp_core.base.constants import IMAGE_EXTENSIONS
from tcp_core.base.errors import UsageError

log = logging.getLogger(__name__)

MIN_SIDE = 32  # smaller images are skipped ("too small")

PathLike = str | os.PathLike


# ----------------------------------------------------------------------------------------------
# scanning
# ----------------------------------------------------------------------------------------------


def _as_list(dirs: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(dirs, (str, os.PathLike)):
        return [Path(dirs)]
    return [Path(d) for d in dirs]


def scan_images(dirs: PathLike | Iterable[PathLike]) -> list[Path]:
    """All image files (jpg/jpeg/png/webp/tif/tiff/bmp, any case) under ``dirs``, recursively, sorted.

    A path that is itself an image file is taken as is. Hidden folders and macOS ``._*`` files are
    ignored. Raises ``ValueError`` naming the folders when a folder is missing or nothing is found.
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


# ----------------------------------------------------------------------------------------------
# decoding
# ----------------------------------------------------------------------------------------------


def _pil_to_rgb(im: Image.Image) -> np.ndarray:
    """Any PIL mode -> HxWx3 uint8 RGB. 16/32-bit grey is scaled (not clipped); alpha goes over white."""
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(im).astype(np.float32)
        if mode.startswith("I;16") or a.max(initial=0) > 255:
            a = a / 257.0  # 0..65535 -> 0..255
        g = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(g[:, :, None], 3, axis=2))
    if mode == "F":
        a = np.asarray(im).astype(np.float32)
        if a.size and float(np.nanmax(a)) <= 1.0:
            a = a * 255.0
        g = np.clip(np.rint(np.nan_to_num(a)), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(g[:, :, None], 3, axis=2))
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(bg, rgba).convert("RGB"))
    return np.asarray(im.convert("RGB"))


def _pil_load_rgb(path: Path, target_short: int | None = None) -> np.ndarray:
    """Private fallback loader (used when `tcp_core.io.imageio` is not available)."""
    with Image.open(path) as im:
        if target_short and im.format == "JPEG":
            w, h = im.size
            s = target_short / max(1, min(w, h))
            if s < 1:  # let libjpeg decode at 1/2, 1/4 or 1/8 scale, never below the target
                im.draft(None, (max(1, math.ceil(w * s)), max(1, math.ceil(h * s))))
        im.load()  # raises on truncated / corrupt data
        im = ImageOps.exif_transpose(im)
        return _pil_to_rgb(im)


_LOADER = None


def _loader():
    """`tcp_core.io.imageio.load_image` when present, otherwise the private PIL loader.

    load_image decodes at full size (no JPEG draft scaling), so pre-decoding is ~2.5x slower than
    the private loader on large JPEGs; it is preferred for one shared set of mode/EXIF/ICC rules.
    """
    global _LOADER
    if _LOADER is None:
        try:
            from tcp_core.io.imageio import load_image  # type: ignore[attr-defined]
        except ImportError:
            _LOADER = _pil_load_rgb
        else:
            def _via_imageio(path: Path, target_short: int | None = None) -> np.ndarray:
                return np.ascontiguousarray(load_image(path, draft_short=target_short).rgb)

            _LOADER = _via_imageio
    return _LOADER


def load_photo(path: PathLike, target_short: int, draft: bool = False) -> np.ndarray:
    """Decode ``path`` to HxWx3 uint8 RGB with its short side at most ``target_short`` (INTER_AREA).
    draft: a JPEG may be decoded at a reduced scale first (never below ``target_short``)."""
    rgb = _loader()(Path(path), target_short if draft else None)
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


def _reason(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if type(e).__name__ == "ImageLoadError" and msg:  # tcp_core.io.imageio's messages say it all
        return msg
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


# ----------------------------------------------------------------------------------------------
# the data set
# ----------------------------------------------------------------------------------------------


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


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 -> float32 [3, H, W] in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


class PhotoDataset(Dataset):
    """Random square crops of the photos in ``dirs`` (several folders form one data set).

    Attributes: ``paths`` (loaded files), ``photos`` (their uint8 HxWx3 arrays, short side at most
    ``max(3 * resolution, 512)``), ``skipped`` (``[(path, reason)]`` of unreadable files).
    ``dataset[i]`` is a float tensor ``[3, R, R]`` in ``[-1, 1]`` and a pure function of
    ``(seed, i)``; any non-negative ``i`` is valid (``make_loader`` passes
    ``epoch * len(dataset) + k``), and sample ``i`` uses photo ``(i % len(dataset)) % len(photos)``.
    """

    def __init__(
        self,
        dirs: PathLike | Sequence[PathLike],
        resolution: int,
        scale_jitter: tuple[float, float] = (0.25, 1.0),
        length: int | None = None,
        seed: int = 0,
        num_threads: int | None = None,
    ) -> None:
        if int(resolution) < 8:
            raise ValueError(f"resolution must be at least 8, got {resolution}")
        lo, hi = (float(v) for v in scale_jitter)
        if not (0.0 < lo <= hi <= 1.0):
            raise ValueError(f"scale_jitter must satisfy 0 < low <= high <= 1, got {scale_jitter}")
        self.resolution = int(resolution)
        self.scale_jitter = (lo, hi)
        self.seed = int(seed)
        self.dirs = _as_list(dirs)
        self.store_short = max(3 * self.resolution, 512)

        files = scan_images(self.dirs)
        threads = num_threads or min(8, os.cpu_count() or 1)

        def _one(p: Path):
            try:
                return load_photo(p, self.store_short), None
            except Exception as e:  # noqa: BLE001 - any decoder failure means "skip this file"
                return None, _reason(e)

        if threads > 1 and len(files) > 1:
            with ThreadPoolExecutor(max_workers=threads) as ex:  # PIL / OpenCV release the GIL
                results = list(ex.map(_one, files))
        else:
            results = [_one(p) for p in files]

        self.paths: list[Path] = []
        self.photos: list[np.ndarray] = []
        self.skipped: list[tuple[str, str]] = []
        for p, (arr, why) in zip(files, results):
            if arr is None:
                self.skipped.append((str(p), why))
            else:
                self.paths.append(p)
                self.photos.append(arr)
        if self.skipped:
            shown = "; ".join(why if p in why else f"{p}: {why}" for p, why in self.skipped[:3])
            more = f"; and {len(self.skipped) - 3} more (see .skipped)" if len(self.skipped) > 3 else ""
            log.warning("skipped %d unreadable image file(s) of %d: %s%s", len(self.skipped), len(files),
                        shown, more)
        if not self.photos:
            raise UsageError(
                f"none of the {len(files)} image file(s) in {', '.join(str(d) for d in self.dirs)} could be "
                f"read (first problem: {self.skipped[0][0]}: {self.skipped[0][1]})")
        self.length = int(length) if length is not None else max(1000, 50 * len(self.photos))
        if self.length < 1:
            raise ValueError(f"length must be positive, got {length}")

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.photos)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        index = int(index)
        if index < 0:
            if index < -self.length:
                raise IndexError(index)
            index += self.length
        rng = np.random.default_rng([self.seed, index])
        photo = self.photos[(index % self.length) % len(self.photos)]
        return to_tensor(random_crop(photo, rng, self.resolution, self.scale_jitter))

    def __repr__(self) -> str:
        return (f"PhotoDataset({len(self.photos)} photos from {len(self.dirs)} folder(s), "
                f"{len(self.skipped)} skipped, resolution={self.resolution}, length={self.length}, "
                f"{self.nbytes / 2**20:.0f} MiB)")


# ----------------------------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------------------------


class InfiniteShuffle(Sampler[int]):
    """Endless global sample numbers: epoch e yields ``e * n + perm_e[k]``, ``perm_e`` seeded by (seed, e)."""

    def __init__(self, n: int, seed: int = 0, start: int = 0) -> None:
        self.n, self.seed, self.start = int(n), int(seed), int(start)

    def __iter__(self) -> Iterator[int]:
        epoch, k = divmod(self.start, self.n)
        while True:
            perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
            for j in perm[k:]:
                yield epoch * self.n + int(j)
            epoch, k = epoch + 1, 0


class BatchIterator:
    """Endless iterator of ``[B, 3, R, R]`` batches; ``close()`` stops the worker processes."""

    def __init__(self, loader: DataLoader) -> None:
        self.loader = loader
        self._it: Iterator | None = iter(loader)

    def __iter__(self) -> BatchIterator:
        return self

    def __next__(self) -> torch.Tensor:
        if self._it is None:
            raise StopIteration
        return next(self._it)

    def close(self) -> None:
        it, self._it = self._it, None
        shutdown = getattr(it, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()

    def __enter__(self) -> BatchIterator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_loader(dataset: Dataset, batch_size: int, num_workers: int = 0, seed: int = 0,
                start_batch: int = 0) -> BatchIterator:
    """An endless, reproducible iterator of batches ``[B, 3, R, R]`` (full batches only).

    The stream depends only on ``seed``, the data set and ``batch_size`` (not on ``num_workers``);
    ``start_batch`` skips that many batches, for resuming.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if num_workers < 0:
        raise ValueError(f"num_workers must be >= 0, got {num_workers}")
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=InfiniteShuffle(len(dataset), seed, start=start_batch * batch_size),
        drop_last=True,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        pin_memory=torch.cuda.is_available(),
        # No worker_init_fn touching OpenCV: cv2.setNumThreads() in a forked worker deadlocks when the
        # parent has used OpenCV's thread pool (it waits on the parent's pool threads). cv2 calls
        # themselves are fork-safe, and DataLoader already sets torch to one thread per worker.
    )
    return BatchIterator(loader)
