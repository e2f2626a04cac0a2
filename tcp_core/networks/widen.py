"""Widen a trained model's content code C (more channels on the same grid) without changing what it
computes, so training can go on from it (weights/README.md, stage 18's lever).

Why: at `fine128` most of the held-out SSD and the background PSNR of a region edit is the
autoencoder's reconstruction error (`scripts/ssd_floor.py`): a wider content code is the direct
lever on reconstruction, and growing it from the trained model keeps everything learnt so far
instead of training from scratch.

Only the layers that touch C change (names as in `TCPNet.state_dict()`), in one of two ways:

`init="zero"`: the new channels start at 0 and must grow.
- H_c's last 1x1 conv gets zero rows for the new channels: they come out 0, so the per-pixel L2
  normalisation of C leaves the old channels exactly as they were.
- G's content modulation, x = C * A(S) + B(S): the new rows of B are zero (so x_new = 0 whatever
  the style); A's new rows are zero weights with bias 1, its initial value.
- G's first block, skip (1x1, equalised learning rate scale 1/sqrt(fan_in)): the old columns are
  multiplied by sqrt(C_new / C_old) to keep their effective weights; the new columns are small
  random weights (`eps` x the old columns' RMS). They meet x_new = 0, so the output is unchanged,
  but they carry gradients back to the new channels. Measured: too slow to matter in a stage (the
  new rows of H_c reached 0.3 % of the old rows' norm in 200 iterations).

`init="copy"`: the new channels start as copies of the old ones, live from the first step.
- H_c's new rows copy the old rows (channel j = old channel j mod C_old), so after the per-pixel
  L2 normalisation each of the k = C_new / C_old copies is the old code / sqrt(k).
- A(S)'s rows (old and new) are multiplied by sqrt(k) and copied, B(S)'s rows copied: every
  channel of x = C * A(S) + B(S) is exactly the old x of its source channel.
- the skip's old columns are multiplied by sqrt(C_new / C_old), its new columns are zero.
  The new columns of conv1 and of the skip meet non-zero inputs, so they get gradients at once.

Both: G's first block, conv1 (modulated, demodulated 3x3), gets zero weights from the new inputs
(its demodulation norm is unchanged), and its modulation affine copies of the old rows, so the
RMS over channels that normalises the modulation is unchanged.

The widened model's output equals the original's up to float rounding (tested).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import torch
from torch import Tensor

from tcp_core.base.config import ModelConfig
from tcp_core.base.errors import UsageError

# the tensors that carry the content channel count (TCPNet.state_dict() names)
HC_W, HC_B = "H_c.conv2.weight", "H_c.conv2.bias"
A_W, A_B = "G.content_scale.lin.weight", "G.content_scale.lin.bias"
B_W, B_B = "G.content_shift.lin.weight", "G.content_shift.lin.bias"
CONV1_W = "G.blocks.0.conv1.conv.weight"
MOD_W, MOD_B = "G.blocks.0.conv1.conv.affine.lin.weight", "G.blocks.0.conv1.conv.affine.lin.bias"
SKIP_W = "G.blocks.0.skip.weight"
WIDENED = (HC_W, HC_B, A_W, A_B, B_W, B_B, CONV1_W, MOD_W, MOD_B, SKIP_W)


def widened_config(cfg: ModelConfig, channels: int) -> ModelConfig:
    if cfg.encoder != "conv":
        raise UsageError(f"widening the content code needs the conv encoder, not {cfg.encoder!r}")
    old = cfg.content_channels
    if channels <= old or channels % old:
        raise UsageError(f"the new content channel count must be a multiple of the old one ({old}) "
                         f"and larger, got {channels}")
    return dataclasses.replace(cfg, content_channels=channels, name=f"{cfg.name}-c{channels}")


def widen_content(state: Mapping[str, Tensor], cfg: ModelConfig, channels: int, *, init: str = "copy",
                  eps: float = 0.01, seed: int = 0) -> tuple[dict[str, Tensor], ModelConfig]:
    """(the widened state dict, its config) from a TCPNet state dict of config `cfg`."""
    if init not in ("zero", "copy"):
        raise UsageError(f"init must be 'zero' or 'copy', got {init!r}")
    new_cfg = widened_config(cfg, channels)
    old = cfg.content_channels
    add, k = channels - old, channels // old
    missing = [n for n in WIDENED if n not in state]
    if missing:
        raise UsageError(f"not a TCPNet state: {missing[0]} is missing")
    if state[HC_W].shape[0] != old:
        raise UsageError(f"{HC_W} has {state[HC_W].shape[0]} rows, the config says {old} content channels")
    out = dict(state)

    def rows(t: Tensor, fill: float) -> Tensor:  # append `add` rows (dim 0) of `fill`
        return torch.cat([t, torch.full((add, *t.shape[1:]), fill, dtype=t.dtype)], 0)

    def copies(t: Tensor, gain: float = 1.0) -> Tensor:  # k copies of the rows (dim 0), times gain
        return (t.float().repeat(k, *([1] * (t.ndim - 1))) * gain).to(t.dtype)

    if init == "zero":
        out[HC_W], out[HC_B] = rows(state[HC_W], 0.0), rows(state[HC_B], 0.0)  # [C', c, 1, 1], [C']
        out[A_W], out[A_B] = rows(state[A_W], 0.0), rows(state[A_B], 1.0)  # A(S): [C', D], [C']
        out[B_W], out[B_B] = rows(state[B_W], 0.0), rows(state[B_B], 0.0)  # B(S): [C', D], [C']
    else:
        out[HC_W], out[HC_B] = copies(state[HC_W]), copies(state[HC_B])
        g = math.sqrt(k)  # each copy of the normalised code is 1/sqrt(k) of the old one
        out[A_W], out[A_B] = copies(state[A_W], g), copies(state[A_B], g)
        out[B_W], out[B_B] = copies(state[B_W]), copies(state[B_B])
    w = state[CONV1_W]  # [c_out, C, 3, 3]
    out[CONV1_W] = torch.cat([w, torch.zeros((w.shape[0], add, *w.shape[2:]), dtype=w.dtype)], 1)
    out[MOD_W], out[MOD_B] = copies(state[MOD_W]), copies(state[MOD_B])  # [C', D], [C']
    s = state[SKIP_W]  # [c_out, C, 1, 1]
    if init == "zero":
        rms = s.float().pow(2).mean().sqrt()
        new = torch.randn((s.shape[0], add, *s.shape[2:]), generator=torch.Generator().manual_seed(seed)) * (eps * rms)
    else:
        new = torch.zeros((s.shape[0], add, *s.shape[2:]))
    out[SKIP_W] = torch.cat([s.float() * math.sqrt(channels / old), new], 1).to(s.dtype)
    return out, new_cfg
