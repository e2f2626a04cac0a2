"""DiffAugment (Zhao et al. 2020): differentiable augmentations applied to every discriminator input.

With a few dozen photos a discriminator memorises the real set; augmenting reals and fakes alike,
with operations the generator can backpropagate through, keeps its signal useful. Each sample gets
its own random draw. Policies (comma-separated): `color` (brightness, saturation, contrast),
`translation` (shift by up to 1/8 of the side, zero fill), `cutout` (a zeroed square of half the side).

Images are [N, C, H, W] in [-1, 1]; `generator` makes the draws reproducible.
"""

from __future__ import annotations

import torch
from torch import Tensor

POLICIES = ("color", "translation", "cutout")


def _rand(n: int, x: Tensor, generator: torch.Generator | None) -> Tensor:
    gen_dev = generator.device if generator is not None else x.device
    return torch.rand(n, 1, 1, 1, generator=generator, device=gen_dev).to(device=x.device, dtype=x.dtype)


def color(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    n = x.shape[0]
    x = x + (_rand(n, x, generator) - 0.5)  # brightness (in [-1, 1] units: +-0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, x, generator) * 2) + mean  # saturation x[0, 2]
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(n, x, generator) + 0.5) + mean  # contrast x[0.5, 1.5]


def translation(x: Tensor, ratio: float = 0.125, generator: torch.Generator | None = None) -> Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    gen_dev = generator.device if generator is not None else x.device
    tx = torch.randint(-sh, sh + 1, (n,), generator=generator, device=gen_dev).to(x.device)
    ty = torch.randint(-sw, sw + 1, (n,), generator=generator, device=gen_dev).to(x.device)
    # shift by integer pixels with zero fill: sample with a shifted index grid
    gy = torch.arange(h, device=x.device)[None, :] - tx[:, None]  # [N, H]
    gx = torch.arange(w, device=x.device)[None, :] - ty[:, None]  # [N, W]
    valid = ((gy >= 0) & (gy < h))[:, :, None] & ((gx >= 0) & (gx < w))[:, None, :]  # [N, H, W]
    gy, gx = gy.clamp(0, h - 1), gx.clamp(0, w - 1)
    idx = (gy[:, :, None] * w + gx[:, None, :]).reshape(n, 1, h * w).expand(-1, x.shape[1], -1)
    out = x.reshape(n, x.shape[1], h * w).gather(2, idx).reshape_as(x)
    return out * valid[:, None].to(x.dtype)


def cutout(x: Tensor, ratio: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    gen_dev = generator.device if generator is not None else x.device
    oy = torch.randint(0, h + (1 - ch % 2), (n,), generator=generator, device=gen_dev).to(x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (n,), generator=generator, device=gen_dev).to(x.device)
    ys = torch.arange(h, device=x.device)[None, :]
    xs = torch.arange(w, device=x.device)[None, :]
    in_y = (ys >= (oy[:, None] - ch // 2)) & (ys < (oy[:, None] - ch // 2 + ch))
    in_x = (xs >= (ox[:, None] - cw // 2)) & (xs < (ox[:, None] - cw // 2 + cw))
    keep = ~(in_y[:, :, None] & in_x[:, None, :])  # [N, H, W]
    return x * keep[:, None].to(x.dtype)


def parse_policy(policy: str) -> tuple[str, ...]:
    names = tuple(p.strip() for p in policy.split(",") if p.strip())
    bad = [p for p in names if p not in POLICIES]
    if bad:
        raise ValueError(f"unknown DiffAugment policy {bad}; choose from {', '.join(POLICIES)}")
    return names


def diff_augment(x: Tensor, policy: str | tuple[str, ...], generator: torch.Generator | None = None) -> Tensor:
    """Apply the policy's augmentations in order (a no-op for an empty policy)."""
    names = parse_policy(policy) if isinstance(policy, str) else policy
    for name in names:
        if name == "color":
            x = color(x, generator)
        elif name == "translation":
            x = translation(x, generator=generator)
        elif name == "cutout":
            x = cutout(x, generator=generator)
    return x


def augment_crops(crops: Tensor, policy: str | tuple[str, ...], generator: torch.Generator | None = None) -> Tensor:
    """D_co's crops [N, K, 3, s, s]: each crop augmented on its own."""
    n, k = crops.shape[:2]
    return diff_augment(crops.flatten(0, 1), policy, generator).reshape_as(crops)
