"""TCPNet: the autoencoder E, H_c, H_s, G and the paper's operations on tensors.

- encode:        e = E(I), C = H_c(e), S = H_s(e)
- decode:        G(C, S)
- swap:          I_g = G(C_A, S_B)                         (global transfer)
- region_edit:   e_hat = M_e * E(I_g) + (1 - M_e) * E(I_A)  (Eq. 5)
                 I_h = G(H_c(e_hat), H_s(e_hat))           (Eq. 6; config edit_style "code")
                 I_h = G(H_c(e_hat), M * H_s(E(I_g)) + (1 - M) * S_A)  (edit_style "map": the
                 style blended by the mask on each layer's grid)
Images are [N, 3, H, W] in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from tcp_core.base.config import ModelConfig
from tcp_core.networks.compositing import composite_features
from tcp_core.networks.cooccur import CooccurDiscriminator
from tcp_core.networks.discriminator import Discriminator
from tcp_core.networks.encoder import ContentHead, Encoder, StyleHead
from tcp_core.networks.generator import Generator
from tcp_core.networks.layers import StyleBlend


@dataclass
class Codes:
    e: Tensor  # [N, C_e, h, w] encoder features
    content: Tensor  # [N, C_c, h, w] content code C
    style: Tensor  # [N, D] style code S


def blend_styles(s_own: Tensor, s_ref: Tensor, strength: float | Tensor) -> Tensor:
    """Style strength: linear blend between the image's own style code and the reference's
    (the code interpolation of paper Fig. 7); strength 0 keeps the own style, 1 takes the reference."""
    return (1 - strength) * s_own + strength * s_ref  # exact at 0 and 1


class TCPNet(nn.Module):
    """The parts needed at inference time (and exported): E, H_c, H_s, G."""

    def __init__(self, cfg: ModelConfig, pretrained: bool = True) -> None:
        """pretrained: fill the frozen ImageNet trunk (encoders "lite0", "conv+lite0") from the pinned package; False
        when a model file's own tensors are loaded next (they hold the trunk too: `checkpoint.load_net`)."""
        super().__init__()
        self.config = cfg
        if cfg.encoder == "lite0":
            from tcp_core.networks.trunk_encoder import TrunkEncoder

            self.E = TrunkEncoder(cfg, pretrained)
        elif cfg.encoder == "conv+lite0":
            from tcp_core.networks.trunk_encoder import HybridEncoder

            self.E = HybridEncoder(cfg, pretrained)
        else:
            self.E = Encoder(cfg)
        self.H_c = ContentHead(cfg)
        self.H_s = StyleHead(cfg)
        self.G = Generator(cfg)

    def encode(self, image: Tensor, style_mask: Tensor | None = None) -> Codes:
        """style_mask [N, 1, H, W] (optional): read the style code from that part of the image only."""
        e = self.E(image)
        return self.heads(e, style_mask)

    def heads(self, e: Tensor, style_mask: Tensor | None = None) -> Codes:
        return Codes(e=e, content=self.H_c(e), style=self.H_s(e, style_mask))

    def decode(self, content: Tensor, style: Tensor | StyleBlend, generator: torch.Generator | None = None) -> Tensor:
        return self.G(content, style, generator)

    def swap(self, content_codes: Codes, style: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Global transfer I_g = G(C_A, S_B)."""
        return self.decode(content_codes.content, style, generator)

    def region_edit(
        self, codes_a: Codes, e_g: Tensor, mask: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """Eq. 5-6 given E(I_A)'s codes and e_g = E(I_g); mask [N, 1, H, W] in [0, 1]."""
        e_hat = composite_features(e_g, codes_a.e, mask)
        if self.config.edit_style == "map":
            style = StyleBlend(inside=self.H_s(e_g), outside=codes_a.style, mask=mask)
            return self.decode(self.H_c(e_hat), style, generator)
        h = self.heads(e_hat)
        return self.decode(h.content, h.style, generator)

    def forward(self, image: Tensor) -> Tensor:
        """Reconstruction G(H_c(E(I)), H_s(E(I)))."""
        c = self.encode(image)
        return self.decode(c.content, c.style)


class Discriminators(nn.Module):
    """The training-only critics: D on whole images, D_co on crops.

    kind "stylegan2": D is the residual discriminator on pixels (SwapAE). kind "projected": D is a
    set of heads on frozen pretrained features (`tcp_core.networks.projected`); it takes the feature pyramid
    of an image, not the image."""

    def __init__(self, cfg: ModelConfig, kind: str = "stylegan2") -> None:
        super().__init__()
        if kind == "projected":
            from tcp_core.networks.projected import ProjectedDiscriminator

            self.D = ProjectedDiscriminator(cfg.resolution)
        else:
            self.D = Discriminator(cfg)
        self.kind = kind
        self.D_co = CooccurDiscriminator(cfg)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
