"""D on frozen pretrained features: a projected discriminator (Sauer et al., Projected GAN, 2021).

Images go through the frozen EfficientNet-Lite0 pyramid (`tcp_core.networks.efficientnet`, strides 4-32),
then through fixed random projections that are never trained:
- cross-channel mixing (CCM): a random 1x1 conv per scale;
- cross-scale mixing (CSM): top-down, each scale adds a random 1x1 projection of the upsampled
  coarser scale (a feature pyramid with frozen random weights).
A small trainable head per scale (strided 4x4 convs with spectral norm, down to 4x4, then one
logit per position) judges each scale; every patch logit of every scale enters the loss.
The random projections spread the signal over all channels and scales, so the heads cannot
latch onto a few strong pretrained features (the paper's fix for a dominating discriminator).

Projected GAN trains its heads without R1 (spectral norm keeps them smooth); the trainer does the
same for this D and keeps R1 for D_co.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from tcp_core.networks.efficientnet import FEATURE_CHANNELS


def _random_conv1x1(c_in: int, c_out: int, generator: torch.Generator) -> Tensor:
    """Kaiming-uniform random 1x1 weights [c_out, c_in, 1, 1] (what nn.Conv2d's init draws)."""
    bound = 1.0 / c_in ** 0.5
    return (torch.rand(c_out, c_in, 1, 1, generator=generator) * 2 - 1) * bound * 3 ** 0.5


class RandomProjector(nn.Module):
    """CCM + CSM with fixed random weights (buffers: saved with the D, never trained)."""

    def __init__(self, in_channels: tuple[int, ...], out_channels: tuple[int, ...], seed: int = 0) -> None:
        super().__init__()
        assert len(in_channels) == len(out_channels)
        g = torch.Generator().manual_seed(seed)
        for i, (ci, co) in enumerate(zip(in_channels, out_channels)):
            self.register_buffer(f"ccm{i}", _random_conv1x1(ci, co, g))
        for i in range(len(out_channels) - 1):  # coarser (i+1) -> finer (i)
            self.register_buffer(f"csm{i}", _random_conv1x1(out_channels[i + 1], out_channels[i], g))
        self.n = len(in_channels)

    def forward(self, feats: list[Tensor]) -> list[Tensor]:
        # feats: maps at strides 4, 8, 16, 32 -> projected maps at the same sizes
        assert len(feats) == self.n
        mixed = [F.conv2d(f, getattr(self, f"ccm{i}").to(f.dtype)) for i, f in enumerate(feats)]
        out = [mixed[-1]]
        for i in range(self.n - 2, -1, -1):
            up = F.interpolate(out[0], size=mixed[i].shape[-2:], mode="bilinear", align_corners=False)
            out.insert(0, mixed[i] + F.conv2d(up, getattr(self, f"csm{i}").to(up.dtype)))
        return out


class ScaleHead(nn.Module):
    """Strided 4x4 convs (spectral norm, leaky ReLU) until the map is 4x4 or smaller, then a 1x1 logit conv."""

    def __init__(self, c_in: int, size: int, width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = c_in
        while size > 4:
            co = min(width, max(c, 32) * 2)
            layers += [spectral_norm(nn.Conv2d(c, co, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            c, size = co, size // 2
        layers += [spectral_norm(nn.Conv2d(c, 1, 1))]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # [N, 1, h, w] patch logits


class ProjectedDiscriminator(nn.Module):
    """D(x) = mean over scales and positions of head_i(P_i(F(x))); F frozen, P fixed random.

    The feature network is passed in (shared with the perceptual loss) and is not part of this
    module's state."""

    def __init__(self, resolution: int, proj_channels: tuple[int, ...] = (32, 64, 128, 256), width: int = 256,
                 seed: int = 0) -> None:
        super().__init__()
        self.projector = RandomProjector(FEATURE_CHANNELS, proj_channels, seed)
        sizes = [resolution // s for s in (4, 8, 16, 32)]
        self.heads = nn.ModuleList(ScaleHead(c, s, width) for c, s in zip(proj_channels, sizes))
        self.resolution = resolution

    def forward(self, feats: list[Tensor]) -> Tensor:
        # feats: the frozen pyramid of images [N, 3, R, R] -> patch logits [N, P] (P = 16 per scale at
        # 128 px); the losses average over patches, as Projected GAN does.
        proj = self.projector(feats)
        return torch.cat([head(p).flatten(1) for head, p in zip(self.heads, proj)], 1).float()
