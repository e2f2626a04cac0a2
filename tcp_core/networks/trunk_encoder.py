"""E on a frozen ImageNet trunk (issue #13's "E built on the frozen pretrained trunk").

The paper's E learns every filter from the training photos; on a CPU budget it sees a tiny part of
what the Swapping Autoencoder saw. This E reads the first blocks of EfficientNet-Lite0
(`networks/efficientnet.py`, frozen, ImageNet weights) and learns only a small mixing head:

    t4, t8, t16 = trunk(I)                      strides 4, 8, 16: 24, 40, 112 channels (frozen)
    x = [pool(t4), t8, up(t16), pool(I)]        each tap scaled to unit RMS, all resampled to e's grid
    e = lrelu(conv3(lrelu(conv3(x))))           [N, C_e, H / 2**levels, W / 2**levels] (trained)

The local mean colour `pool(I)` rides along because the trunk's features are built to be
colour-robust, and reconstruction needs the colour. H_c, H_s, G and the region edit (Eq. 5-6) are
unchanged: they see `e` as before. The trunk's weights are part of the model's state (so one file
is still a whole model), start from the pinned package when it is installed, receive no
gradient, and stay in eval mode (BatchNorm keeps ImageNet statistics).
"""

from __future__ import annotations

import dataclasses
import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tcp_core.base.config import ModelConfig
from tcp_core.base.errors import UsageError
from tcp_core.networks.efficientnet import EfficientNetLite0, is_available, load_state_dict
from tcp_core.networks.encoder import Encoder
from tcp_core.networks.layers import EqualConv2d, conv_lrelu

log = logging.getLogger(__name__)

TRUNK_LAST_BLOCK = 10  # blocks 0..10: taps at strides 4, 8, 16
TRUNK_CHANNELS = (24, 40, 112)
TRUNK_STRIDE = 16  # the input must be a multiple of this
BRANCH_LR_MUL = 10.0  # TrunkBranch's last conv learns this much faster (see TrunkBranch)


class FrozenTrunk(nn.Module):
    """EfficientNet-Lite0's stem and blocks 0-10, frozen, always in eval mode."""

    def __init__(self, pretrained: bool = True) -> None:
        super().__init__()
        net = EfficientNetLite0()
        if net._conv_stem.weight.is_meta:  # a shape check of a model file: nothing to load
            pretrained = False
        if pretrained and is_available():
            net.load_state_dict(load_state_dict())
        elif pretrained:
            log.warning("EfficientNet-Lite0 weights not installed: the trunk starts untrained")
        del net._conv_head, net._bn1, net._fc
        net._blocks = net._blocks[: TRUNK_LAST_BLOCK + 1]
        _freeze_batchnorm(net)
        self.net = net
        self.requires_grad_(False)

    def train(self, mode: bool = True) -> FrozenTrunk:
        return super().train(False)

    def forward(self, image: Tensor) -> list[Tensor]:
        return self.net.features(image, last=TRUNK_LAST_BLOCK)  # 3 maps: strides 4, 8, 16


class TrunkEncoder(nn.Module):
    """E = a trained mixing head over frozen ImageNet features (see the module docstring)."""

    def __init__(self, cfg: ModelConfig, pretrained: bool = True) -> None:
        super().__init__()
        self.trunk = FrozenTrunk(pretrained)
        self.levels = len(cfg.enc_channels)
        c_in = sum(TRUNK_CHANNELS) + 3
        mid = cfg.enc_channels[-1]
        self.mix1 = EqualConv2d(c_in, mid, 3, padding=1, pad_mode="reflect")
        self.mix2 = EqualConv2d(mid, cfg.feature_channels, 3, padding=1, pad_mode="reflect")

    def forward(self, image: Tensor) -> Tensor:
        x = conv_lrelu(self.mix1, _taps(self.trunk, image, self.levels))
        return conv_lrelu(self.mix2, x)  # e: [N, C_e, H / 2**levels, W / 2**levels]


def _taps(trunk: FrozenTrunk, image: Tensor, levels: int) -> Tensor:
    """The mixing heads' input: the trunk's three maps, each at unit RMS, and the local mean colour,
    all on e's grid. image: [N, 3, H, W] in [-1, 1], H and W multiples of 16 and of 2**levels
    -> [N, 24 + 40 + 112 + 3, H / 2**levels, W / 2**levels]."""
    n, c, h, w = image.shape
    step = max(TRUNK_STRIDE, 1 << levels)
    assert c == 3 and h % step == 0 and w % step == 0, image.shape
    size = (h >> levels, w >> levels)
    grid = [resample(_unit_rms(t), size) for t in trunk(image)] + [F.adaptive_avg_pool2d(image, size)]
    return _cat(grid)


