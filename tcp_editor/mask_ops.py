"""Pure numpy/OpenCV mask operations (no Qt, no torch).

Masks are HxW float32 in [0, 1]. Rectangles are (x0, y0, x1, y1), half-open, in mask pixels.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

Rect = tuple[int, int, int, int]


def clip_rect(rect: Rect, shape: tuple[int, int]) -> Rect | None:
    h, w = shape
    x0, y0, x1, y1 = rect
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(w, int(x1)), min(h, int(y1))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def union_rect(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def changed_rect(before: np.ndarray, after: np.ndarray) -> Rect | None:
    """Bounding rectangle of the pixels that differ, or None."""
    diff = before != after
    if not diff.any():
        return None
    rows = np.flatnonzero(diff.any(axis=1))
    cols = np.flatnonzero(diff.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def dab(radius: float, hardness: float) -> np.ndarray:
    """A round brush tip: 1 inside radius*hardness, smooth falloff to 0 at radius."""
    r = max(0.5, float(radius))
    n = int(math.ceil(r)) * 2 + 1
    c = n // 2
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    d = np.sqrt((xx - c) ** 2 + (yy - c) ** 2)
    hard = float(np.clip(hardness, 0.0, 1.0))
    inner = r * hard
    if r - inner < 1e-3:
        tip = np.clip(r + 0.5 - d, 0.0, 1.0)  # antialiased hard edge
    else:
        t = np.clip((d - inner) / (r - inner), 0.0, 1.0)
        tip = 0.5 * (1.0 + np.cos(np.pi * t))  # smooth falloff
        tip[d > r] = 0.0
    return tip.astype(np.float32)


class StrokeBuffer:
    """Accumulates one brush stroke: coverage = max over dabs; mask = before (+/-) coverage * opacity.

    Keeps the mask as it was when the stroke began so that the opacity applies once per stroke
    (overlapping dabs in one stroke do not build up), and tracks the dirty rectangle so that
    the undo command stores only the changed patch.
    """

    def __init__(self, mask: np.ndarray, radius: float, hardness: float, opacity: float, erase: bool) -> None:
        self.mask = mask  # edited in place
        self.before = mask.copy()
        self.coverage = np.zeros_like(mask)
        self.radius = max(0.5, float(radius))
        self.tip = dab(self.radius, hardness)
        self.opacity = float(np.clip(opacity, 0.0, 1.0))
        self.erase = erase
        self.dirty: Rect | None = None
        self._last: tuple[float, float] | None = None

    def _stamp(self, x: float, y: float) -> Rect | None:
        n = self.tip.shape[0]
        c = n // 2
        ix, iy = int(round(x)), int(round(y))
        rect = clip_rect((ix - c, iy - c, ix - c + n, iy - c + n), self.mask.shape)
        if rect is None:
            return None
        x0, y0, x1, y1 = rect
        tx0, ty0 = x0 - (ix - c), y0 - (iy - c)
        tip = self.tip[ty0:ty0 + (y1 - y0), tx0:tx0 + (x1 - x0)]
        cov = self.coverage[y0:y1, x0:x1]
        np.maximum(cov, tip, out=cov)
        before = self.before[y0:y1, x0:x1]
        a = cov * self.opacity
        if self.erase:
            self.mask[y0:y1, x0:x1] = before * (1.0 - a)
        else:
            self.mask[y0:y1, x0:x1] = before + (1.0 - before) * a
        return rect

    def add_point(self, x: float, y: float) -> Rect | None:
        """Stamp dabs from the previous point to (x, y); returns the rectangle changed by this call."""
        changed = None
        if self._last is None:
            changed = self._stamp(x, y)
        else:
            lx, ly = self._last
            dist = math.hypot(x - lx, y - ly)
            spacing = max(0.5, self.radius * 0.2)
            steps = max(1, int(math.ceil(dist / spacing)))
            for i in range(1, steps + 1):
                t = i / steps
                changed = union_rect(changed, self._stamp(lx + (x - lx) * t, ly + (y - ly) * t))
        self._last = (x, y)
        self.dirty = union_rect(self.dirty, changed)
        return changed


def polygon_mask(shape: tuple[int, int], points: list[tuple[float, float]]) -> np.ndarray:
    """A filled, antialiased polygon as float32 coverage."""
    h, w = shape
    out = np.zeros((h, w), np.uint8)
    if len(points) >= 3:
        pts = np.round(np.asarray(points, np.float64) * 16).astype(np.int32)
        cv2.fillPoly(out, [pts], 255, lineType=cv2.LINE_AA, shift=4)
    return out.astype(np.float32) / 255.0


def combine(mask: np.ndarray, sel: np.ndarray, mode: str = "add") -> np.ndarray:
    """Combine a selection into a mask: add (max), subtract, replace, intersect."""
    if mode == "add":
        return np.maximum(mask, sel)
    if mode == "subtract":
        return (mask * (1.0 - sel)).astype(np.float32)
    if mode == "replace":
        return sel.astype(np.float32).copy()
    if mode == "intersect":
        return np.minimum(mask, sel)
    raise ValueError(f"unknown mode {mode!r}")


def invert(mask: np.ndarray) -> np.ndarray:
    return (1.0 - mask).astype(np.float32)


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate (pixels > 0) or erode (pixels < 0) with a round kernel."""
    p = int(pixels)
    if p == 0:
        return mask.copy()
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(p) + 1, 2 * abs(p) + 1))
    op = cv2.dilate if p > 0 else cv2.erode
    return op(mask, k, borderType=cv2.BORDER_REPLICATE).astype(np.float32)


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Gaussian blur of the mask edges."""
    r = float(radius)
    if r <= 0:
        return mask.copy()
    return np.clip(cv2.GaussianBlur(mask, (0, 0), sigmaX=r / 2.0, borderType=cv2.BORDER_REPLICATE), 0, 1).astype(
        np.float32)


def flood_fill(image: np.ndarray, x: int, y: int, tolerance: int = 24) -> np.ndarray:
    """Colour flood fill from (x, y) on an HxWx3 uint8 image: float32 0/1 selection."""
    h, w = image.shape[:2]
    if not (0 <= x < w and 0 <= y < h):
        return np.zeros((h, w), np.float32)
    ff = np.zeros((h + 2, w + 2), np.uint8)
    t = int(np.clip(tolerance, 0, 255))
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (255 << 8)
    cv2.floodFill(np.ascontiguousarray(image[:, :, :3]), ff, (int(x), int(y)), (0, 0, 0), (t, t, t), (t, t, t), flags)
    return (ff[1:-1, 1:-1] > 0).astype(np.float32)


SIMILAR_TOLERANCE_DEFAULT = 30  # %: the tolerance where one click selects the artist's region best (see below)


def similar_threshold(tolerance_percent: float) -> float:
    """The selection-map threshold of a Select-similar tolerance in 0..100 %: 1 - 0.5 * (t/100)^2 (30 % -> 0.955,
    60 % -> 0.82, 100 % -> 0.5). Higher tolerance selects more.

    The map (`TCPModel.similar_region`, `tcp_core.editing.similar`) is on this scale: thresholded at the tolerance
    the click was made with it is the click's GrabCut selection, and moving the slider after the click grows or
    shrinks it from there. Measured with the bundled model (`scripts/similar_eval.py`, one click at three places in
    each artist-drawn region of the tuning photos, 1024 px): IoU with the region 0.78 / 0.77 / 0.77 / 0.74 / 0.59 at
    10 / 20 / 30 / 40 / 60 %, precision 0.93 down to 0.59, recall 0.84 up to 0.99 (held-out photos: 0.72 at 30 %,
    the best there). The map before session 40 (the content codes' cosine): 0.62 / 0.66 / 0.64 / 0.59 / 0.42 (a click
    in a sky took parts of the mountain too)."""
    t = float(np.clip(tolerance_percent, 0.0, 100.0)) / 100.0
    return 1.0 - 0.5 * t * t


def threshold_similarity(sim: np.ndarray, threshold: float) -> np.ndarray:
    """Soft threshold of a [0, 1] similarity map: 1 from `threshold` up (so the clicked content
    itself, similarity 1, is always fully selected), a 0.02-wide ramp below keeps the edge smooth."""
    t = float(threshold)
    return np.clip((sim - (t - 0.02)) / 0.02, 0.0, 1.0).astype(np.float32)


def resize_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a mask to (h, w): area averaging down, bilinear up."""
    h, w = shape
    if mask.shape == (h, w):
        return mask.astype(np.float32, copy=True)
    interp = cv2.INTER_AREA if mask.shape[0] > h else cv2.INTER_LINEAR
    return np.clip(cv2.resize(mask.astype(np.float32), (w, h), interpolation=interp), 0, 1).astype(np.float32)


