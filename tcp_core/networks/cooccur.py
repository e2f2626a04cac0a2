"""D_co: the co-occurrence patch discriminator (SwapAE; paper Eq. 2; METHOD section 1).

It judges whether crops of a hybrid image share the patch statistics of crops of the style
reference: features of the reference crops are averaged into one reference vector, and an MLP
scores each query crop against it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tcp_core.base.config import ModelConfig
from tcp_core.networks.layers import DownResBlock, EqualConv2d, EqualLinear, conv_lrelu, lrelu


def random_crops(
    images: Tensor, num: int, out_size: int, min_scale: float, max_scale: float,
    generator: torch.Generator | None = None, within: Tensor | None = None,
) -> Tensor:
    """`num` random crops per image, each side an independent fraction of the image in
    [min_scale, max_scale], random horizontal flip, resampled to out_size x out_size. With
    `within` (masks [N, 1, H, W], >0 = region), each crop is centred on a pixel drawn uniformly
    from its image's region (then moved inside the image if it would stick out), so the crops
    show the region.

    images: [N, 3, H, W] -> [N, num, 3, out_size, out_size] (differentiable w.r.t. images)."""
    n = images.shape[0]
    dev = images.device
    gen_dev = generator.device if generator is not None else dev

    def rand(*shape: int) -> Tensor:
        return torch.rand(shape, generator=generator, device=gen_dev).to(dev)

    sx = min_scale + (max_scale - min_scale) * rand(n, num)  # half-width in normalised coords
    sy = min_scale + (max_scale - min_scale) * rand(n, num)
    if within is None:
        cx = (rand(n, num) * 2 - 1) * (1 - sx)
        cy = (rand(n, num) * 2 - 1) * (1 - sy)
    else:
        cx, cy = _centres_in(within, num, generator, gen_dev)
        cx = torch.maximum(torch.minimum(cx, 1 - sx), sx - 1)
        cy = torch.maximum(torch.minimum(cy, 1 - sy), sy - 1)
    flip = torch.where(rand(n, num) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, num, 2, 3, device=dev)
    theta[..., 0, 0] = sx * flip
    theta[..., 0, 2] = cx
    theta[..., 1, 1] = sy
    theta[..., 1, 2] = cy
    theta = theta.to(images.dtype).reshape(n * num, 2, 3)
    grid = F.affine_grid(theta, [n * num, 3, out_size, out_size], align_corners=False)
    src = images.unsqueeze(1).expand(n, num, *images.shape[1:]).reshape(n * num, *images.shape[1:])
    crops = F.grid_sample(src, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    return crops.reshape(n, num, 3, out_size, out_size)


def _centres_in(masks: Tensor, num: int, generator: torch.Generator | None, gen_dev) -> tuple[Tensor, Tensor]:
    """`num` pixel centres per mask [N, 1, H, W] drawn uniformly from its region (>0; the whole
    image where the region is empty) -> (cx, cy), each [N, num] in normalised coords [-1, 1]."""
    n, _, h, w = masks.shape
    weights = (masks.detach().reshape(n, h * w) > 0).float()
    weights[weights.sum(dim=1) == 0] = 1.0
    idx = torch.multinomial(weights.to(gen_dev), num, replacement=True, generator=generator).to(masks.device)
    cx = ((idx % w).float() + 0.5) / w * 2 - 1
    cy = ((idx // w).float() + 0.5) / h * 2 - 1
    return cx, cy


class CooccurDiscriminator(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        ch = cfg.dco_channels
        self.from_rgb = EqualConv2d(3, ch[0], 1)
        self.blocks = nn.ModuleList(DownResBlock(a, b, pad_mode="zeros") for a, b in zip(ch[:-1], ch[1:]))
        side = cfg.dco_crop_size >> (len(ch) - 1)
        feat = ch[-1] * 2
        self.to_feature = EqualLinear(ch[-1] * side * side, feat)
        self.mlp = nn.ModuleList([EqualLinear(2 * feat, feat), EqualLinear(feat, feat // 2)])
        self.out = EqualLinear(feat // 2, 1)
        self.crop_size = cfg.dco_crop_size

    def features(self, crops: Tensor) -> Tensor:
        # crops: [M, 3, s, s] -> [M, F]
        x = conv_lrelu(self.from_rgb, crops)
        for block in self.blocks:
            x = block(x)
        return lrelu(self.to_feature(x.flatten(1)))

    def forward(self, query: Tensor, reference: Tensor) -> Tensor:
        # query: [N, Q, 3, s, s]; reference: [N, R, 3, s, s] -> logits [N, Q]
        n, q = query.shape[:2]
        r = reference.shape[1]
        assert query.shape[-1] == self.crop_size and reference.shape[0] == n, (query.shape, reference.shape)
        fq = self.features(query.flatten(0, 1)).reshape(n, q, -1)
        fr = self.features(reference.flatten(0, 1)).reshape(n, r, -1).mean(dim=1, keepdim=True)
        x = torch.cat([fr.expand(n, q, fr.shape[-1]), fq], dim=-1)
        for layer in self.mlp:
            x = lrelu(layer(x))
        return self.out(x).squeeze(-1)
