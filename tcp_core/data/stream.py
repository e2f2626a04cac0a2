"""Training photos streamed from disk: decoded on demand, kept in a bounded cache.

A user's folder may hold thousands of 12 MP photos; holding them all decoded would need tens of
gigabytes. `PhotoStore` instead
- scans the folders and reads every file's header (size only, no pixels), reporting progress,
  so unreadable, non-image and too-small files are listed before training starts; a set of up to
  500 files is also decoded right away, so even a file truncated after its header is listed;
- decodes a photo when a batch first needs it (a JPEG at 1/2-1/8 scale when that still leaves its
  short side at `store_short`, the fast path of libjpeg), downscales it to `store_short` and keeps
  it in an LRU cache bounded in bytes (`cache_mb`);
- is indexable like a list (`store[i]` -> HxWx3 uint8), so `make_batch` and resuming stay pure
  functions of (seed, rank, step): a file that fails to decode later is listed and replaced by the
  next readable one, the same way every time.
Small sets (the demo set: 34 photos, 39 MB at 128 px) end up wholly cached after the first steps.

The trainer's one data pipeline: `PhotoStore` -> `make_batch` (the batch of a step: random crops
with scale jitter and flips, METHOD section 2) -> `BatchFeeder` (the next batches, made ahead in a
background thread).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from tcp_core.base.errors import UsageError
from tcp_core.data.photos import MIN_SIDE, PathLike, load_photo, random_crop, scan_images, skip_reason

log = logging.getLogger(__name__)

DEFAULT_CACHE_MB = 512
FULL_CHECK_LIMIT = 500  # sets up to this many files are decoded (checked) before training starts


def _header_size(path: Path) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding pixels."""
    from PIL import Image

    with Image.open(path) as im:
        return im.size


class PhotoStore:
    def __init__(self, dirs: PathLike | Iterable[PathLike], resolution: int, *, cache_mb: float = DEFAULT_CACHE_MB,
                 progress: Callable[[str], None] | None = None, full_check_limit: int = FULL_CHECK_LIMIT) -> None:
        self.store_short = max(3 * int(resolution), 512)
        self.cache_bytes = int(cache_mb * 2**20)
        files = scan_images(dirs)
        say = progress or (lambda msg: None)
        say(f"found {len(files)} image file(s); checking them")
        self.paths: list[Path] = []
        self.skipped: list[tuple[str, str]] = []
        t_last = time.monotonic()
        for k, p in enumerate(files, 1):
            try:
                w, h = _header_size(p)
                if min(w, h) < MIN_SIDE:
                    raise ValueError(f"too small ({w}x{h}, need at least {MIN_SIDE} px)")
                self.paths.append(p)
            except Exception as e:  # noqa: BLE001 - any unreadable header means "skip this file"
                self.skipped.append((str(p), skip_reason(e)))
            if time.monotonic() - t_last > 2.0 and k < len(files):
                say(f"checked {k}/{len(files)} files")
                t_last = time.monotonic()
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cached_bytes = 0
        self._bad: set[int] = set()
        self._lock = threading.Lock()
        self.decodes = 0
        if 0 < len(self.paths) <= full_check_limit:
            # A small set is decoded right away (in two threads): every unreadable file is listed
            # before training starts, and the cache starts warm.
            with ThreadPoolExecutor(max_workers=2) as ex:
                list(ex.map(self._get, range(len(self.paths))))
            keep = [i for i in range(len(self.paths)) if i not in self._bad]
            arrays = {i: self._cache.get(i) for i in keep}
            self.paths = [self.paths[i] for i in keep]
            self._bad.clear()
            self._cache = OrderedDict((k, arrays[i]) for k, i in enumerate(keep) if arrays[i] is not None)
            self._cached_bytes = sum(a.nbytes for a in self._cache.values())
            while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
                _, old = self._cache.popitem(last=False)
                self._cached_bytes -= old.nbytes
        if not self.paths:
            first = f" (first problem: {self.skipped[0][0]}: {self.skipped[0][1]})" if self.skipped else ""
            raise UsageError(f"none of the {len(files)} image file(s) could be read{first}")
        say(f"{len(self.paths)} photo(s) to train on, {len(self.skipped)} skipped; "
            + ("decoded, " if len(self.paths) <= full_check_limit else "decoded on demand, ")
            + f"cache {self.cache_bytes / 2**20:.0f} MB")

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def cached_bytes(self) -> int:
        return self._cached_bytes

    def __getitem__(self, index: int) -> np.ndarray:
        n = len(self.paths)
        i = int(index) % n
        for _ in range(n):
            if i not in self._bad:
                arr = self._get(i)
                if arr is not None:
                    return arr
            i = (i + 1) % n
        raise UsageError("none of the training photos could be read (decoded)")

    def _get(self, i: int) -> np.ndarray | None:
        with self._lock:
            arr = self._cache.get(i)
            if arr is not None:
                self._cache.move_to_end(i)
                return arr
        try:
            arr = load_photo(self.paths[i], self.store_short, draft=True)
        except Exception as e:  # noqa: BLE001 - a file that decoded in no way is skipped from now on
            with self._lock:
                if i not in self._bad:
                    self._bad.add(i)
                    self.skipped.append((str(self.paths[i]), skip_reason(e)))
                    log.warning("skipping %s: %s", self.paths[i], skip_reason(e))
            return None
        with self._lock:
            self.decodes += 1
            if i not in self._cache:
                self._cache[i] = arr
                self._cached_bytes += arr.nbytes
            while self._cached_bytes > self.cache_bytes and len(self._cache) > 1:
                _, old = self._cache.popitem(last=False)
                self._cached_bytes -= old.nbytes
        return arr


