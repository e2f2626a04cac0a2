#!/usr/bin/env python3
"""Where a method's seam score comes from: new edges on flat parts of the border, or edges it already had.

`tcp-editor eval`'s Seam is the extra gradient magnitude on a 3 px band along the mask's border
(`tcp_core.eval.metrics.image.seam`). Where the mask follows an edge of the photo (a skyline, a shore),
an edit that recolours the region also changes that edge's contrast, and Seam counts it like a seam.
This splits the band into its flat part (photo gradient below 4 gray levels per pixel: Seam(flat),
`seam_flat`) and its edge part, and sets the border against the region's inside, for each method:

- `seam`, `seam_flat`, `seam_edge`: the pair means (each clipped at 0 per pair, as the report does);
- `flat share`: the share of the band that is flat;
- `grad x border` / `grad x inside`: the method's gradient magnitude over the photo's on the inner half of
  the band and deep inside the region (eroded 8 px); a border whose edges gain more than the region's own
  edges would be a seam of its own;
- `flat change ring in` / `ring out`: the mean gradient change on flat pixels 4-10 px inside / outside the
  border (texture a method adds to flat parts away from the border, which `seam_flat` also sees).

    python scripts/seam_parts.py [--pairs data/eval_artist/PAIRS.csv] [--weights default] [--methods tcp_final,pixel] \
        [--precision fp32]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcp_core.editing.inference import load_model  # noqa: E402
from tcp_core.eval import evaluate as ev  # noqa: E402
from tcp_core.eval.metrics.image import (  # noqa: E402
    FLAT_GRADIENT,
    binarize_mask,
    border_band,
    dilate,
    erode,
    gradient_magnitude,
    seams,
)

COLUMNS = ("seam", "seam_flat", "seam_edge", "flat share", "grad x border", "grad x inside",
           "flat change ring in", "flat change ring out")


def parts(result: np.ndarray, content: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """One pair's numbers (NaN where a part is empty)."""
    shape = content.shape[:2]
    m = binarize_mask(mask, shape)
    band = border_band(mask, shape, 3)
    gc, gr = gradient_magnitude(content), gradient_magnitude(result)
    flat = gc < FLAT_GRADIENT
    edge = band & ~flat
    inner, deep = band & m, erode(m, 8)
    ring_in, ring_out = erode(m, 4) & ~erode(m, 10), dilate(m, 10) & ~dilate(m, 4)

    def mean(a, where):
        return float(a[where].mean()) if where.any() else float("nan")

    whole, flat_only = seams(result, content, mask)
    return {
        "seam": whole,
        "seam_flat": flat_only,
        "seam_edge": max(0.0, mean(gr - gc, edge)) if edge.any() else float("nan"),
        "flat share": float((band & flat).sum() / max(1, band.sum())),
        "grad x border": mean(gr, inner) / max(1e-6, mean(gc, inner)) if inner.any() else float("nan"),
        "grad x inside": mean(gr, deep) / max(1e-6, mean(gc, deep)) if deep.any() else float("nan"),
        "flat change ring in": mean(gr - gc, ring_in & flat),
        "flat change ring out": mean(gr - gc, ring_out & flat),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", default="data/eval_artist/PAIRS.csv")
    ap.add_argument("--weights", default="default")
    ap.add_argument("--methods", default="tcp_final,pixel", help="any of tcp-editor eval's methods")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    args = ap.parse_args(argv)
    model = load_model(args.weights, device="cpu", precision=args.precision)
    fns, _ = ev.build_methods(model, None, args.methods.split(","))
    rows, _ = ev.read_pairs(args.pairs)
    acc: dict[str, list[dict]] = {n: [] for n in fns}
    for row in rows:
        p = ev.load_pair(row, args.size)
        for n, fn in fns.items():
            acc[n].append(parts(np.asarray(fn(p)), p.content, p.mask))
    print(f"{len(rows)} pairs of {args.pairs}, model {args.weights}, precision {args.precision}")
    print("| method | " + " | ".join(COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    for n, recs in acc.items():
        vals = [np.nanmean([r[c] for r in recs]) for c in COLUMNS]
        print(f"| {n} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