def to_uint8(mask: np.ndarray) -> np.ndarray:
    return np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8)


def from_image(arr: np.ndarray) -> np.ndarray:
    """A mask from a loaded mask image: grey/L, RGB (mean) or RGBA (alpha if not opaque everywhere)."""
    a = np.asarray(arr)
    if a.ndim == 3:
        if a.shape[2] == 4 and (a[:, :, 3] < 255).any():
            a = a[:, :, 3]
        else:
            a = a[:, :, :3].mean(axis=2)
    if a.dtype == np.uint16:
        return (a.astype(np.float32) / 65535.0).astype(np.float32)
    if a.dtype == bool:
        return a.astype(np.float32)
    if np.issubdtype(a.dtype, np.floating):
        return np.clip(a, 0, 1).astype(np.float32)
    return (a.astype(np.float32) / 255.0).astype(np.float32)


EXTENT_VISIBLE = 1.0 / 64  # the share of an edit's change the canvas's outlines count (4 gray levels at most)
EXTENT_SPECK = 1e-4  # parts (and holes) of the outlined area smaller than this share of the preview are not drawn
EXTENT_SPECK_MIN_PX = 16  # (and at least this many pixels): rock texture along a ridge made a lace of tiny loops


def extent_outlines(feathered: np.ndarray, snap: float = EXTENT_VISIBLE) -> tuple[list, list]:
    """The outlines of an edit's feathered mask (`services.extent.edit_extent`, or a mask itself): (outer, inner)
    lists of contours, each an Nx2 int array of the (x, y) pixels on the border, in order. outer: the border of the
    part the edit changes by more than `snap` of its change; inner: of the part where it has its full strength (within
    `snap` of 1); between the two the edit fades in. (The photo-guided feather leaves a faint tail of a few
    thousandths beyond a photo edge the mask follows: not counted, so the line hugs the edge as the eye sees it.)"""
    m = np.asarray(feathered, np.float32)
    speck = max(EXTENT_SPECK_MIN_PX, int(EXTENT_SPECK * m.size))

    def contours(binary: np.ndarray) -> list:
        binary = _without_specks(_without_specks(binary, speck) ^ 1, speck) ^ 1  # specks, then pinholes
        if not binary.any():
            return []
        cs, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)  # every border pixel
        return [c.reshape(-1, 2) for c in cs]

    return contours((m > snap).astype(np.uint8)), contours((m >= 1.0 - snap).astype(np.uint8))


def _without_specks(binary: np.ndarray, area: int) -> np.ndarray:
    """uint8 0/1 `binary` without its 8-connected parts smaller than `area` pixels."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < area)
    small = small[small != 0]
    if not len(small):
        return binary
    out = binary.copy()
    out[np.isin(labels, small)] = 0
    return out


def extent_outline_image(shape: tuple[int, int], outer: list, inner: list, dash: int = 4) -> np.ndarray:
    """An HxWx4 premultiplied BGRA image of the contours from `extent_outlines`: the outer ones
    solid white, the inner ones dashed black and white (visible on any photo)."""
    img = np.zeros((*shape, 4), np.uint8)
    for c in outer:
        img[c[:, 1], c[:, 0]] = 255
    for c in inner:
        on = (np.arange(len(c)) // dash) % 2 == 0
        img[c[on, 1], c[on, 0]] = 255
        img[c[~on, 1], c[~on, 0]] = (0, 0, 0, 255)
    return img
