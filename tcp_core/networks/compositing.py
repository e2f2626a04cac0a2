"""Compositing for region-wise transfer (paper Sec. 3.3).

Eq. 4 composites pixels of the globally transferred image I_g and the content image I_A (the
naive baseline that leaves seams). Eq. 5 composites encoder features instead:
    e_hat = M_e * e(I_g) + (1 - M_e) * e(I_A)
with M_e the mask resized to e's grid by area averaging (so soft masks and thin strokes keep
their coverage).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def resize_mask(mask: Tensor, size: tuple[int, int]) -> Tensor:
    """Area-average a mask [N, 1, H, W] in [0, 1] to `size` (exact for integer factors)."""
    assert mask.ndim == 4 and mask.shape[1] == 1, mask.shape
    if tuple(mask.shape[-2:]) == tuple(size):
        return mask
    h, w = mask.shape[-2:]
    if h % size[0] == 0 and w % size[1] == 0:
        return F.avg_pool2d(mask, (h // size[0], w // size[1]))
    return F.interpolate(mask, size=size, mode="area")


def composite_pixels(i_g: Tensor, i_a: Tensor, mask: Tensor) -> Tensor:
    """Eq. 4: I_h = M * I_g + (1 - M) * I_A (the seam-prone baseline)."""
    assert i_g.shape == i_a.shape and mask.shape[-2:] == i_a.shape[-2:], (i_g.shape, i_a.shape, mask.shape)
    return mask * i_g + (1 - mask) * i_a


def composite_features(e_g: Tensor, e_a: Tensor, mask: Tensor) -> Tensor:
    """Eq. 5: e_hat = M_e * e_g + (1 - M_e) * e_a with M_e = mask area-averaged to e's grid.

    An all-zero mask returns e_a exactly and an all-one mask e_g exactly."""
    assert e_g.shape == e_a.shape, (e_g.shape, e_a.shape)
    m_e = resize_mask(mask, tuple(e_a.shape[-2:])).to(e_a.dtype)  # [N, 1, h, w]
    return m_e * e_g + (1 - m_e) * e_a
