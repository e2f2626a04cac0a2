"""Colour priming of the network's input (a lever of the export path; numpy + OpenCV, no torch).

Why: the content code C_A carries some of the photo's colour (docs/training/s28: the region edit and
the swap close only part of the colour gap to the reference, because the decoder keeps the colours the
content code brings along). So before the network edits a region, the region's colours are moved
`amount` of the way towards the reference's by a classical colour transfer (Reinhard et al. 2001:
each CIE Lab channel's mean and standard deviation of the region matched to the reference's), and
the network edits that primed photo. The network then re-renders the region with the reference's
style code, which keeps the result photorealistic where the classical transfer alone is flat,
seamed or garish; the export's colour transform still carries only what the edit changed to the
full-resolution photo (`apply_regions` measures against the unprimed photo's own-style edit).

    primed = src + amount * m * (reinhard(src) - src)

with m the (soft) region mask; pixels outside the mask are untouched. Each channel's spread ratio
(reference / region) is capped (DEFAULT_PRIMING_CAP), so a flat region is not stretched into blotches.

`profile="rows"` (PRIMING_PROFILES) makes the mean follow the height: a sunset sky reference (orange at the
horizon, blue at the top) primes a sky region into that gradient instead of one flat average. Each row of the
region, by its normalised position t within the mask's vertical extent (0 top, 1 bottom), has its Lab mean moved
from the region's own (smoothed) row-mean profile to the reference's row-mean profile at the same t, read over
the style mask's vertical extent, or, with no style mask, over the reference's rows at the region's own place in
its photo (`ref_rows`: a whole-photo reference's sky is above its ground, so a sky region's bottom reads the
reference's lower sky, not its ground). The spread ratio stays one per channel, of the spreads about those row
means (the gradient itself is carried by the means, not by stretching), capped as above.

`spread="detail"` (PRIMING_SPREADS) stretches only the region's detail, finer than SPREAD_DETAIL_REF_PX pixels of a
128 px image, by that ratio; its coarser variation is scaled by the ratio only where that shrinks it. A smooth sky
has almost no detail, so a busy reference (storm clouds, rock and snow) no longer doubles the sky's slow shading
from left to right into a dark blotch that the network then paints as a cloud.

`objects="keep"` (PRIMING_OBJECTS) leaves the pixels that are not the region's material as they are (a rock or a
path in a meadow, boats on a beach): Reinhard's transfer carries each pixel's difference from the region's mean into
the reference's colours, so a grey rock in green grass turns cyan under an autumn reference. `object_weight` finds
them as the pixels far from the region's local material colour, in units of the region's robust spread:

    r(x)   = lab(x) - mean_{G * (m (1 - o))}(lab)(x)    difference from the local material colour (a Gaussian G of
                                                        OBJECT_SCALE_REF_PX, weighted by the mask m and 1 - o)
    d(x)   = || (r(x) - med r) / max(floor, 1.4826 MAD r) ||    per Lab channel (floor: OBJECT_SPREAD_FLOOR)
    o(x)   = smoothstep(OBJECT_DISTANCE, d(x))          1: an object, 0: the material (two passes, o = 0 first)

and priming then moves each pixel by amount * m * (1 - o), reading the region's moments over m * (1 - o).
"""

from __future__ import annotations

import cv2
import numpy as np

from tcp_core.base.constants import (
    DEFAULT_PRIMING_CAP,
    DEFAULT_PRIMING_HIGHLIGHTS,
    DEFAULT_PRIMING_OBJECTS,
    DEFAULT_PRIMING_SPREAD,
    HIGHLIGHT_CLIP,
    OBJECT_DISTANCE,
    OBJECT_SCALE_REF_PX,
    OBJECT_SPREAD_FLOOR,
    PRIMING_HIGHLIGHTS,
    PRIMING_OBJECTS,
    PRIMING_PROFILES,
    PRIMING_SPREADS,
    SPREAD_DETAIL_REF_PX,
)

__all__ = ["PRIMING_HIGHLIGHTS", "PRIMING_OBJECTS", "PRIMING_PROFILES", "PRIMING_SPREADS", "clipped_highlights",
           "lab_moments", "object_weight", "prime_region", "priming_options", "region_rows", "reinhard_lab",
           "reinhard_lab_rows", "row_profile", "rows_window", "scaled_spread"]

