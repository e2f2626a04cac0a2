"""Does a neutral (grey) reference bring a colour cast? On photos no model trained on.

    python docs/training/s48/neutral_eval.py MODEL.safetensors [MODEL2 ...]

For each ordered pair of held-out photos (x, y) (data/eval/photos, centre squares at the model's working
size; 7 x 6 pairs), the reference is y with its chroma scaled by f (f = 0: a black-and-white photo; f = 0.25:
a foggy, nearly grey one) and the network's whole-image swap G(C_x, S(reference)) is measured in Y/Cb/Cr on the
8-bit scale:
- cast: the length of the swap's mean (Cb, Cr) minus the reference's (a neutral reference asks for none),
  split into "kept" (along the content photo's own mean colour: some of the photo's colour left, as a
  partial transfer leaves it) and "invented" (the rest: against it, the complement, an overshoot, or across
  it, a colour neither photo has);
- chroma: the swap's mean chroma sqrt(Cb^2 + Cr^2), next to the reference's (what the look asks for).
Stage 47's gr1 left a teal / olive cast under grey references (its blind panels); this puts a number on it."""
import sys
from pathlib import Path

import numpy as np
import torch

from tcp_core.networks.checkpoint import load_net
from tcp_core.training.losses import rgb_to_ycbcr, ycbcr_to_rgb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "s47"))
from graded_eval import PHOTOS, square  # noqa: E402

FACTORS = (0.0, 0.25)
SCALE = 127.5  # Cb / Cr in [-1, 1] -> 8-bit steps


def desaturate(x, f):
    ycc = rgb_to_ycbcr(x)
    return ycbcr_to_rgb(torch.stack([ycc[:, 0], ycc[:, 1] * f, ycc[:, 2] * f], 1)).clamp(-1, 1)


def cast_and_chroma(img):
    ycc = rgb_to_ycbcr(img.clamp(-1, 1))
    mean = ycc[:, 1:].mean((2, 3)) * SCALE  # [N, 2]
    chroma = (ycc[:, 1:].pow(2).sum(1).sqrt().mean((1, 2))) * SCALE
    return mean, chroma


def split_cast(d, toward):
    """d: [N, 2] a mean (Cb, Cr) cast; toward: [N, 2] the photo's own mean colour relative to the reference's
    -> (cast, kept, invented), each [N]: the length of d, its part along `toward` (>= 0) and the rest."""
    u = toward / toward.norm(dim=1, keepdim=True).clamp_min(1e-6)
    kept = (d * u).sum(1).clamp_min(0)
    return d.norm(dim=1), kept, (d - kept[:, None] * u).norm(dim=1)


@torch.no_grad()
def evaluate(path):
    torch.manual_seed(0)
    net = load_net(path)
    x = torch.stack([square(p, net.config.resolution) for p in PHOTOS])
    n = len(x)
    content = net.encode(x).content
    m_x, _ = cast_and_chroma(x)
    rows = []
    for f in FACTORS:
        casts, kept, invented, chromas, ref_chromas = [], [], [], [], []
        for shift in range(1, n):
            ref = desaturate(x.roll(shift, 0), f)
            out = net.decode(content, net.encode(ref).style)
            m_out, c_out = cast_and_chroma(out)
            m_ref, c_ref = cast_and_chroma(ref)
            c, k, i = split_cast(m_out - m_ref, m_x - m_ref)
            casts += c.tolist()
            kept += k.tolist()
            invented += i.tolist()
            chromas += c_out.tolist()
            ref_chromas += c_ref.tolist()
        rows.append((f, np.mean(casts), np.mean(kept), np.mean(invented), np.max(invented), np.mean(chromas),
                     np.mean(ref_chromas)))
    return rows


if __name__ == "__main__":
    print(f"{len(PHOTOS)} held-out photos, {len(PHOTOS) * (len(PHOTOS) - 1)} ordered pairs; 8-bit Cb/Cr units")
    print(f"{'model':50s} {'f':>5s} {'cast':>6s} {'kept':>6s} {'invented':>8s} {'inv max':>7s} {'chroma':>7s} "
          f"{'ref chroma':>10s}")
    for p in sys.argv[1:]:
        for f, cm, kp, iv, ix, ch, rc in evaluate(p):
            print(f"{p[-50:]:50s} {f:5.2f} {cm:6.2f} {kp:6.2f} {iv:8.2f} {ix:7.2f} {ch:7.2f} {rc:10.2f}")
