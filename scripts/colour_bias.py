"""How far a model's edits land from the style reference's colours (CIE Lab), on a pair set.

    python scripts/colour_bias.py MODEL [MODEL ...] [--pairs data/eval_regions/PAIRS.csv]

MODEL: `default` (the bundled model) or a model file. Per pair (photos at 256 px long side):
- gap closed: how much of the distance between the region's mean Lab colour and the reference's
  mean the region edit covers (projection on that line; 1 = it lands on the reference's mean);
- region chroma / reference chroma (mean sqrt(a^2 + b^2); above 1 = more saturated than the reference);
- L - ref L: the edited region's mean lightness minus the reference's;
- |Lab mean - ref|: distance of the edited region's mean colour to the reference's;
- the same chroma ratio and distance for the network's global swap of the whole photo, and the gap the
  global swap closes inside the region (the most a region edit can take from it: L_CA's target).
Medians over pairs (means where named). Network outputs, not the export."""
import argparse

import cv2
import numpy as np
import torch

from tcp_core.editing.inference import TCPModel
from tcp_core.eval.evaluate import load_pair, read_pairs


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def _stats(lab: np.ndarray, m: np.ndarray | None = None):
    x = lab.reshape(-1, 3) if m is None else lab[m > 0.5]
    return x.mean(0), np.hypot(x[:, 1], x[:, 2]).mean()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+")
    ap.add_argument("--pairs", default="data/eval_regions/PAIRS.csv")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows, _ = read_pairs(args.pairs)
    pairs = [load_pair(r, 256) for r in rows]  # decoded once for every model
    for spec in args.models:
        model = TCPModel.from_pretrained(None if spec == "default" else spec, device="cpu")
        res = []
        for p in pairs:
            c, s, m = p.content, p.style, p.mask
            out, swap = model.region_edit(c, s, m), model.swap(c, s)
            (mc, _), (ms, cs) = _stats(_lab(c), m), _stats(_lab(s))
            swap_lab = _lab(swap)
            (mo, co), (mw, cw) = _stats(_lab(out), m), _stats(swap_lab)
            mwr, _ = _stats(swap_lab, m)  # the global swap inside the region
            gap = max(float(np.linalg.norm(ms - mc)), 1e-6)
            res.append((np.dot(mo - mc, ms - mc) / gap ** 2, co / max(cs, 1e-3), mo[0] - ms[0],
                        np.linalg.norm(mo - ms), cw / max(cs, 1e-3), np.linalg.norm(mw - ms),
                        np.dot(mwr - mc, ms - mc) / gap ** 2))
        a = np.array(res)
        print(f"{spec}: gap closed {np.median(a[:, 0]):.2f} (mean {a[:, 0].mean():.2f}); region chroma/ref "
              f"{np.median(a[:, 1]):.2f}; L - refL {np.median(a[:, 2]):+.1f}; |Lab mean - ref| {a[:, 3].mean():.1f}; "
              f"global swap chroma/ref {np.median(a[:, 4]):.2f}, |mean-ref| {a[:, 5].mean():.1f}, gap closed inside "
              f"the region {np.median(a[:, 6]):.2f} (mean {a[:, 6].mean():.2f})")


if __name__ == "__main__":
    main()
