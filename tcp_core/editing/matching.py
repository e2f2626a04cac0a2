"""Which part of a style reference matches a region: the automatic style part.

A user who brushes a sky and drops a reference photo usually wants the reference's sky, not the
average of its sky, hills and grass (issue #13, "style from part of the reference"); the whole
photo's style code mixes them and brings colours that clash with the region (an olive cast on a
sky from a meadow reference). The style part can be brushed by hand (`RegionEdit.style_mask`);
this module finds it from what the region shows:

    f(x)    = [n(t8(x)), n(up(t16(x)))] / sqrt(2)         unit feature per location (frozen
                                                           ImageNet trunk, strides 8 and 16)
    p(j|i)  = softmax_j( f_A(i) . f_B(j) / tau )          each region location's soft nearest
                                                           neighbours in the reference
    h(j)    = sum_i m(i) p(j|i) / sum_i m(i)              how much of the region matches j
    part    = the fewest reference locations holding `mass` of h, at least `min_area` of the
              photo (ties and scattered hits are smoothed first), feathered

When nothing in the reference resembles the region, h spreads out and the part grows towards the
whole photo, so a poor match falls back to today's behaviour by itself. The features come from
the frozen EfficientNet-Lite0 trunk that models with `encoder` "lite0" or "conv+lite0" carry; a
model without it (the conv encoder) matches on its own encoder features e = E(I).

Pure torch and numpy on small grids (about 28 x 42 locations at the default 224 px): a few tens of
milliseconds on a CPU, next to the network's edit.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from tcp_core.networks.trunk_encoder import resample


@dataclass(frozen=True)
class MatchConfig:
    """How the automatic style part is chosen (see the module docstring)."""

    size: int = 224  # short side the photos are matched at (a multiple of 16)
    tau: float = 0.05  # softmax temperature of the soft nearest neighbours (cosine units)
    mass: float = 0.6  # share of the region's matches the part must hold
    min_area: float = 0.15  # the part covers at least this share of the reference
    feather: float = 0.04  # feather of the part's edge, as a share of the reference's short side

    def __post_init__(self) -> None:
        if self.size < 32 or self.size % 16:
            raise ValueError(f"match size must be a multiple of 16, at least 32 (got {self.size})")
        if not 0 < self.tau <= 10:
            raise ValueError(f"match tau must be in (0, 10] (got {self.tau})")
        if not 0 < self.mass <= 1 or not 0 < self.min_area <= 1:
            raise ValueError("match mass and min_area must be in (0, 1]")
        if self.feather < 0:
            raise ValueError("match feather must be >= 0")


DEFAULT_MATCH = MatchConfig()


def unit_features(maps: list[Tensor], size: tuple[int, int]) -> Tensor:
    """maps: feature maps [1, C_k, h_k, w_k] -> [1, sum C_k, h, w] on the grid `size`, each map
    L2-normalised per location and the concatenation scaled back to unit length."""
    out = [F.normalize(resample(t.float(), size), dim=1, eps=1e-6) for t in maps]
    return torch.cat(out, dim=1) / len(out) ** 0.5


def match_histogram(f_a: Tensor, m_a: Tensor, f_b: Tensor, tau: float) -> Tensor:
    """h(j): how much of region m_a of A finds its soft nearest neighbours at each location of B.

    f_a [1, C, h_a, w_a], m_a [1, 1, h_a, w_a] (weights >= 0, not all zero), f_b [1, C, h_b, w_b]
    -> [h_b, w_b], non-negative, summing to 1."""
    assert f_a.shape[:2] == f_b.shape[:2] and f_a.shape[0] == 1, (f_a.shape, f_b.shape)
    assert m_a.shape[-2:] == f_a.shape[-2:], (m_a.shape, f_a.shape)
    c = f_a.shape[1]
    w = m_a.reshape(-1).float()
    keep = w > 0
    if not bool(keep.any()):
        raise ValueError("the region is empty: nothing to match")
    a = f_a.reshape(c, -1).t()[keep]  # [N_a, C]
    b = f_b.reshape(c, -1)  # [C, N_b]
    p = torch.softmax(a @ b / tau, dim=1)  # [N_a, N_b]
    h = (w[keep, None] * p).sum(0) / w[keep].sum()
    return h.reshape(f_b.shape[-2:])


def part_from_histogram(h: np.ndarray, mass: float, min_area: float) -> np.ndarray:
    """The fewest locations of h (smoothed by a 3x3 box) holding `mass` of it, at least
    `min_area` of the grid: a {0, 1} float32 mask of h's shape."""
    h = cv2.blur(np.asarray(h, np.float32), (3, 3), borderType=cv2.BORDER_REFLECT)
    order = np.argsort(-h, axis=None, kind="stable")
    cum = np.cumsum(h.reshape(-1)[order]) / max(float(h.sum()), 1e-12)
    n = int(np.searchsorted(cum, mass) + 1)
    n = min(h.size, max(n, int(np.ceil(min_area * h.size))))
    part = np.zeros(h.size, np.float32)
    part[order[:n]] = 1.0
    return part.reshape(h.shape)


def upsample_part(part: np.ndarray, shape: tuple[int, int], feather: float) -> np.ndarray:
    """A grid part -> HxW float32 in [0, 1] of the reference's size, with a soft edge."""
    h, w = shape
    m = cv2.resize(part.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    sigma = feather * min(h, w)
    if sigma >= 0.5:
        m = cv2.GaussianBlur(m, (0, 0), sigma)
    return np.clip(m, 0.0, 1.0).astype(np.float32)
