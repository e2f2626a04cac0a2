#!/usr/bin/env python3
"""Where in the photo a network's SSD comes from: inside the region, on its border, or outside it.

SSD (STROTSS self-similarity distance, `tcp_core.eval.metrics.features.ssd`) is a mean over the
sampled locations j of the column sums c_j = sum_i |D_x[i, j] - D_y[i, j]| divided by K, so it splits
exactly into the share of the locations inside the mask (eroded by `--band` px), on the border band
(within `--band` px of the mask's edge) and outside it (the mask dilated by `--band` px, inverted).
For each held-out pair it scores the network's region edit (paper Eq. 5-6, as `tcp-editor eval`'s
`tcp` method, the same locations and seed) with the pair's style reference and with the content
photo as its own reference (no style change), and prints the three shares of each, so the
structure change the style edit adds can be put where it happens (weights/README.md, stage 21).

    python scripts/ssd_parts.py weights/tcp-demo128.safetensors weights/swapae-demo128.safetensors \
        [--pairs data/eval_regions/PAIRS.csv] [--band 6]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcp_core.editing.inference import TCPModel  # noqa: E402
from tcp_core.eval import evaluate as ev  # noqa: E402
from tcp_core.eval.metrics import backbones as _bb  # noqa: E402
from tcp_core.eval.metrics import features as _feat  # noqa: E402

PARTS = ("inside", "border", "outside")


def location_parts(mask: np.ndarray, idx: np.ndarray, band: int) -> np.ndarray:
    """0 inside the mask eroded by `band` px, 1 within `band` px of its edge, 2 outside. [K] int."""
    hard = (mask >= 0.5).astype(np.uint8)
    k = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    inner = cv2.erode(hard, k)[idx[:, 0], idx[:, 1]] > 0
    outer = cv2.dilate(hard, k)[idx[:, 0], idx[:, 1]] > 0
    return np.where(inner, 0, np.where(outer, 1, 2))


def ssd_shares(dx: np.ndarray, dy: np.ndarray, part: np.ndarray) -> np.ndarray:
    """[3] contributions of the inside / border / outside locations; they sum to the SSD."""
    col = np.abs(dx - dy).sum(axis=0)  # c_j, one per location
    k = dx.shape[0]
    return np.array([col[part == g].sum() / k for g in range(3)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help="model files (safetensors)")
    ap.add_argument("--pairs", default="data/eval_regions/PAIRS.csv")
    ap.add_argument("--size", type=int, default=256, help="evaluation size, as tcp-editor eval (256)")
    ap.add_argument("--band", type=int, default=6, help="half-width of the border band in px (default 6)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    rows, skipped = ev.read_pairs(a.pairs)
    bb = _bb.load_backbone("mobilenet_v2", device="cpu")
    models = {m: TCPModel.from_pretrained(m, device="cpu") for m in a.models}
    acc = {(m, kind): [] for m in models for kind in ("style", "own")}
    frac = []
    for row in rows:
        p = ev.load_pair(row, a.size)
        h, w = p.content.shape[:2]
        idx = _feat.sample_locations(h, w, 1024, row.line)  # the eval's locations: seed 0 + line
        part = location_parts(p.mask, idx, a.band)
        frac.append([np.mean(part == g) for g in range(3)])
        d_content = _feat.self_similarity(bb.hypercolumn(p.content, idx)[0])
        for name, m in models.items():
            for kind, ref in (("style", p.style), ("own", p.content)):
                out = m.region_edit(p.content, ref, p.mask, strength=1.0)
                d_out = _feat.self_similarity(bb.hypercolumn(out, idx)[0])
                acc[(name, kind)].append(ssd_shares(d_out, d_content, part))
    f = np.mean(frac, axis=0)
    print(f"{len(rows)} pairs of {a.pairs} at {a.size} px ({len(skipped)} skipped); border band +-{a.band} px; "
          f"locations inside / border / outside: {f[0]:.0%} / {f[1]:.0%} / {f[2]:.0%}")
    for name in models:
        s = np.mean(acc[(name, "style")], axis=0)
        o = np.mean(acc[(name, "own")], axis=0)
        parts = ", ".join(f"{n} {o[g]:.4f} + {s[g] - o[g]:.4f}" for g, n in enumerate(PARTS))
        print(f"{name}: SSD {s.sum():.4f} = no-change floor + what the edit adds, by location: {parts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
