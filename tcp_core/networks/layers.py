"""Building blocks shared by the networks: equalized-lr layers, blur, modulated convs, noise.

Pure PyTorch (no custom CUDA ops), so the model runs on any device without a compiler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tcp_core.networks.compositing import resize_mask

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)
RES_SCALE = 1 / math.sqrt(2.0)  # a residual block's (y + skip) / sqrt(2)


def lrelu(x: Tensor) -> Tensor:
    """Leaky ReLU with StyleGAN's sqrt(2) gain (keeps activations at unit scale)."""
    return F.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN


def conv_lrelu(conv: EqualConv2d, x: Tensor, gain: float = 1.0) -> Tensor:
    """lrelu(conv(x)) * gain, with both gains folded into the conv's weight and bias: the leaky ReLU
    is positively homogeneous (lrelu(g y) = g lrelu(y) for g > 0), so this is the same function
    without a full-size multiply in the forward and the backward pass (the step is bound by memory
    traffic at 128 x 128)."""
    return F.leaky_relu(conv(x, gain=LRELU_GAIN * gain), LRELU_SLOPE)


def pad_keep_dtype(x: Tensor, pad: list[int], mode: str) -> Tensor:
    """F.pad in x's own dtype. CPU autocast runs reflection/replication padding in fp32, so under bf16
    a padded conv would turn its bf16 input into fp32 and back, in the forward and the backward pass;
    padding only moves values, so doing it in bf16 changes no number."""
    dev = x.device.type
    if dev in ("cpu", "cuda") and torch.is_autocast_enabled(dev):  # (no autocast on the meta device)
        with torch.autocast(dev, enabled=False):
            return F.pad(x, pad, mode=mode)
    return F.pad(x, pad, mode=mode)


def normal_weight(*shape: int) -> Tensor:
    """N(0, 1) weights, the same numbers as torch.randn(*shape). Under `torch.device("meta")` (shape
    checks of model files, tcp_core.checkpoint) nothing is drawn: random ops on the meta device cost
    seconds on first use."""
    t = torch.empty(*shape)
    return t if t.is_meta else t.normal_()


