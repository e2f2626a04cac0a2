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
"""

from __future__ import annotations

import cv2
import numpy as np

from tcp_core.base.constants import DEFAULT_PRIMING_CAP

__all__ = ["lab_moments", "prime_region", "reinhard_lab"]


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
                 style_mask: np.ndarray | None = None, max_spread: float | None = None) -> np.ndarray:
    """The whole of `src` (uint8 RGB) with its Lab moments over `mask` (HxW weights) matched to those of
    `style` (uint8 RGB, any size) over `style_mask` (its weights; None = the whole reference). uint8.
    `max_spread` caps each channel's spread ratio (reference / region): a region much flatter than the
    reference (a grey sky, a near-grey detail) is not stretched into banding or blotches. None: Reinhard's."""
    lab = _lab(src)
    mu_c, sd_c = lab_moments(lab, mask)
    mu_s, sd_s = lab_moments(_lab(style), style_mask)
    ratio = sd_s / np.maximum(sd_c, 1e-6)
    if max_spread is not None:
        ratio = np.minimum(ratio, max_spread)
    out = (lab - mu_c) * ratio + mu_s
    out[:, :, 0] = np.clip(out[:, :, 0], 0.0, 100.0)
    rgb = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def prime_region(src: np.ndarray, style: np.ndarray, mask: np.ndarray, amount: float,
                 style_mask: np.ndarray | None = None, max_spread: float | None = DEFAULT_PRIMING_CAP) -> np.ndarray:
    """`src` (uint8 RGB HxWx3) with its region `mask` (HxW in [0, 1]) moved `amount` (0..1) of the way to
    the Reinhard colour transfer towards `style` (or the part `style_mask` of it), its spread ratio capped at
    `max_spread` (None: Reinhard's own). Outside the mask, and everywhere at amount 0 or for an empty mask,
    `src` is returned as it is (the same array)."""
    assert src.ndim == 3 and src.shape[2] == 3 and src.dtype == np.uint8, (src.shape, src.dtype)
    m = np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
    assert m.shape == src.shape[:2], (m.shape, src.shape)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"priming amount must be between 0 and 1, got {amount}")
    if amount == 0.0 or not m.any():
        return src
    if style_mask is not None and not np.any(style_mask):
        style_mask = None  # an empty style part: the whole reference, as the network does
    if max_spread is not None and not max_spread > 0:
        raise ValueError(f"the priming's spread cap must be above 0, got {max_spread}")
    target = reinhard_lab(src, style, m, style_mask, max_spread).astype(np.float32)
    a = (np.float32(amount) * m)[:, :, None]
    return np.clip(src + a * (target - src) + 0.5, 0, 255).astype(np.uint8)