ROWS_SMOOTHING = 1 / 8  # the row profiles' Gaussian sigma, as a fraction of the vertical extent they span


def _lab(img: np.ndarray) -> np.ndarray:
    """uint8 RGB HxWx3 -> float32 CIE Lab (OpenCV's float conversion: L 0..100)."""
    return cv2.cvtColor(img.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2LAB)


def lab_moments(lab: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted per-channel mean and standard deviation (float64 [3] each) of an HxWx3 image;
    weights HxW >= 0 (None = all pixels alike). Raises ValueError when the weights sum to 0."""
    x = lab.reshape(-1, 3).astype(np.float64)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64).reshape(-1)
    assert len(w) == len(x), (w.shape, lab.shape)
    total = w.sum()
    if not total > 0:
        raise ValueError("the weights select no pixel")
    mu = (w[:, None] * x).sum(0) / total
    var = (w[:, None] * (x - mu) ** 2).sum(0) / total
    return mu, np.sqrt(np.maximum(var, 0.0))


def reinhard_lab(src: np.ndarray, style: np.ndarray, mask: np.ndarray,
                 style_mask: np.ndarray | None = None, max_spread: float | None = None,
                 spread: str = "all", clipped: np.ndarray | None = None) -> np.ndarray:
    """The whole of `src` (uint8 RGB) with its Lab moments over `mask` (HxW weights) matched to those of
    `style` (uint8 RGB, any size) over `style_mask` (its weights; None = the whole reference). uint8.
    `max_spread` caps each channel's spread ratio (reference / region): a region much flatter than the
    reference (a grey sky, a near-grey detail) is not stretched into banding or blotches. None: Reinhard's.
    `spread`: what the ratio stretches (`scaled_spread`; "all", the default, is Reinhard's transfer, which the
    evaluation's `reinhard` baseline runs; `prime_region` passes DEFAULT_PRIMING_SPREAD)."""
    lab = _lab(src)
    mu_c, sd_c = lab_moments(lab, mask)
    mu_s, sd_s = lab_moments(_lab(style), style_mask)
    ratio = sd_s / np.maximum(sd_c, 1e-6)
    if max_spread is not None:
        ratio = np.minimum(ratio, max_spread)
    return _rgb8(scaled_spread(_neutral(lab - mu_c, clipped), ratio, mask, spread) + mu_s)


def scaled_spread(resid: np.ndarray, ratio: np.ndarray, weights: np.ndarray | None, spread: str) -> np.ndarray:
    """`resid` (HxWx3 Lab: the region's colours about their mean or row means) with its spread scaled by `ratio` ([3]
    per channel). "all": resid * ratio. "detail": low * min(ratio, 1) + (resid - low) * ratio, with low the variation
    coarser than SPREAD_DETAIL_REF_PX pixels of a 128 px image (a Gaussian of that sigma, normalised over `weights`,
    the region's HxW weights; None: all pixels), so only the detail is stretched."""
    if spread not in PRIMING_SPREADS:
        raise ValueError(f"priming spread must be one of {', '.join(PRIMING_SPREADS)}, got {spread!r}")
    if spread == "all":
        return resid * ratio
    h, w = resid.shape[:2]
    sigma = SPREAD_DETAIL_REF_PX * min(h, w) / 128.0
    m = np.ones((h, w), np.float32) if weights is None else np.asarray(weights, np.float32)
    den = np.maximum(cv2.GaussianBlur(m, (0, 0), sigma), 1e-6)[:, :, None]
    low = cv2.GaussianBlur(resid.astype(np.float32) * m[:, :, None], (0, 0), sigma) / den
    return low * np.minimum(ratio, 1.0) + (resid - low) * ratio


def _rgb8(lab: np.ndarray) -> np.ndarray:
    """CIE Lab (OpenCV's float scale; L clipped to 0..100) -> uint8 RGB."""
    lab = lab.astype(np.float32)
    lab[:, :, 0] = np.clip(lab[:, :, 0], 0.0, 100.0)
    rgb = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _extent(weights_per_row: np.ndarray) -> tuple[int, int]:
    """First and last row (inclusive) with any weight; (0, len - 1) when none has."""
    rows = np.flatnonzero(weights_per_row > 0)
    return (int(rows[0]), int(rows[-1])) if len(rows) else (0, len(weights_per_row) - 1)


def row_profile(lab: np.ndarray, weights: np.ndarray | None = None,
                sigma_frac: float = ROWS_SMOOTHING) -> tuple[np.ndarray, int, int]:
    """The weighted Lab mean of each row of `lab` (HxWx3) over `weights` (HxW >= 0; None = all), smoothed by a
    Gaussian of sigma `sigma_frac` of the weights' vertical extent, as a normalised convolution weighted by each
    row's coverage: a row the mask barely touches (or not at all) takes its mean from its neighbours.
    Returns (profile float64 [H, 3], first row, last row) of the extent. Raises ValueError for no weight."""
    h = lab.shape[0]
    w = np.ones(lab.shape[:2]) if weights is None else np.asarray(weights, np.float64)
    assert w.shape == lab.shape[:2], (w.shape, lab.shape)
    cover = w.sum(1)
    if not cover.sum() > 0:
        raise ValueError("the weights select no pixel")
    r0, r1 = _extent(cover)
    sums = np.einsum("hw,hwc->hc", w, lab.astype(np.float64))
    sigma = max(1.0, sigma_frac * (r1 - r0 + 1))
    k = np.exp(-0.5 * (np.arange(-int(3 * sigma + 1), int(3 * sigma + 1) + 1) / sigma) ** 2)
    den = np.convolve(cover, k, mode="same")
    num = np.stack([np.convolve(sums[:, c], k, mode="same") for c in range(3)], 1)
    prof = num / np.maximum(den, 1e-12)[:, None]
    # rows outside the extent (or too far from any weight) hold the nearest row of the extent's value
    idx = np.clip(np.arange(h), r0, r1)
    prof = prof[idx]
    return prof, r0, r1


def _residual_spread(lab: np.ndarray, means: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Per-channel weighted standard deviation of `lab` about its per-row `means` ([H, 3])."""
    d = lab.astype(np.float64) - means[:, None, :]
    w = np.ones(lab.shape[:2]) if weights is None else np.asarray(weights, np.float64)
    return np.sqrt((w[:, :, None] * d * d).sum((0, 1)) / w.sum())


def reinhard_lab_rows(src: np.ndarray, style: np.ndarray, mask: np.ndarray,
                      style_mask: np.ndarray | None = None, max_spread: float | None = None,
                      ref_rows: tuple[float, float] | None = None,
                      spread: str = "all", clipped: np.ndarray | None = None) -> np.ndarray:
    """Position-aware `reinhard_lab` (uint8, the whole of `src`): each row of the region `mask` has its Lab mean
    moved from the region's smoothed row-mean profile to the reference's at the same normalised height t (0 = the
    mask's top row, 1 = its bottom row). The reference's profile spans `style_mask`'s vertical extent; with no
    style mask, the rows `ref_rows` = (top, bottom) of the reference as fractions of its height (None: all of it;
    `apply_regions` passes the region's own place in its photo). Each channel's spread about those row means is
    scaled by one ratio (reference / region), capped at `max_spread`; `spread`: what it stretches (`scaled_spread`);
    `clipped`: as `reinhard_lab`'s."""
    lab = _lab(src)
    ref = _lab(style)
    m = np.asarray(mask, np.float64)
    mc, r0, r1 = row_profile(lab, m)
    hs = ref.shape[0]
    if style_mask is not None:
        sw = np.asarray(style_mask, np.float64)
    else:
        sw = rows_window(ref.shape[:2], ref_rows).astype(np.float64)
    ms, s0, s1 = row_profile(ref, sw)
    sd_c = _residual_spread(lab, mc, m)
    sd_s = _residual_spread(ref, ms, sw)
    ratio = sd_s / np.maximum(sd_c, 1e-6)
    if max_spread is not None:
        ratio = np.minimum(ratio, max_spread)
    t = (np.arange(lab.shape[0]) - r0) / max(r1 - r0, 1)
    pos = s0 + np.clip(t, 0.0, 1.0) * (s1 - s0)
    target = np.stack([np.interp(pos, np.arange(hs), ms[:, c]) for c in range(3)], 1)
    return _rgb8(scaled_spread(_neutral(lab - mc[:, None, :], clipped), ratio, m, spread) + target[:, None, :])


def rows_window(shape: tuple[int, int], ref_rows: tuple[float, float] | None) -> np.ndarray:
    """HxW float32 weights: 1 on the rows `ref_rows` = (top, bottom) of an image of `shape` (fractions of its height,
    at least one row), 0 elsewhere; all ones for None. What profile "rows" reads of a reference without a style
    mask."""
    h, w = shape
    win = np.ones((h, w), np.float32)
    if ref_rows is not None:
        top, bottom = (min(max(float(v), 0.0), 1.0) for v in ref_rows)
        a = min(int(np.floor(top * h)), h - 1)
        b = max(int(np.ceil(bottom * h)), a + 1)
        win[:a] = 0
        win[b:] = 0
    return win


def region_rows(mask: np.ndarray) -> tuple[float, float] | None:
    """The rows a region spans in its photo, as fractions of the photo's height: (first row, last row + 1) / H of
    the rows where `mask` (HxW, or HxWx1) is non-zero; None for an empty mask. Profile "rows" reads a reference's
    rows at this place (`prime_region(ref_rows=...)`): a sky at the top of the photo takes the reference's top."""
    m = np.asarray(mask)
    rows = np.flatnonzero(m.reshape(m.shape[0], -1).any(1))
    if not rows.size:
        return None
    return rows[0] / m.shape[0], (rows[-1] + 1) / m.shape[0]


def priming_options(profile: str, mask: np.ndarray | None, style_mask: np.ndarray | None,
                    spread: str = DEFAULT_PRIMING_SPREAD, highlights: str = DEFAULT_PRIMING_HIGHLIGHTS) -> dict:
    """`prime_region`'s position-aware keywords for a region `mask` (HxW of its photo; None in global mode) with the
    priming `profile`: "rows" without a style mask reads the reference's rows at the region's own place in its photo
    (ref_rows: the mask's first and last row as fractions of the photo's height); the editor's warm-up asks the same,
    so its primed swaps are the preview's. `spread` and `highlights` are passed on (`prime_region`'s)."""
    ref_rows = None
    if profile == "rows" and style_mask is None and mask is not None:
        ref_rows = region_rows(mask)
    return {"profile": profile, "ref_rows": ref_rows, "spread": spread, "highlights": highlights}


def object_weight(src: np.ndarray, mask: np.ndarray, passes: int = 2) -> np.ndarray:
    """HxW float32 in [0, 1]: how much each pixel of `src` (uint8 RGB) is an object inside the region `mask` (HxW
    weights) rather than the region's material (see the module docstring): 1 a rock in a meadow, 0 the meadow; 0
    outside the region. Measured at any size (its scales are in pixels of a 128 px image)."""
    h, w = src.shape[:2]
    m = np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
    assert m.shape == (h, w), (m.shape, src.shape)
    inside = m > 0.5
    obj = np.zeros((h, w), np.float32)
    if not inside.any():
        return obj
    px = 128.0 / min(h, w)
    lab = cv2.GaussianBlur(_lab(src), (0, 0), 0.75 / px)  # sensor noise is not an object
    sigma = OBJECT_SCALE_REF_PX / px
    mu = lab[inside].mean(0)
    floor = np.asarray(OBJECT_SPREAD_FLOOR, np.float32)
    lo, hi = OBJECT_DISTANCE
    for _ in range(passes):
        wt = m * (1.0 - obj)
        den = cv2.GaussianBlur(wt, (0, 0), sigma)[:, :, None]
        local = (cv2.GaussianBlur(lab * wt[:, :, None], (0, 0), sigma) + 1e-2 * mu) / (den + 1e-2)
        r = lab - local
        material = r[inside & (obj < 0.5)]
        if not len(material):
            break
        med = np.median(material, 0)
        spread = np.maximum(floor, 1.4826 * np.median(np.abs(material - med), 0))
        d = np.sqrt((((r - med) / spread) ** 2).sum(-1))
        t = np.clip((d - lo) / (hi - lo), 0.0, 1.0)
        obj = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    return obj * inside


def clipped_highlights(src: np.ndarray) -> np.ndarray:
    """HxW float32 in [0, 1]: how clipped each pixel of `src` (uint8 RGB) is, by its smallest channel (0 below
    HIGHLIGHT_CLIP[0], 1 from HIGHLIGHT_CLIP[1]): a white sun or glint, where the photo holds no colour."""
    lo, hi = HIGHLIGHT_CLIP
    return np.clip((src.min(axis=2).astype(np.float32) - lo) / (hi - lo), 0.0, 1.0)


def _neutral(resid: np.ndarray, clipped: np.ndarray | None) -> np.ndarray:
    """`resid` (HxWx3 Lab differences) with the chroma (a, b) differences of `clipped` pixels (HxW 0..1) taken out."""
    if clipped is None:
        return resid
    out = resid.copy()
    out[:, :, 1:] *= (1.0 - clipped)[:, :, None]
    return out


def prime_region(src: np.ndarray, style: np.ndarray, mask: np.ndarray, amount: float,
                 style_mask: np.ndarray | None = None, max_spread: float | None = DEFAULT_PRIMING_CAP,
                 profile: str = "global", ref_rows: tuple[float, float] | None = None,
                 spread: str = DEFAULT_PRIMING_SPREAD, highlights: str = DEFAULT_PRIMING_HIGHLIGHTS,
                 objects: str = DEFAULT_PRIMING_OBJECTS) -> np.ndarray:
    """`src` (uint8 RGB HxWx3) with its region `mask` (HxW in [0, 1]) moved `amount` (0..1) of the way to
    the Reinhard colour transfer towards `style` (or the part `style_mask` of it), its spread ratio capped at
    `max_spread` (None: Reinhard's own). `profile` (PRIMING_PROFILES): "global" matches one Lab mean per region,
    "rows" one per row (`reinhard_lab_rows`, which reads the rows `ref_rows` of a reference without a style mask).
    `spread` (PRIMING_SPREADS): what the spread ratio stretches, all of the region's variation or its detail only.
    `highlights` (PRIMING_HIGHLIGHTS): "neutral" takes the chroma differences of clipped pixels (`clipped_highlights`:
    the sun's white disk) from their row as none, so they take the reference's colour there rather than its
    opposite; "plain" is Reinhard's transfer of every pixel alike. `objects` (PRIMING_OBJECTS): "keep" leaves the
    pixels that are not the region's material as they are (`object_weight`), "prime" moves them with it.
    Outside the mask, and everywhere at amount 0 or for an empty mask, `src` is returned as it is (the same
    array)."""
    assert src.ndim == 3 and src.shape[2] == 3 and src.dtype == np.uint8, (src.shape, src.dtype)
    m = np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
    assert m.shape == src.shape[:2], (m.shape, src.shape)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"priming amount must be between 0 and 1, got {amount}")
    if profile not in PRIMING_PROFILES:
        raise ValueError(f"priming profile must be one of {', '.join(PRIMING_PROFILES)}, got {profile!r}")
    if spread not in PRIMING_SPREADS:
        raise ValueError(f"priming spread must be one of {', '.join(PRIMING_SPREADS)}, got {spread!r}")
    if highlights not in PRIMING_HIGHLIGHTS:
        raise ValueError(f"priming highlights must be one of {', '.join(PRIMING_HIGHLIGHTS)}, got {highlights!r}")
    if objects not in PRIMING_OBJECTS:
        raise ValueError(f"priming objects must be one of {', '.join(PRIMING_OBJECTS)}, got {objects!r}")
    if amount == 0.0 or not m.any():
        return src
    if style_mask is not None and not np.any(style_mask):
        style_mask = None  # an empty style part: the whole reference, as the network does
    if max_spread is not None and not max_spread > 0:
        raise ValueError(f"the priming's spread cap must be above 0, got {max_spread}")
    clipped = clipped_highlights(src) if highlights == "neutral" else None
    if clipped is not None and not clipped.any():
        clipped = None
    if objects == "keep":
        material = m * (1.0 - object_weight(src, m))
        if material.sum() >= 0.05 * m.sum():  # (a region that is all "objects" has no material to read: prime it all)
            m = material
    if profile == "rows":
        target = reinhard_lab_rows(src, style, m, style_mask, max_spread, ref_rows, spread, clipped).astype(np.float32)
    else:
        target = reinhard_lab(src, style, m, style_mask, max_spread, spread, clipped).astype(np.float32)
    a = (np.float32(amount) * m)[:, :, None]
    return np.clip(src + a * (target - src) + 0.5, 0, 255).astype(np.uint8)
