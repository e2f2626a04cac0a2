"""How much of the edit the strength slider gives along its travel (a measurement, not a test).

For each held-out pair (PAIRS.csv from scripts/make_eval_pairs.py) the export path
(`tcp_core.editing.apply.apply_regions`, what the editor exports) runs at strengths 0.25, 0.5, 0.75 and 1;
the change is the mean absolute difference from the photo inside the mask. Prints the change at
each strength as a fraction of the change at 1, per pair and the median, and the exponent p of
change(w) ~ w^p fitted at w = 0.5 — the model's `strength_exponent` metadata (1/p) makes the
slider even (`tcp_core.inference.TCPModel.code_weight`).

    python scripts/strength_curve.py [--pairs data/eval/PAIRS.csv] [--weights W] [--raw] [--write]

--raw measures the code blend itself (the exponent metadata ignored), which is what calibration needs.
Calibrate on a tuning split of training photos and check on the held-out pairs (since stage 23):
    python scripts/make_eval_pairs.py --holdout data/demo/train --out data/tune --seed 1
    python scripts/strength_curve.py --raw --write --pairs data/tune/PAIRS.csv
    python scripts/strength_curve.py; python scripts/strength_curve.py --pairs data/eval_regions/PAIRS.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STRENGTHS = (0.25, 0.5, 0.75, 1.0)


def _read(path: Path, long_side: int, gray: bool = False) -> np.ndarray:
    im = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE if gray else cv2.IMREAD_COLOR)
    if im is None:
        raise SystemExit(f"cannot read {path}")
    s = long_side / max(im.shape[:2])
    if s < 1:
        im = cv2.resize(im, (round(im.shape[1] * s), round(im.shape[0] * s)), interpolation=cv2.INTER_AREA)
    return im if gray else np.ascontiguousarray(im[:, :, ::-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", default=str(ROOT / "data" / "eval" / "PAIRS.csv"))
    ap.add_argument("--weights", default=None)
    ap.add_argument("--long-side", type=int, default=512)
    ap.add_argument("--limit", type=int, default=12)
    ap.add_argument("--raw", action="store_true", help="ignore the model's strength_exponent")
    ap.add_argument("--json", default=None)
    ap.add_argument("--write", action="store_true", help="store the fitted strength_exponent in the weights file")
    ap.add_argument("--pre-transfer", type=float, default=None, help="the export's colour priming (default: its own)")
    args = ap.parse_args()

    from tcp_core.editing.apply import ExportConfig, apply_regions
    from tcp_core.editing.inference import TCPModel
    from tcp_core.editing.regions import RegionEdit

    model = TCPModel.from_pretrained(args.weights, device="cpu", precision="fp32")
    if args.raw:
        model.strength_exponent = 1.0
    print(f"model {model.source}, strength_exponent {model.strength_exponent}")
    base = Path(args.pairs).parent
    rows = list(csv.DictReader(open(args.pairs)))[: args.limit]
    fracs: dict[float, list[float]] = {s: [] for s in STRENGTHS}
    full: list[float] = []
    for row in rows:
        photo = _read(base / row["content"], args.long_side)
        style = _read(base / row["style"], args.long_side)
        mask = _read(base / row["mask"], args.long_side, gray=True)
        mask = cv2.resize(mask, (photo.shape[1], photo.shape[0]), interpolation=cv2.INTER_AREA) / 255.0
        inside = mask > 0.5
        changes = {}
        for s in STRENGTHS:
            export = ExportConfig() if args.pre_transfer is None else ExportConfig(priming=args.pre_transfer)
            out = apply_regions(model, photo, [RegionEdit(style, mask, s)], export)
            changes[s] = float(np.abs(out.astype(np.float32) - photo.astype(np.float32))[inside].mean())
        if changes[1.0] < 0.5:
            continue  # the edit barely changes this region: no curve to measure
        full.append(changes[1.0])
        for s in STRENGTHS:
            fracs[s].append(changes[s] / changes[1.0])
        print(f"{row['content'].split('/')[-1]:40s} change@1 {changes[1.0]:5.1f} gray levels; "
              + " ".join(f"{s}:{changes[s] / changes[1.0]:.2f}" for s in STRENGTHS))
    med = {s: statistics.median(v) for s, v in fracs.items() if v}
    print("median fraction of the full change: " + " ".join(f"{s}:{med[s]:.2f}" for s in med))
    # p per pair from change(0.5) = 0.5^p, over the edits that change the region visibly (>= 10 gray
    # levels at full strength: a slider over a 5-level change feels even whatever its curve)
    ps = [math.log(f) / math.log(0.5) for f, c in zip(fracs[0.5], full) if c >= 10 and 0 < f < 1]
    p = statistics.median(ps) if ps else float("nan")
    print(f"change ~ w^p at 0.5 over {len(ps)} visible edits: median p = {p:.2f}; an even slider needs code "
          f"weight = strength^(1/p) (strength_exponent = {1 / p:.3f}); at 0.5 these edits would then give "
          + " ".join(f"{0.5 ** (q / p):.2f}" for q in sorted(ps)))
    if args.json:
        Path(args.json).write_text(json.dumps({"median": med, "per_pair": fracs, "p": p}, indent=1))
    if args.write and math.isfinite(p):
        from tcp_core.networks.checkpoint import load_tensors, save_tensors

        path = Path(model.source)
        tensors, meta = load_tensors(path)
        meta["strength_exponent"] = f"{1 / p:.3f}"
        save_tensors(path, tensors, meta)
        print(f"wrote strength_exponent {meta['strength_exponent']} into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
