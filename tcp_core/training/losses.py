"""Losses as pure functions (paper Eq. 1-3, 7; SwapAE/StyleGAN2 adversarial terms)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def reconstruction_loss(rec: Tensor, target: Tensor) -> Tensor:
    """Eq. 1: L_rec = L1(G(C_A, S_A), I_A)."""
    return F.l1_loss(rec, target)


def g_nonsaturating(fake_logits: Tensor) -> Tensor:
    """Eq. 2 terms for G: E[-log D(fake)] = softplus(-logit)."""
    return F.softplus(-fake_logits).mean()


def d_logistic_real(real_logits: Tensor) -> Tensor:
    return F.softplus(-real_logits).mean()


def d_logistic_fake(fake_logits: Tensor) -> Tensor:
    return F.softplus(fake_logits).mean()


def r1_penalty(real_logits: Tensor, real_inputs: Tensor | tuple[Tensor, ...]) -> Tensor:
    """R1: E[||grad_x D(x)||^2] over real inputs (the caller multiplies by gamma/2 * interval)."""
    inputs = real_inputs if isinstance(real_inputs, tuple) else (real_inputs,)
    grads = torch.autograd.grad(real_logits.sum(), inputs, create_graph=True)
    return sum(g.pow(2).flatten(1).sum(1).mean() for g in grads)


def code_consistency_loss(c_g: Tensor, c_a: Tensor, s_g: Tensor, s_b: Tensor, lam: float) -> Tensor:
    """Eq. 3: L_CC = L1(C_g, C_A) + lambda * L1(S_g, S_B), with (C_g, S_g) the codes of I_g = G(C_A, S_B)."""
    assert c_g.shape == c_a.shape and s_g.shape == s_b.shape
    return F.l1_loss(c_g, c_a) + lam * F.l1_loss(s_g, s_b)


def content_alignment_loss(i_h: Tensor, i_g: Tensor, i_a: Tensor, mask: Tensor) -> Tensor:
    """Eq. 7: L_CA = L1(I_h * M, I_g * M) + L1(I_h * (1 - M), I_A * (1 - M))."""
    assert i_h.shape == i_g.shape == i_a.shape and mask.shape[-2:] == i_h.shape[-2:]
    return F.l1_loss(i_h * mask, i_g * mask) + F.l1_loss(i_h * (1 - mask), i_a * (1 - mask))


def _unit(f: Tensor) -> Tensor:
    return f * torch.rsqrt(f.float().pow(2).sum(dim=1, keepdim=True) + 1e-10).to(f.dtype)


def perceptual_loss(feats_x: list[Tensor], feats_y: list[Tensor]) -> Tensor:
    """Multi-scale feature reconstruction loss (Johnson et al. 2016; LPIPS without its calibration):
    mean over scales of the squared distance between channel-normalised feature vectors, averaged
    over positions. Each scale's term lies in [0, 4]; 0 iff the normalised features agree."""
    assert len(feats_x) == len(feats_y) and len(feats_x) > 0
    terms = [(_unit(a).float() - _unit(b).float()).pow(2).sum(1).mean() for a, b in zip(feats_x, feats_y)]
    return torch.stack(terms).mean()
