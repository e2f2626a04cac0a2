#!/usr/bin/env python3
"""A sheet of automatic style parts (`apply --style-mask auto`): for each pair of a PAIRS.csv, the
content photo with its region tinted magenta, next to the style reference with the matched part
bright and outlined in green (the rest dimmed).

    python scripts/show_style_match.py data/tune_regions/PAIRS.csv sheet.png [--weights W] [--n 30] \
        [size=224 tau=0.05 mass=0.6 min_area=0.15 feather=0.04]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
from pathlib import Path

import cv2
import numpy as np

from tcp_core.editing.inference import load_model
from tcp_core.editing.matching import DEFAULT_MATCH, MatchConfig

TILE = (224, 150)  # width, height of each picture on the sheet


def _config(items: list[str]) -> MatchConfig:
    kw = {}
    for item in items:
        key, _, value = item.partition("=")
        field = {f.name: f for f in dataclasses.fields(MatchConfig)}.get(key)
        if field is None:
            raise SystemExit(f"unknown match setting {key!r}")
        kw[key] = int(value) if key == "size" else float(value)
    return dataclasses.replace(DEFAULT_MATCH, **kw)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pairs")
    ap.add_argument("out")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("settings", nargs="*", help="MatchConfig fields as key=value")
    args = ap.parse_args()
    cfg = _config(args.settings)
    model = load_model(args.weights)
    root = Path(args.pairs).parent
    rows = list(csv.DictReader(open(args.pairs)))[: args.n]
    tiles = []
    for i, r in enumerate(rows):
        content = cv2.imread(str(root / r["content"]))
        style = cv2.imread(str(root / r["style"]))
        mask = cv2.imread(str(root / r["mask"]), cv2.IMREAD_GRAYSCALE)
        part = model.match_style_part(content[..., ::-1].copy(), mask, style[..., ::-1].copy(), cfg)
        c, s = cv2.resize(content, TILE), cv2.resize(style, TILE)
        m, p = cv2.resize(mask, TILE), cv2.resize(part, TILE)
        c[m > 127] = (0.5 * c[m > 127] + [127, 0, 127]).astype(np.uint8)
        s = (s * (0.15 + 0.85 * p[..., None])).astype(np.uint8)
        outline, _ = cv2.findContours((p > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(s, outline, -1, (0, 255, 0), 1)
        row = np.hstack([c, s])
        cv2.putText(row, str(i), (3, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 0), 1)
        tiles.append(row)
    while len(tiles) % 3:
        tiles.append(np.zeros_like(tiles[0]))
    cv2.imwrite(args.out, np.vstack([np.hstack(tiles[j:j + 3]) for j in range(0, len(tiles), 3)]))
    print(f"wrote {args.out} ({len(rows)} pairs)")


if __name__ == "__main__":
    main()