class EqualConv2d(nn.Module):
    """Conv with equalized learning rate: weights ~ N(0,1), scaled by 1/sqrt(fan_in) at run time."""

    def __init__(
        self, c_in: int, c_out: int, k: int, stride: int = 1, padding: int = 0, bias: bool = True,
        pad_mode: str = "zeros",
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(normal_weight(c_out, c_in, k, k))
        self.bias = nn.Parameter(torch.zeros(c_out)) if bias else None
        self.scale = 1.0 / math.sqrt(c_in * k * k)
        self.stride, self.padding, self.pad_mode = stride, padding, pad_mode

    def forward(self, x: Tensor, gain: float = 1.0) -> Tensor:
        """conv(x) * gain (the gain folded into the weight and bias: no extra pass over the output)."""
        if self.padding and self.pad_mode != "zeros":
            x = pad_keep_dtype(x, [self.padding] * 4, self.pad_mode)
            pad = 0
        else:
            pad = self.padding
        bias = self.bias if self.bias is None or gain == 1.0 else self.bias * gain
        return F.conv2d(x, self.weight * (self.scale * gain), bias, stride=self.stride, padding=pad)


class EqualLinear(nn.Module):
    def __init__(self, c_in: int, c_out: int, bias: bool = True, bias_init: float = 0.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(normal_weight(c_out, c_in))
        self.bias = nn.Parameter(torch.full((c_out,), float(bias_init))) if bias else None
        self.scale = 1.0 / math.sqrt(c_in)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


_BLUR_1D = torch.tensor([1.0, 2.0, 1.0])


class Blur(nn.Module):
    """Depthwise [1,2,1] x [1,2,1] low-pass filter with reflection padding (anti-aliasing)."""

    def __init__(self) -> None:
        super().__init__()
        k = torch.outer(_BLUR_1D, _BLUR_1D)
        self.register_buffer("kernel", (k / k.sum())[None, None], persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        c = x.shape[1]
        x = pad_keep_dtype(x, [1, 1, 1, 1], "reflect")
        return F.conv2d(x, self.kernel.to(x.dtype).expand(c, 1, 3, 3), groups=c)


def downsample2(x: Tensor) -> Tensor:
    """Blur-free 2x box downsampling (used on residual skips after a blur)."""
    return F.avg_pool2d(x, 2)


def upsample2(x: Tensor) -> Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


@dataclass(frozen=True)
class StyleBlend:
    """A style that differs inside and outside a mask: the spatial map m * inside + (1 - m) * outside.

    inside, outside: [N, D] (or, after a layer's affine, [N, C]); mask: [N, 1, H, W] in [0, 1] at any
    resolution. Every layer takes the blend on its own grid (`resize_style_map` area-averages the mask
    there), so the style follows the mask at the generator's finest resolution. The affines act on the
    two vectors, not on a full [N, D, H, W] map (exact: an affine map of a convex blend is the blend of
    the images), and a modulation is RMS-normalised per vector before blending."""

    inside: Tensor
    outside: Tensor
    mask: Tensor

    def __post_init__(self) -> None:
        assert self.inside.shape == self.outside.shape and self.inside.ndim == 2, \
            (self.inside.shape, self.outside.shape)
        assert self.mask.ndim == 4 and self.mask.shape[:2] == (self.inside.shape[0], 1), self.mask.shape

    @property
    def shape(self) -> torch.Size:
        return self.inside.shape

    def map(self, fn) -> StyleBlend:
        """The same blend of fn(inside) and fn(outside) (fn acts on each row of one vector alone)."""
        return StyleBlend(fn(self.inside), fn(self.outside), self.mask)

    def __mul__(self, k: float) -> StyleBlend:
        return self.map(lambda t: t * k)


def resize_style_map(style: Tensor | StyleBlend, size: tuple[int, int]) -> Tensor:
    """Bring a style given as [N, C], a spatial map [N, C, h, w] or a `StyleBlend` to [N, C, H, W]
    (or [N, C, 1, 1])."""
    if isinstance(style, StyleBlend):
        m = resize_mask(style.mask, size).to(style.inside.dtype)  # [N, 1, H, W]
        return torch.lerp(style.outside[:, :, None, None], style.inside[:, :, None, None], m)
    if style.ndim == 2:
        return style[:, :, None, None]
    if style.ndim != 4:
        raise ValueError(f"style must be [N, C] or [N, C, h, w], got {tuple(style.shape)}")
    if style.shape[-2:] == size or style.shape[-2:] == (1, 1):
        return style
    return F.interpolate(style, size=size, mode="bilinear", align_corners=False)


def rms_normalise(s: Tensor) -> Tensor:
    """A modulation divided by its RMS over channels (dim 1), per sample (and per pixel of a map)."""
    return s * torch.rsqrt(s.float().pow(2).mean(dim=1, keepdim=True) + 1e-8)


class StyleAffine(nn.Module):
    """A(S): the learned affine from the style code to per-channel modulation.

    Accepts a style vector [N, D] or a spatial style map [N, D, h, w] (applied per pixel)."""

    def __init__(self, style_dim: int, channels: int, bias_init: float = 1.0) -> None:
        super().__init__()
        self.lin = EqualLinear(style_dim, channels, bias_init=bias_init)

    def forward(self, s: Tensor | StyleBlend) -> Tensor | StyleBlend:
        if isinstance(s, StyleBlend):
            return s.map(self.lin)  # two [N, C]
        if s.ndim == 2:
            return self.lin(s)  # [N, C]
        w = (self.lin.weight * self.lin.scale)[:, :, None, None]
        return F.conv2d(s, w, self.lin.bias)  # [N, C, h, w]


class NoiseInjection(nn.Module):
    """Adds per-pixel Gaussian noise scaled by a learned scalar (starts at zero).

    `noise` may be passed explicitly; otherwise it is drawn from `generator` (a seeded
    torch.Generator gives the same image for the same inputs) or the global RNG."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor, generator: torch.Generator | None = None, gain: float = 1.0) -> Tensor:
        """x + gain * weight * noise (`gain` scales the noise as a caller's folded gain scales x)."""
        n, _, h, w = x.shape
        if generator is not None:
            noise = torch.randn((n, 1, h, w), generator=generator, device=generator.device, dtype=torch.float32)
            noise = noise.to(device=x.device, dtype=x.dtype)
        else:
            noise = torch.randn((n, 1, h, w), device=x.device, dtype=x.dtype)
        return x + (self.weight if gain == 1.0 else self.weight * gain) * noise


class ModulatedConv2d(nn.Module):
    """StyleGAN2 modulated conv with style-independent demodulation (METHOD section 1).

    out = conv(x * s / rms(s), w / ||w||): the input is multiplied by the RMS-normalised
    style, and the weights are normalised per output channel independently of the style.
    So one shared-weight conv serves the whole batch (no grouped per-sample conv) and the style
    may be a spatial map, resized to the layer's resolution (Eq. 5 feature compositing and
    region-wise styles use that).
    """

    def __init__(
        self, c_in: int, c_out: int, k: int, style_dim: int, demodulate: bool = True, upsample: bool = False
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(normal_weight(c_out, c_in, k, k))
        self.affine = StyleAffine(style_dim, c_in)
        self.demodulate, self.upsample, self.k = demodulate, upsample, k
        self.scale = 1.0 / math.sqrt(c_in * k * k)

    def forward(self, x: Tensor, style: Tensor, bias: Tensor | None = None, gain: float = 1.0) -> Tensor:
        # x: [N, Cin, H, W]; style: [N, D] or [N, D, h, w]; bias: [Cout] added by the conv itself;
        # gain multiplies the (demodulated) weights -> [N, Cout, H', W']
        if self.upsample:
            x = upsample2(x)
        s = self.affine(style)  # [N, Cin] or [N, Cin, h, w] (or a StyleBlend of two [N, Cin])
        s = s.map(rms_normalise) if isinstance(s, StyleBlend) else rms_normalise(s)
        # In x's dtype: under bf16 autocast x is the previous conv's bf16 output, and an fp32 style would
        # promote the full-resolution product (and the bias, noise and activation after it) to fp32,
        # doubling their memory traffic for a value the next conv rounds to bf16 anyway.
        x = x * resize_style_map(s, tuple(x.shape[-2:])).to(x.dtype)
        w = self.weight * self.scale
        if self.demodulate:
            w = w * torch.rsqrt(w.pow(2).sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        if gain != 1.0:
            w = w * gain
        return F.conv2d(x, w, bias, padding=self.k // 2)


class StyledConv(nn.Module):
    """Modulated conv -> noise -> bias -> leaky ReLU (times `gain`, for a residual block's scale).

    The bias is added by the conv (the sum commutes with the noise) and the activation's sqrt(2) gain
    is folded into the weights, bias and noise (the leaky ReLU is positively homogeneous), so the
    full-resolution output takes two elementwise passes (noise, activation) instead of four."""

    def __init__(self, c_in: int, c_out: int, style_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(c_in, c_out, 3, style_dim, upsample=upsample)
        self.noise = NoiseInjection()
        self.bias = nn.Parameter(torch.zeros(1, c_out, 1, 1))

    def forward(self, x: Tensor, style: Tensor, generator: torch.Generator | None = None,
                gain: float = 1.0) -> Tensor:
        g = LRELU_GAIN * gain
        y = self.conv(x, style, bias=self.bias.view(-1) * g, gain=g)
        return F.leaky_relu(self.noise(y, generator, gain=g), LRELU_SLOPE)


class ToRGB(nn.Module):
    """Modulated 1x1 conv to RGB, no demodulation."""

    def __init__(self, c_in: int, style_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(c_in, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        return self.conv(x, style) + self.bias


class DownResBlock(nn.Module):
    """Residual block that halves the resolution: conv3x3 -> blur -> conv3x3/2, skip = blur-pool + 1x1.

    Used by E and D (StyleGAN2 residual discriminator layout)."""

    def __init__(self, c_in: int, c_out: int, pad_mode: str = "reflect") -> None:
        super().__init__()
        self.conv1 = EqualConv2d(c_in, c_in, 3, padding=1, pad_mode=pad_mode)
        self.blur = Blur()
        self.conv2 = EqualConv2d(c_in, c_out, 3, stride=2, padding=1, pad_mode=pad_mode)
        self.skip = EqualConv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        # (lrelu(conv2(blur(y))) + skip) / sqrt(2), the 1/sqrt(2) folded into both convs
        y = conv_lrelu(self.conv1, x)
        y = conv_lrelu(self.conv2, self.blur(y), gain=RES_SCALE)
        return y + self.skip(downsample2(self.blur(x)), gain=RES_SCALE)
