"""How much of a region edit's strength the network keeps near the mask's border (stage 30).

For each held-out region pair: the network's region edit and its own-style edit (strength 0) at the working size,
|edit - own| summed over RGB, averaged in rings by distance to the mask's border (network pixels, inside > 0,
outside < 0), divided by the mean over the region's interior (> 8 px inside). Prints the median over pairs.

    python3 docs/training/s30/border_profile.py data/eval_regions/PAIRS.csv [WEIGHTS ...]
"""
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

from tcp_core.editing.apply import _resize, _shrink_style, working_shape
from tcp_core.editing.inference import load_model
from tcp_core.editing.masks import as_float_mask, region_crop_box

RINGS = [(-4, -2), (-2, 0), (0, 1), (1, 2), (2, 3), (3, 4), (4, 6), (6, 8)]


def rd(p: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)


def profile(model, content, style, mask) -> list[float] | None:
    box = region_crop_box(mask, margin=0.25)
    x0, y0, x1, y1 = box
    wh, ww = working_shape(model, y1 - y0, x1 - x0)
    src = _resize(content[y0:y1, x0:x1], (wh, ww))
    m = np.clip(_resize(as_float_mask(mask[y0:y1, x0:x1]), (wh, ww)), 0, 1)
    d = np.abs(np.asarray(model.region_edit(src, _shrink_style(model, style), m, 1.0)).astype(float)
               - np.asarray(model.own_style_edit(src, m)).astype(float)).sum(2)
    inside = (m >= 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 5) - cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    core = dist > 8
    if core.sum() < 20 or d[core].mean() < 5:
        return None  # no interior, or an edit that barely changes the region
    return [float(d[(dist > a) & (dist <= b)].mean() / d[core].mean()) for a, b in RINGS]


def main() -> None:
    pairs = Path(sys.argv[1])
    rows = list(csv.DictReader(pairs.open()))
    for spec in sys.argv[2:] or [None]:
        model = load_model(spec)
        profs = []
        for r in rows:
            c = rd(pairs.parent / r["content"])
            mk = cv2.imread(str(pairs.parent / r["mask"]), 0)
            mk = cv2.resize(mk, (c.shape[1], c.shape[0]), interpolation=cv2.INTER_NEAREST) / 255.0
            p = profile(model, c, rd(pairs.parent / r["style"]), mk)
            if p is not None:
                profs.append(p)
        med = np.median(np.array(profs), axis=0)
        print(f"{spec or 'shipped'}: {len(profs)} pairs; median strength / interior by ring (network px from the "
              "border, inside > 0): " + ", ".join(f"({a},{b}] {v:.2f}" for (a, b), v in zip(RINGS, med)))


if __name__ == "__main__":
    main()