class TrunkBranch(nn.Module):
    """The same taps and mixing head as `TrunkEncoder`, as a signed residual for the conv E:

        r = conv3(lrelu(conv3(x)))      x as in TrunkEncoder; r: [N, C_e, H / 2**levels, W / 2**levels]

    The last conv starts at zero (weights and bias), so a model grown with this branch computes
    exactly what it computed before (`grow_trunk_branch`) and training decides how much of the
    ImageNet features E takes in. That conv learns at `BRANCH_LR_MUL` times the rate of the rest
    (StyleGAN's learning-rate multiplier: its equalised-learning-rate scale is multiplied, so an Adam
    step moves its effective weights that much further): at the base rate it grew from zero to an
    RMS of 0.004 in 200 iterations (stage 26), under 1 % of E's own signal, too slow for a stage."""

    def __init__(self, cfg: ModelConfig, pretrained: bool = True) -> None:
        super().__init__()
        self.trunk = FrozenTrunk(pretrained)
        self.levels = len(cfg.enc_channels)
        mid = cfg.enc_channels[-1]
        self.mix1 = EqualConv2d(sum(TRUNK_CHANNELS) + 3, mid, 3, padding=1, pad_mode="reflect")
        self.mix2 = EqualConv2d(mid, cfg.feature_channels, 3, padding=1, pad_mode="reflect")
        self.mix2.scale *= BRANCH_LR_MUL
        with torch.no_grad():
            self.mix2.weight.zero_()

    def forward(self, image: Tensor) -> Tensor:
        return self.mix2(conv_lrelu(self.mix1, _taps(self.trunk, image, self.levels)))


class HybridEncoder(Encoder):
    """E = the paper's conv E + a residual branch over frozen ImageNet features (`encoder="conv+lite0"`):

        e = E_conv(I) + TrunkBranch(I)

    The conv E's parameter names are unchanged (`E.stem`, `E.blocks`), so a trained conv model grows
    into this one by adding the branch's tensors (`grow_trunk_branch`)."""

    def __init__(self, cfg: ModelConfig, pretrained: bool = True) -> None:
        super().__init__(cfg)
        self.branch = TrunkBranch(cfg, pretrained)

    def forward(self, image: Tensor) -> Tensor:
        e = super().forward(image)  # [N, C_e, h, w]
        return e + self.branch(image).to(e.dtype)


def grow_trunk_branch(state: dict[str, Tensor], cfg: ModelConfig, seed: int = 0,
                      pretrained: bool = True) -> tuple[dict[str, Tensor], ModelConfig]:
    """(the state dict, config) of a conv-E TCPNet grown with the ImageNet branch: the old tensors as
    they are, the branch's trunk from the pinned package, its first conv seeded, its last conv zero;
    the grown model computes the same images."""
    if cfg.encoder != "conv":
        raise UsageError(f"growing the ImageNet branch needs the conv encoder, not {cfg.encoder!r}")
    if "E.stem.weight" not in state:
        raise UsageError("not a TCPNet state: E.stem.weight is missing")
    new_cfg = dataclasses.replace(cfg, encoder="conv+lite0", name=f"{cfg.name}-lite")
    branch = TrunkBranch(new_cfg, pretrained)
    with torch.no_grad():  # mix1's weights from the seed, not from the global generator
        w = branch.mix1.weight
        w.copy_(torch.randn(w.shape, generator=torch.Generator().manual_seed(seed)))
    out = dict(state)
    dtype = state["E.stem.weight"].dtype
    out.update({f"E.branch.{k}": v.detach().clone().to(dtype if v.is_floating_point() else v.dtype)
                for k, v in branch.state_dict().items()})
    return out, new_cfg


class FrozenBatchNorm2d(nn.Module):
    """BatchNorm with its ImageNet statistics fixed: y = (x - mean) / sqrt(var + eps) * w + b.
    Buffers only (no step counter, no training mode), so the state is plain float tensors."""

    def __init__(self, bn: nn.BatchNorm2d) -> None:
        super().__init__()
        for name in ("weight", "bias", "running_mean", "running_var"):
            self.register_buffer(name, getattr(bn, name).detach().clone())
        self.eps = bn.eps

    def forward(self, x: Tensor) -> Tensor:
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.view(1, -1, 1, 1).to(x.dtype) + shift.view(1, -1, 1, 1).to(x.dtype)


def _freeze_batchnorm(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, FrozenBatchNorm2d(child))
        else:
            _freeze_batchnorm(child)


def _unit_rms(t: Tensor) -> Tensor:
    """Scale a tap to unit root-mean-square per image. The trunk's maps have an RMS of 7-13 (peaks
    above 70) against 0.6 for the image: unscaled, they drown the colour input and make the first
    steps of training unstable."""
    return t * t.float().pow(2).mean(dim=(1, 2, 3), keepdim=True).add(1e-6).rsqrt().to(t.dtype)


def resample(t: Tensor, size: tuple[int, int]) -> Tensor:
    """A feature map on the grid `size`: averaged down from a finer grid, bilinear up from a coarser one."""
    if t.shape[-2:] == size:
        return t
    if t.shape[-2] > size[0]:  # finer than e's grid: average
        return F.adaptive_avg_pool2d(t, size)
    return F.interpolate(t, size=size, mode="bilinear", align_corners=False)


def _cat(maps: list[Tensor]) -> Tensor:
    return torch.cat([m.to(maps[0].dtype) for m in maps], dim=1)
