"""How well a model carries a colour grade through its style code, on photos it never trained on.

    python docs/training/s47/graded_eval.py MODEL.safetensors [MODEL2 ...]

For each held-out photo x (data/eval/photos: a centre square at the model's working size) and four
fixed random grades k (`tcp_core.training.recolour.grade`, seeded):
- same photo: PSNR of G(C_x, S(mirror(grade_k(x)))) against grade_k(x) (what --swap-graded trains, held out);
- another photo: the grade's change as the model carries it from a different held-out photo y,
  x + G(C_x, S(grade_k(y))) - G(C_x, S(y)), against grade_k(x): does the code hold the grade itself?
The 'identity' row is the ungraded photo against grade_k(x): no transfer at all."""
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tcp_core.networks.checkpoint import load_net
from tcp_core.training.recolour import grade

PHOTOS = sorted(Path("data/eval/photos").glob("*.jpg"))
GRADES = 4


def square(path, size):
    im = Image.open(path).convert("RGB")
    s = min(im.size)
    l, t = (im.width - s) // 2, (im.height - s) // 2
    im = im.crop((l, t, l + s, t + s)).resize((size, size), Image.LANCZOS)
    return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).float() / 127.5 - 1


def psnr(a, b):
    mse = float(((a.clamp(-1, 1) - b.clamp(-1, 1)) / 2).pow(2).mean())
    return 10 * np.log10(1 / max(mse, 1e-12))


@torch.no_grad()
def evaluate(path):
    torch.manual_seed(0)
    net = load_net(path)
    size = net.config.resolution
    x = torch.stack([square(p, size) for p in PHOTOS])
    n = len(x)
    same, cross, ident = [], [], []
    codes = net.encode(x)
    for k in range(GRADES):
        g = grade(x, torch.Generator().manual_seed(100 + k))
        # same photo, mirrored style input
        out = net.decode(codes.content, net.encode(g.flip(-1)).style)
        same += [psnr(out[i], g[i]) for i in range(n)]
        ident += [psnr(x[i], g[i]) for i in range(n)]
        # one grade for every photo, carried from the next photo y = x[i+1]
        gy = grade(x.roll(1, 0), torch.Generator().manual_seed(300 + k))  # grade_k of y = the previous photo
        gx = grade(x, torch.Generator().manual_seed(300 + k))  # the same draws, so the same grade per row
        s_y, s_gy = net.encode(x.roll(1, 0)).style, net.encode(gy).style
        delta = net.decode(codes.content, s_gy) - net.decode(codes.content, s_y)
        cross += [psnr(x[i] + delta[i], gx[i]) for i in range(n)]
    return np.mean(same), np.mean(cross), np.mean(ident)


if __name__ == "__main__":
    print(f"{len(PHOTOS)} held-out photos x {GRADES} grades; PSNR dB against the graded photo")
    print(f"{'model':60s} same-photo  from-another  (identity)")
    for p in sys.argv[1:]:
        s, c, i = evaluate(p)
        print(f"{p:60s} {s:9.2f}  {c:12.2f}  {i:9.2f}")
