"""E, H_c and H_s (paper Sec. 3.1, Fig. 2; METHOD section 1).

E maps an image to a deep feature map e; H_c turns e into the spatial content code C (Eq. 6,
C = H_c(e)), H_s into the vector style code S (S = H_s(e)), stripping structure with strided
convolutions and a spatial mean.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from tcp_core.base.config import ModelConfig
from tcp_core.networks.layers import DownResBlock, EqualConv2d, EqualLinear, conv_lrelu


class Encoder(nn.Module):
    """E: 1x1 stem, then one downsampling residual block per level (reflection padding, blur)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.stem = EqualConv2d(3, cfg.enc_stem, 1)
        chans = (cfg.enc_stem, *cfg.enc_channels)
        self.blocks = nn.ModuleList(DownResBlock(a, b) for a, b in zip(chans[:-1], chans[1:]))
        self.levels = len(cfg.enc_channels)

    def forward(self, image: Tensor) -> Tensor:
        # image: [N, 3, H, W] in [-1, 1]; H and W multiples of 2**levels
        n, c, h, w = image.shape
        assert c == 3 and h % (1 << self.levels) == 0 and w % (1 << self.levels) == 0, image.shape
        x = conv_lrelu(self.stem, image)
        for block in self.blocks:
            x = block(x)
        return x  # e: [N, C_e, H / 2**levels, W / 2**levels]


class ContentHead(nn.Module):
    """H_c: 1x1 conv + leaky ReLU, 1x1 conv to the content channels; L2-normalised per pixel."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        c = cfg.feature_channels
        self.conv1 = EqualConv2d(c, c, 1)
        self.conv2 = EqualConv2d(c, cfg.content_channels, 1)

    def forward(self, e: Tensor) -> Tensor:
        c = self.conv2(conv_lrelu(self.conv1, e))  # [N, C_c, h, w]
        return F.normalize(c, dim=1, eps=1e-8)


class StyleHead(nn.Module):
    """H_s: two 3x3 stride-2 unpadded convs, spatial mean, linear; L2-normalised vector."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        c1, c2 = cfg.style_channels
        self.conv1 = EqualConv2d(cfg.feature_channels, c1, 3, stride=2)
        self.conv2 = EqualConv2d(c1, c2, 3, stride=2)
        self.fc = EqualLinear(c2, cfg.style_dim)

    def forward(self, e: Tensor, mask: Tensor | None = None) -> Tensor:
        # e: [N, C_e, h, w]; mask (optional): [N, 1, H, W] in [0, 1] on the image grid, the part of
        # the image whose style is wanted (masked pooling; None = the whole image) -> S [N, D]
        x = conv_lrelu(self.conv2, conv_lrelu(self.conv1, e))  # [N, c2, h', w']
        if mask is None:
            pooled = x.mean(dim=(2, 3))
        else:
            m = F.interpolate(mask.to(x.dtype), size=x.shape[-2:], mode="area")  # [N, 1, h', w']
            pooled = (x * m).sum(dim=(2, 3)) / m.sum(dim=(2, 3)).clamp_min(1e-6)
        s = self.fc(pooled)  # [N, D]
        return F.normalize(s, dim=1, eps=1e-8)
