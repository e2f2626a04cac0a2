#!/usr/bin/env python3
"""How well Select similar selects a region an artist means, from one click: IoU with the artist masks.

    python scripts/similar_eval.py data/tune_artist [data/eval_artist] [--weights W] [--size 1024]
                                   [--tolerances 10,20,30,40,50,60] [--out FILE.json]

For every distinct region of a pair set (its content photo and mask, e.g. `scripts/make_artist_pairs.py`'s sky,
meadow, petals), the photo is shown at `--size` px (long side, as the editor's preview), and three clicks are made
inside the region: at its most interior point and at two seeded random points at least 4 % of the short side from
its border (the photo's edge counts as one). Each click's map is thresholded as the editor does at each tolerance
(`mask_ops.similar_threshold`, `threshold_similarity`), and the selection (> 0.5) is compared with the mask (> 0.5):
IoU, precision (how much of the selection is the region) and recall (how much of the region is selected).
`--method region` (the editor's Select similar, `TCPModel.similar_region`: trunk features and a GrabCut, the click
made at each tolerance) or `codes` (its map until session 40, `TCPModel.content_similarity`: the content codes'
cosine, one map re-thresholded). Prints the means per tolerance (the default marked) and per region at the default;
`--out` writes them as JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcp_editor.mask_ops import SIMILAR_TOLERANCE_DEFAULT, similar_threshold, threshold_similarity  # noqa: E402


def regions(pairs_dir: Path) -> list[tuple[str, Path, Path]]:
    seen, out = set(), []
    for r in csv.DictReader(open(pairs_dir / "PAIRS.csv")):
        key = (r["content"], r["mask"])
        if key not in seen:
            seen.add(key)
            out.append((r.get("region", Path(r["mask"]).stem), pairs_dir / r["content"], pairs_dir / r["mask"]))
    return out


def load(photo: Path, mask: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    im = Image.open(photo).convert("RGB")
    s = size / max(im.size)
    im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
    m = Image.open(mask).convert("L").resize(im.size, Image.BILINEAR)
    return np.asarray(im), np.asarray(m, np.float32) / 255.0 > 0.5


def clicks(mask: np.ndarray, seed: int, where: str = "interior") -> list[tuple[int, int]]:
    """Three clicks inside `mask`. "interior": its most interior point and two seeded random points at least 4 % of
    the short side from its border; the photo's edge counts as a border (a user clicks in a sky, not on the photo's
    top row). "edge": three seeded random points 1-2.5 % of the short side inside its border with another part of
    the photo (a click near a ridge or a cloud's edge; the photo's edge is no border here)."""
    if where == "edge":
        d = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
        lo, hi = 0.01 * min(mask.shape), 0.025 * min(mask.shape)
        ys, xs = np.nonzero((d >= max(2.0, lo)) & (d <= hi))
        rng = np.random.default_rng(seed)
        return [(int(xs[i]), int(ys[i])) for i in (rng.choice(len(ys), size=min(3, len(ys)), replace=False)
                                                   if len(ys) else [])]
    d = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(d)), d.shape)
    pts = [(int(x), int(y))]
    ys, xs = np.nonzero(d >= max(2.0, 0.04 * min(mask.shape)))
    rng = np.random.default_rng(seed)
    for i in rng.choice(len(ys), size=min(2, len(ys)), replace=False) if len(ys) else []:
        pts.append((int(xs[i]), int(ys[i])))
    return pts


def scores(sel: np.ndarray, mask: np.ndarray) -> tuple[float, float, float]:
    inter = float((sel & mask).sum())
    union = float((sel | mask).sum())
    return inter / max(union, 1.0), inter / max(float(sel.sum()), 1.0), inter / max(float(mask.sum()), 1.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", type=Path)
    ap.add_argument("--weights", default="default")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--tolerances", default="10,20,30,40,50,60,70")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", choices=("region", "codes"), default="region")
    ap.add_argument("--clicks", choices=("interior", "edge"), default="interior",
                    help="where the clicks go: well inside each region, or near its border with the rest of the photo")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    import torch

    from tcp_core.editing.inference import load_model

    torch.set_num_threads(1)
    model = load_model(a.weights, device="cpu", precision="fp32")
    tols = sorted({int(t) for t in a.tolerances.split(",")} | {SIMILAR_TOLERANCE_DEFAULT})
    report = {"weights": a.weights, "size": a.size, "method": a.method, "clicks": a.clicks,
              "default_tolerance": SIMILAR_TOLERANCE_DEFAULT, "sets": {}}
    for pairs in a.sets:
        per_tol = {t: [] for t in tols}
        per_region, ms = [], []
        for k, (name, photo, mask_path) in enumerate(regions(pairs)):
            img, mask = load(photo, mask_path, a.size)
            rows = {t: [] for t in tols}
            for x, y in clicks(mask, a.seed + k, a.clicks):
                t0 = time.perf_counter()
                codes = np.asarray(model.content_similarity(img, x, y), np.float32) if a.method == "codes" else None
                if codes is not None:
                    ms.append(1000 * (time.perf_counter() - t0))
                for t in tols:
                    t0 = time.perf_counter()
                    sim = codes if codes is not None else np.asarray(model.similar_region(img, x, y, t / 100))
                    if codes is None:
                        ms.append(1000 * (time.perf_counter() - t0))
                    rows[t].append(scores(threshold_similarity(sim, similar_threshold(t)) > 0.5, mask))
            for t in tols:
                per_tol[t] += rows[t]
            iou, prec, rec = np.mean(rows[SIMILAR_TOLERANCE_DEFAULT], 0)
            per_region.append({"region": name, "photo": photo.name, "iou": iou, "precision": prec, "recall": rec})
        summary = {t: dict(zip(("iou", "precision", "recall"), map(float, np.mean(v, 0)))) for t, v in per_tol.items()}
        report["sets"][str(pairs)] = {"per_tolerance": summary, "per_region": per_region,
                                      "ms_median": float(np.median(ms))}
        print(f"{pairs}: {len(per_region)} regions x 3 {a.clicks} clicks, similarity {np.median(ms):.0f} ms (median)")
        for t, v in summary.items():
            mark = " (default)" if t == SIMILAR_TOLERANCE_DEFAULT else ""
            print(f"  tolerance {t:3d} %: IoU {v['iou']:.3f}  precision {v['precision']:.3f}  "
                  f"recall {v['recall']:.3f}{mark}")
        for r in per_region:
            print(f"    {r['region']:14s} {r['photo'][:34]:34s} IoU {r['iou']:.2f}  precision {r['precision']:.2f}  "
                  f"recall {r['recall']:.2f}")
    if a.out:
        a.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
