#!/usr/bin/env python3
"""How much of a network's SSD and bgPSNR comes from the style change, and how much from
reconstruction alone (weights/README.md, stage 17).

For each held-out pair it scores the network's region edit (paper Eq. 5-6, as `tcp-editor eval`'s
`tcp` method) twice: with the pair's style reference, and with the content photo as its own style
reference (no style change: what is left is the autoencoder's reconstruction error). The
difference is the structure change the style edit itself adds.

    python scripts/ssd_floor.py weights/tcp-demo128.safetensors weights/swapae-demo128.safetensors \
        [--pairs data/eval_regions/PAIRS.csv] [--size 256]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcp_core.editing.inference import TCPModel  # noqa: E402
from tcp_core.eval import evaluate as ev  # noqa: E402
from tcp_core.eval.metrics import backbones as _bb  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", help="model files (safetensors)")
    ap.add_argument("--pairs", default="data/eval_regions/PAIRS.csv")
    ap.add_argument("--size", type=int, default=256, help="evaluation size, as tcp-editor eval (256)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    rows, skipped = ev.read_pairs(a.pairs)
    bb = _bb.load_backbone("mobilenet_v2", device="cpu")
    models = {m: TCPModel.from_pretrained(m, device="cpu") for m in a.models}
    acc: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for row in rows:
        p = ev.load_pair(row, a.size)
        res = {}
        for i, m in enumerate(models.values()):
            res[f"{i}:style"] = m.region_edit(p.content, p.style, p.mask, strength=1.0)
            res[f"{i}:own"] = m.region_edit(p.content, p.content, p.mask, strength=1.0)
        scores, _, _ = ev.score_pair(p, res, bb, 1024, row.line)  # the eval's seed: 0 + line
        for k, v in scores.items():
            acc.setdefault(tuple(k.split(":")), []).append((v["ssd"], v["bg_psnr"]))
    print(f"{len(rows)} pairs of {a.pairs} at {a.size} px ({len(skipped)} skipped)")
    for i, name in enumerate(models):
        s = np.array(acc[(str(i), "style")]).mean(0)
        o = np.array(acc[(str(i), "own")]).mean(0)
        print(f"{name}: SSD {s[0]:.4f} with the reference, {o[0]:.4f} with its own style "
              f"(the edit adds {s[0] - o[0]:.4f}); bgPSNR {s[1]:.2f} / {o[1]:.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
