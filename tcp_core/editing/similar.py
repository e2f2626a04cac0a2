"""Select similar: from one click, the part of a photo an artist means (the sky, a meadow, the sea).

The editor's Select similar tool used to threshold the cosine similarity of the network's content codes to the
clicked one. Those codes carry structure for the decoder, not what a region *is*: with the bundled model one click
in a sky took most of the mountain below it as well, in blocks of the code's 8-pixel grid. This module selects in
two steps (numpy + OpenCV; `TCPModel.similar_region` supplies the features):

    s(x)   = max(0, f(x) . f_ref)                    semantic similarity: unit ImageNet-trunk features f at strides
                                                     8 and 16 (`matching.unit_features`), f_ref their mean over the
                                                     3x3 cells around the click weighted by `click_weights` (the
                                                     click's side of an edge), brought to the photo's size by a
                                                     guided filter with the photo as guide (steps on its edges)
    T      = SIMILAR_TRUNK[0] - SIMILAR_TRUNK[1] * t  the similarity a tolerance t (0..1) selects from
    g(x)   = GrabCut(photo; s >= T probably in, s < T - GRABCUT_MARGIN surely out, the click surely in)
                                                     colour models and a graph cut that follow the photo's edges
                                                     (Rother et al. 2004, OpenCV's cv2.grabCut)
    r(x)   = s(x) + REFINE_WEIGHT * (g(x) - 1/2)     in the cut: selected down to T - REFINE_WEIGHT / 2; out of it
                                                     only from T + REFINE_WEIGHT / 2; small stray parts less
                                                     alike than the clicked part (SPECK_AREA) are dropped
    map(x) = phi(r(x)),  phi(T(t)) = 1 - t^2 / 2     on the scale of the editor's tolerance slider
                                                     (`tcp_editor.mask_ops.similar_threshold`)

so thresholding the map at the click's own tolerance gives the cut, and moving the slider afterwards grows or
shrinks the selection from there without asking the network again. Measured on the artist masks of the tuning photos
(`scripts/similar_eval.py`, one click at three places in each region): see docs/training/s45/.
"""

from __future__ import annotations

import cv2
import numpy as np

from tcp_core.editing.guided import guided_filter

__all__ = ["CLICK_ALIKE", "CLICK_COLOUR_SIGMA", "CLICK_SPOT", "CLICK_SPREAD_GAIN", "GRABCUT_MARGIN", "REFINE_WEIGHT",
           "SIMILAR_TRUNK", "click_weights", "photo_lab", "refine_selection", "similarity_to_slider", "trunk_threshold"]

SIMILAR_TRUNK = (0.50, 0.60)  # T(t) = a - b t: the trunk similarity a tolerance t selects from (30 % -> 0.32)
GRABCUT_MARGIN = 0.2  # below T - this margin a pixel is surely not the region (GrabCut's sure background)
REFINE_WEIGHT = 0.3  # how far the cut moves the threshold, in similarity units (half of it each way)
GRABCUT_SIZE = 384  # long side GrabCut works at (pixels); its answer is scaled back to the photo (512: the same IoU
# on the tuning photos, twice the time)
EDGE_RADIUS = 1 / 64  # the guided filter that puts s's steps on the photo's edges: radius, share of the long side
EDGE_EPS = 1e-3  # and its ridge (variance units of the [0, 1] photo)
GRABCUT_ITERATIONS = 3
GRABCUT_SEED = 0
SOFT_EDGE = 0.02  # the width of the editor's soft threshold below it (`tcp_editor.mask_ops.threshold_similarity`)
SPECK_AREA = 0.002  # a part of the selection smaller than this share of the photo may be a stray speck
# A click near an edge (a ridge, a cloud's rim) has cells of both sides around it: each cell counts by how close its
# mean colour is to the clicked spot's (a Gaussian of CLICK_COLOUR_SIGMA in Lab / 100), and fully when its features
# are at least CLICK_ALIKE alike the colour-weighted mean (a cloud in a clicked sky is sky); the Gaussian widens with
# the spot's own colour spread (CLICK_SPREAD_GAIN; the spot: CLICK_SPOT around the click). Artist regions, IoU at the
# default tolerance (docs/training/s46/): clicks 1-2.5 % of the short side inside a region's border 0.559 -> 0.638 on
# the tuning photos, 0.543 -> 0.598 held out; clicks well inside 0.773 -> 0.764 and 0.709 -> 0.706.
CLICK_COLOUR_SIGMA = 0.05
CLICK_SPREAD_GAIN = 2.0
CLICK_SPOT = 1 / 128  # the clicked spot's radius, share of the photo's long side
CLICK_ALIKE = 0.7


def trunk_threshold(tolerance: float) -> float:
    """T(t): the trunk similarity from which a tolerance `tolerance` (0..1) selects."""
    a, b = SIMILAR_TRUNK
    return a - b * float(np.clip(tolerance, 0.0, 1.0))


def photo_lab(img: np.ndarray) -> np.ndarray:
    """HxWx3 uint8 RGB -> float32 CIELAB / 100 (L in 0..1, a and b about -1..1)."""
    unit = np.ascontiguousarray(img, np.float32) / np.float32(255.0)
    return cv2.cvtColor(unit, cv2.COLOR_RGB2LAB) / np.float32(100.0)


