"""Primed swaps in training (`--swap-prime A`): the export's colour priming (`tcp_core.colour.priming`) seen by
the network while it learns.

At export the global swap that fills a region's inside is G(C(primed photo), S_ref), where the primed photo's
region was first moved part of the way towards the reference's colours by a Reinhard Lab transfer. The
network never saw such inputs in training: a Reinhard transfer can leave garish or blotchy colours (a near-grey
detail stretched to cyan) that the content code then carries into the swap. With `--swap-prime A`, phase G's
swap I_{A->B} = G(C_A', S_B) takes the content code of A' = A primed towards B within a random training mask
(L_CA's kind) by a random amount in [0, A] per pair, so the swap's critics (D, D_co) and style terms teach the
network to render primed photos as clean photos in B's style.

    A' = A + a m (reinhard(A -> B over m) - A),   a ~ U(0, A), m ~ training_masks(kind)

The priming itself is the export's own function on uint8 copies (no gradient flows through it); only its
change is added to the float photo, so a = 0 leaves A exactly as it is.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from tcp_core.colour.priming import prime_region, priming_options
from tcp_core.training.masks import training_masks

__all__ = ["primed_photos", "uint8_photos"]


def uint8_photos(x: Tensor) -> np.ndarray:
    """Training photos [N, 3, H, W] in [-1, 1] -> uint8 [N, H, W, 3] (for the numpy mask makers and the priming)."""
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def primed_photos(real: Tensor, refs: Tensor, kind: str, max_amount: float, rng: np.random.Generator,
                  profile: str = "rows") -> Tensor:
    """`real` ([N, 3, H, W] in [-1, 1]) with each photo's random region (`training_masks(kind)`) primed a random
    amount in [0, max_amount] towards its reference in `refs` (same shape) -> [N, 3, H, W], no gradient.
    `profile` ("rows" or "global") as the export's: each pair is primed with `priming_options` as the export primes
    a region ("rows" reads the reference's rows at the region's place), with the export's cap and defaults."""
    assert real.shape == refs.shape and real.ndim == 4 and real.shape[1] == 3, (real.shape, refs.shape)
    if not 0.0 <= max_amount <= 1.0:
        raise ValueError(f"the priming amount must be between 0 and 1, got {max_amount}")
    src, ref = uint8_photos(real), uint8_photos(refs)
    masks = training_masks(kind, src, rng)[:, 0]  # [N, H, W]
    amounts = rng.uniform(0.0, max_amount, size=len(src))
    delta = np.stack([prime_region(s, r, m, float(a), **priming_options(profile, m, None)).astype(np.float32) - s
                      for s, r, m, a in zip(src, ref, masks, amounts)])  # [N, H, W, 3], 0-255 units
    change = torch.from_numpy(delta).permute(0, 3, 1, 2).to(real.device, real.dtype) / 127.5
    return (real.detach() + change).clamp(-1, 1).contiguous(memory_format=torch.channels_last)
