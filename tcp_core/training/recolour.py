"""Random recolouring of training photos: for the recoloured reconstruction (`--rec-recolour W`), and
random photographic grades for the graded swap (`--swap-graded W`).

The content code C = H_c(E(I)) should carry structure, not colour: where it carries colour, a
region edit keeps the photo's colours (a grey pier stays grey whatever the reference). The
recoloured reconstruction asks G(H_c(E(recolour(I))), H_s(E(I))) to give back I, so every colour
that survives in the output must come from the style code S. `recolour` rotates each photo's
chroma (Cb, Cr) by a random angle, scales it by a random factor in [0, max_saturation] (0 = grey)
and jitters its luma's gain and offset a little. Images are [N, 3, H, W] RGB in [-1, 1].

The graded swap gives the swap a target it otherwise never has: G(H_c(E(I)), H_s(E(grade(I)))) should
be grade(I), the same photo with a colour grade a photographer would give it (`grade`: white balance,
per-channel gamma, a contrast S-curve, lifted blacks / lowered whites, saturation and split toning:
a tint in the shadows and another in the highlights). The style code must carry the grade and the
generator must lay it over any content, which is the look a user asks a reference to bring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class GradeRanges:
    """How far `grade` may go; each draw is uniform within +-the value (or within the range)."""

    white_balance: float = 0.2  # per-channel gain exp(+-0.2), RGB
    gamma: float = 0.3  # per-channel gamma exp(+-0.3)
    contrast: float = 0.8  # S-curve amount: +0.8 towards smoothstep (more contrast), -0.8 away (flatter)
    lift: float = 0.12  # blacks raised by up to 0.12 (a faded print)
    top: float = 0.12  # whites lowered by up to 0.12
    saturation: tuple[float, float] = (0.35, 1.6)  # chroma scaled
    tint: float = 0.12  # split toning: Cb/Cr added in the shadows and (independently) in the highlights
    # share of grades drawn without a colour cast (no white balance, one gamma for all three channels, no split
    # toning): greys stay grey, so a neutral reference is seen to bring no cast
    neutral: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.neutral <= 1.0:
            raise ValueError(f"neutral must be between 0 and 1, got {self.neutral}")


def grade(x: Tensor, generator: torch.Generator | None = None, ranges: GradeRanges = GradeRanges()) -> Tensor:
    """x: [N, 3, H, W] RGB in [-1, 1] -> each photo with its own random colour grade, [N, 3, H, W] in [-1, 1].

    Order: white balance and per-channel gamma (RGB on [0, 1]), a contrast S-curve and the black /
    white points (RGB), then saturation and split toning (Y/Cb/Cr: the tints are weighted by 1 - Y and Y).
    A share `ranges.neutral` of the photos get a grade without a colour cast (drawn from the generator after
    the other draws, so neutral = 0 draws exactly what it always did)."""
    assert x.ndim == 4 and x.shape[1] == 3, x.shape
    n, r = x.shape[0], ranges
    gen_dev = generator.device if generator is not None else x.device
    u = torch.rand(n, 14, generator=generator, device=gen_dev).to(device=x.device, dtype=torch.float32)
    sym = u * 2 - 1  # uniform in [-1, 1]
    wb = torch.exp(sym[:, 0:3] * r.white_balance)[:, :, None, None]
    gam = torch.exp(sym[:, 3:6] * r.gamma)[:, :, None, None]
    k = (sym[:, 6] * r.contrast)[:, None, None, None]
    lift = (u[:, 7] * r.lift)[:, None, None, None]
    top = (1 - u[:, 8] * r.top)[:, None, None, None]
    sat = (r.saturation[0] + u[:, 9] * (r.saturation[1] - r.saturation[0]))[:, None, None]
    tints = sym[:, 10:14] * r.tint  # [shadow Cb, shadow Cr, highlight Cb, highlight Cr]
    if r.neutral > 0:  # these photos keep their greys grey: no gains, one gamma, no tints
        cast_free = (torch.rand(n, generator=generator, device=gen_dev).to(x.device) < r.neutral)
        wb = torch.where(cast_free[:, None, None, None], torch.ones_like(wb), wb)
        gam = torch.where(cast_free[:, None, None, None], gam[:, :1].expand_as(gam), gam)
        tints = torch.where(cast_free[:, None], torch.zeros_like(tints), tints)
    v = ((x.float() + 1) / 2).clamp(0, 1)
    v = (v * wb).clamp(0, 1) ** gam
    v = v + k * (v * v * (3 - 2 * v) - v)  # k > 0: towards smoothstep (more contrast); k < 0: flatter
    v = lift + (top - lift) * v
    ycc = rgb_to_ycbcr(v * 2 - 1)
    yn = ((ycc[:, 0] + 1) / 2).clamp(0, 1)  # luma on [0, 1]: the highlight weight
    cb = ycc[:, 1] * sat + tints[:, 0, None, None] * (1 - yn) + tints[:, 2, None, None] * yn
    cr = ycc[:, 2] * sat + tints[:, 1, None, None] * (1 - yn) + tints[:, 3, None, None] * yn
    out = ycbcr_to_rgb(torch.stack([ycc[:, 0], cb, cr], dim=1))
    return out.clamp(-1, 1).to(x.dtype)
