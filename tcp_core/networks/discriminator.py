"""D: StyleGAN2 residual discriminator on whole images (METHOD section 1)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tcp_core.base.config import ModelConfig
from tcp_core.networks.layers import DownResBlock, EqualConv2d, EqualLinear, conv_lrelu, lrelu


def minibatch_stddev(x: Tensor, group: int = 4) -> Tensor:
    """Append the mean standard deviation over a group of samples as one extra channel."""
    n, c, h, w = x.shape
    g = min(group, n)
    while n % g:
        g -= 1
    y = x.reshape(g, n // g, c, h, w)
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [n // g]
    y = y.reshape(1, n // g, 1, 1, 1).expand(g, n // g, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, y], dim=1)


class Discriminator(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        ch = cfg.disc_channels  # from full resolution down to 4x4
        self.from_rgb = EqualConv2d(3, ch[0], 1)
        self.blocks = nn.ModuleList(DownResBlock(a, b, pad_mode="zeros") for a, b in zip(ch[:-1], ch[1:]))
        self.final_conv = EqualConv2d(ch[-1] + 1, ch[-1], 3, padding=1)
        self.fc1 = EqualLinear(ch[-1] * 16, ch[-1])
        self.fc2 = EqualLinear(ch[-1], 1)
        self.resolution = cfg.resolution

    def forward(self, image: Tensor) -> Tensor:
        # image: [N, 3, R, R] -> logits [N]
        assert image.shape[-1] == self.resolution and image.shape[-2] == self.resolution, image.shape
        x = conv_lrelu(self.from_rgb, image)
        for block in self.blocks:
            x = block(x)
        x = conv_lrelu(self.final_conv, minibatch_stddev(x))  # [N, C, 4, 4]
        return self.fc2(lrelu(self.fc1(x.flatten(1)))).squeeze(1)
