"""Random recolouring of training photos, for the recoloured reconstruction (`--rec-recolour W`).

The content code C = H_c(E(I)) should carry structure, not colour: where it carries colour, a
region edit keeps the photo's colours (a grey pier stays grey whatever the reference). The
recoloured reconstruction asks G(H_c(E(recolour(I))), H_s(E(I))) to give back I, so every colour
that survives in the output must come from the style code S. `recolour` rotates each photo's
chroma (Cb, Cr) by a random angle, scales it by a random factor in [0, max_saturation] (0 = grey)
and jitters its luma's gain and offset a little. Images are [N, 3, H, W] RGB in [-1, 1].
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from tcp_core.training.losses import rgb_to_ycbcr, ycbcr_to_rgb


def recolour(x: Tensor, generator: torch.Generator | None = None, max_saturation: float = 1.5,
             luma_gain: float = 0.2, luma_shift: float = 0.2) -> Tensor:
    """x: [N, 3, H, W] in [-1, 1] -> the same photos recoloured, [N, 3, H, W] in [-1, 1]."""
    assert x.ndim == 4 and x.shape[1] == 3, x.shape
    n = x.shape[0]
    gen_dev = generator.device if generator is not None else x.device
    r = torch.rand(n, 4, generator=generator, device=gen_dev).to(device=x.device, dtype=torch.float32)
    theta = (r[:, 0] * 2 - 1) * math.pi
    sat = r[:, 1] * max_saturation
    gain = 1 + (r[:, 2] * 2 - 1) * luma_gain
    shift = (r[:, 3] * 2 - 1) * luma_shift
    ycc = rgb_to_ycbcr(x)  # Y in [-1, 1], Cb/Cr in [-1, 1]
    cos, sin = torch.cos(theta) * sat, torch.sin(theta) * sat
    cb, cr = ycc[:, 1], ycc[:, 2]
    y = ycc[:, 0] * gain[:, None, None] + shift[:, None, None]
    cb2 = cb * cos[:, None, None] - cr * sin[:, None, None]
    cr2 = cb * sin[:, None, None] + cr * cos[:, None, None]
    out = ycbcr_to_rgb(torch.stack([y, cb2, cr2], dim=1))
    return out.clamp(-1, 1).to(x.dtype)