def click_weights(cells_lab: np.ndarray, spot_lab: np.ndarray) -> np.ndarray:
    """The first pass of the click's cell weights: cells_lab (h, w, 3) the mean colours of the cells around the click
    (`photo_lab`), spot_lab (n, 3) the colours of the clicked spot's pixels -> (h, w) float32 in (0, 1], 1 for the
    spot's mean colour. The Gaussian's width is CLICK_COLOUR_SIGMA, or CLICK_SPREAD_GAIN times the spot's own colour
    spread (RMS) where that is wider: in a varied part (waves, a cloudy sky, a meadow) cells of its other colours
    still count. The caller then lets the cells whose features are CLICK_ALIKE alike the weighted mean count fully."""
    spot = np.asarray(spot_lab, np.float32).reshape(-1, 3)
    mean = spot.mean(0)
    spread = float(np.sqrt(((spot - mean) ** 2).sum(-1).mean()))
    sigma = max(CLICK_COLOUR_SIGMA, CLICK_SPREAD_GAIN * spread)
    d2 = ((np.asarray(cells_lab, np.float32) - mean) ** 2).sum(-1)
    return np.exp(-d2 / np.float32(2 * sigma * sigma)).astype(np.float32)


def similarity_to_slider(r: np.ndarray) -> np.ndarray:
    """phi: trunk similarity -> the editor slider's scale, where tolerance t selects from 1 - t^2 / 2. Monotone;
    phi(T(t)) = 1 - t^2 / 2 for t in [0, 1], values above T(0) map to 1, below T(1) towards 0."""
    a, b = SIMILAR_TRUNK
    t = np.clip((a - np.asarray(r, np.float32)) / b, 0.0, None)
    return np.clip(1.0 - 0.5 * t * t, 0.0, 1.0).astype(np.float32)


def refine_selection(photo: np.ndarray, s: np.ndarray, x: int, y: int, tolerance: float) -> np.ndarray:
    """The selection map of a click at (x, y) (HxW float32 in [0, 1], on the slider's scale; see the module
    docstring): `photo` HxWx3 uint8, `s` HxW its semantic similarity to the click (0..1), `tolerance` 0..1 the
    slider's at the click. The clicked pixel is always in the selection."""
    h, w = s.shape
    assert photo.shape[:2] == (h, w) and photo.dtype == np.uint8, (photo.shape, photo.dtype, s.shape)
    assert 0 <= x < w and 0 <= y < h, (x, y, w, h)
    t = trunk_threshold(tolerance)
    scale = min(1.0, GRABCUT_SIZE / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(photo, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else photo
    ss = cv2.resize(s, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else s
    # the features' coarse grid (8 and 16 px at 224) blurs s across the photo's edges: a guided filter with the
    # photo as guide puts its steps back on them (else a band of sky above a ridge stays unselected)
    radius = max(1, round(max(sw, sh) * EDGE_RADIUS))
    ss = np.clip(guided_filter(small.astype(np.float32) / 255.0, ss.astype(np.float32), radius, EDGE_EPS), 0.0, 1.0)
    ss = ss.astype(np.float32)
    s = cv2.resize(ss, (w, h), interpolation=cv2.INTER_LINEAR) if scale < 1 else ss
    seeds = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    seeds[ss >= t] = cv2.GC_PR_FGD
    seeds[ss < t - GRABCUT_MARGIN] = cv2.GC_BGD
    cx, cy = min(int(x * scale), sw - 1), min(int(y * scale), sh - 1)
    seeds[max(0, cy - 1):cy + 2, max(0, cx - 1):cx + 2] = cv2.GC_FGD
    g = _grabcut(small, seeds)
    if scale < 1:
        g = cv2.resize(g, (w, h), interpolation=cv2.INTER_LINEAR)
    r = s.astype(np.float32) + np.float32(REFINE_WEIGHT) * (g - np.float32(0.5))
    out = similarity_to_slider(r)
    out[y, x] = 1.0
    _drop_specks(out, s, x, y, tolerance)
    return out


def _drop_specks(out: np.ndarray, s: np.ndarray, x: int, y: int, tolerance: float) -> None:
    """In place: the parts of the selection at `tolerance` smaller than SPECK_AREA of the photo whose semantic
    similarity `s` never gets closer to the clicked part's (its median) than to T(t) (stray grass or rock that the
    threshold only just takes) are moved below the threshold; the clicked part and small parts as alike as it (sky
    between branches) stay."""
    thr = similarity_to_slider(np.float32(trunk_threshold(tolerance)))  # the slider's threshold at `tolerance`
    sel = (out > thr - SOFT_EDGE).astype(np.uint8)  # (what the editor's soft threshold takes at all)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(sel, connectivity=8)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < SPECK_AREA * out.size)
    small = small[(small != 0) & (small != labels[y, x])]
    if not len(small) or not sel[y, x]:
        return
    peak = np.zeros(n, np.float32)
    np.maximum.at(peak, labels.ravel(), s.ravel().astype(np.float32))
    t = trunk_threshold(tolerance)
    clicked = float(np.median(s[labels == labels[y, x]]))
    weak = small[peak[small] < t + 0.5 * max(clicked - t, 0.0)]
    if len(weak):
        drop = np.isin(labels, weak)
        out[drop] = np.minimum(out[drop], thr - np.float32(SOFT_EDGE + 0.01))


def _grabcut(img: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """GrabCut's foreground (float32 0/1) from the seed labels; the seeds' own "probable" labels where GrabCut
    cannot run (one of its two sides has no pixel: all alike, nothing to separate)."""
    fg = (seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)
    if fg.all() or not fg.any():
        return fg.astype(np.float32)
    labels = seeds.copy()
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(GRABCUT_SEED)  # GrabCut's colour models start from k-means on OpenCV's global random generator:
    # seeded, the same click gives the same selection every time (it had depended on the clicks before it)
    try:
        cv2.grabCut(np.ascontiguousarray(img[:, :, ::-1]), labels, None, bgd, fgd, GRABCUT_ITERATIONS,
                    cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # (a degenerate colour model: too few pixels on one side) the seeds as they are
        return fg.astype(np.float32)
    return ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)
