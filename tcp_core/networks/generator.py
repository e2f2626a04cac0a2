"""G(C, S): StyleGAN2-style generator whose constant input is the content code C and whose
modulation comes from the style code S (paper Sec. 3.1; METHOD section 1).

The style may be a vector [N, D], a spatial map [N, D, h, w] (resized to each layer) or a `StyleBlend`
(one style inside a mask, another outside, blended on each layer's grid).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from tcp_core.base.config import ModelConfig
from tcp_core.networks.layers import (
    RES_SCALE,
    EqualConv2d,
    StyleAffine,
    StyleBlend,
    StyledConv,
    ToRGB,
    resize_style_map,
    upsample2,
)


class GenResBlock(nn.Module):
    """Two styled 3x3 convs (optionally upsampling first) with a 1x1 skip (bilinear x2 when upsampling)."""

    def __init__(self, c_in: int, c_out: int, style_dim: int, upsample: bool) -> None:
        super().__init__()
        self.conv1 = StyledConv(c_in, c_out, style_dim, upsample=upsample)
        self.conv2 = StyledConv(c_out, c_out, style_dim)
        self.skip = EqualConv2d(c_in, c_out, 1, bias=False)
        self.upsample = upsample

    def forward(self, x: Tensor, style: Tensor | StyleBlend, generator: torch.Generator | None = None) -> Tensor:
        # (y + skip) / sqrt(2), the 1/sqrt(2) folded into conv2 and the skip
        y = self.conv2(self.conv1(x, style, generator), style, generator, gain=RES_SCALE)
        s = self.skip(x, gain=RES_SCALE)
        if self.upsample:
            s = upsample2(s)
        return y + s


class Generator(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.style_dim
        # The style code is L2-normalised (unit norm); scaling by sqrt(D) gives unit-RMS entries
        # so the equalized-lr affines start with O(1) modulation.
        self.style_gain = math.sqrt(d)
        self.content_scale = StyleAffine(d, cfg.content_channels, bias_init=1.0)  # A(S)
        self.content_shift = StyleAffine(d, cfg.content_channels, bias_init=0.0)  # B(S)
        chans = (cfg.content_channels, *cfg.gen_res_channels)
        blocks = [GenResBlock(a, b, d, upsample=False) for a, b in zip(chans[:-1], chans[1:])]
        up = (cfg.gen_res_channels[-1], *cfg.gen_up_channels)
        blocks += [GenResBlock(a, b, d, upsample=True) for a, b in zip(up[:-1], up[1:])]
        self.blocks = nn.ModuleList(blocks)
        self.to_rgb = ToRGB(cfg.gen_up_channels[-1], d)
        self.content_channels = cfg.content_channels

    def forward(self, content: Tensor, style: Tensor | StyleBlend, generator: torch.Generator | None = None) -> Tensor:
        # content: [N, C_c, h, w]; style: [N, D], [N, D, h', w'] or a StyleBlend
        #   -> image [N, 3, h * 2**levels, w * 2**levels]
        assert content.ndim == 4 and content.shape[1] == self.content_channels, content.shape
        assert style.shape[0] == content.shape[0], (style.shape, content.shape)
        s = style * self.style_gain
        size = tuple(content.shape[-2:])
        x = content * resize_style_map(self.content_scale(s), size) + resize_style_map(self.content_shift(s), size)
        for block in self.blocks:
            x = block(x, s, generator)
        return self.to_rgb(x, s)