def load_photos(dirs: Iterable[PathLike], resolution: int, cache_mb: float = DEFAULT_CACHE_MB,
                progress: Callable[[str], None] | None = None) -> tuple[PhotoStore, list[tuple[str, str]]]:
    """The training photos, streamed from disk, and the files skipped as unreadable."""
    store = PhotoStore(dirs, resolution, cache_mb=cache_mb, progress=progress)
    return store, store.skipped


# ----------------------------------------------------------------------------------------------
# batches: random crops with scale jitter and flips, produced ahead of the step in a thread
# ----------------------------------------------------------------------------------------------


def make_batch(photos: Sequence[np.ndarray], seed: int, rank: int, step: int, batch: int, res: int,
               jitter: tuple[float, float], pool: ThreadPoolExecutor | None = None) -> Tensor:
    """The batch of `step` on `rank`: a pure function of its arguments, so resuming reproduces it.
    photos: a list of arrays or a `PhotoStore` (decodes on demand; `pool` decodes a batch's photos
    in parallel, the decoders release the GIL). Returns [batch, 3, res, res] in [-1, 1]."""
    rng = np.random.default_rng([seed, rank, step])
    idx = rng.integers(0, len(photos), size=batch)
    chosen = list(pool.map(photos.__getitem__, idx)) if pool is not None else [photos[i] for i in idx]
    arr = np.stack([random_crop(p, rng, res, jitter) for p in chosen])  # [B, R, R, 3]
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)  # [B, 3, R, R]


class BatchFeeder:
    """Prepares the next batches (`make_batch` from `start_step` on) in a background thread
    (OpenCV releases the GIL); `next(step)` hands them out in order."""

    def __init__(self, photos, seed, rank, start_step, batch, res, jitter, ahead: int = 2) -> None:
        self.q: queue.Queue = queue.Queue(maxsize=ahead)
        self.args = (photos, seed, rank, batch, res, jitter)
        self.step = start_step
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        photos, seed, rank, batch, res, jitter = self.args
        s = self.step
        with ThreadPoolExecutor(max_workers=2) as pool:
            while not self.stop.is_set():
                b = make_batch(photos, seed, rank, s, batch, res, jitter, pool)
                self._put(s, b)
                s += 1

    def _put(self, s: int, b: Tensor) -> None:
        while not self.stop.is_set():
            try:
                self.q.put((s, b), timeout=0.2)
                return
            except queue.Full:
                continue

    def next(self, step: int) -> Tensor:
        s, b = self.q.get()
        assert s == step, (s, step)
        return b

    def close(self) -> None:
        """Stop and join the thread, so it never runs into interpreter shutdown mid-OpenCV call."""
        self.stop.set()
        while self.thread.is_alive():
            try:
                self.q.get_nowait()
            except queue.Empty:
                pass
            self.thread.join(timeout=0.05)
