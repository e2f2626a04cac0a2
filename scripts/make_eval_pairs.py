"""Build the held-out evaluation set: PAIRS.csv + masks from the demo hold-out photos.

    python scripts/make_eval_pairs.py [--holdout data/demo/holdout] [--out data/eval] [--pairs 30]
    python scripts/make_eval_pairs.py --masks regions --out data/eval_regions

Every hold-out photo is a content image; each is paired with the other hold-out photos as style
references (round-robin) until --pairs rows exist. Masks (drawn at 256 px, saved at the content's
size, seeded, so the set is reproducible from the photos alone):
- ``--masks strokes`` (default): free-form brush strokes (tcp_core.training.masks, the same family
  as training), which ignore what is in the photo;
- ``--masks regions``: one region that follows the photo's content (a sky, a path, the petals), as a
  user brushes it (``region_mask``); coverage 10-60 %.
None of these photos is in the training set.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from tcp_core.io.imageio import iter_images, load_image
from tcp_core.training.masks import free_form_mask, region_mask


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--holdout", default="data/demo/holdout")
    ap.add_argument("--out", default="data/eval")
    ap.add_argument("--pairs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--masks", choices=("strokes", "regions"), default="strokes")
    args = ap.parse_args()
    photos = list(iter_images([args.holdout], recursive=False))
    if len(photos) < 2:
        raise SystemExit(f"need at least 2 photos in {args.holdout}; build them with `tcp-editor data demo`")
    out = Path(args.out)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    (out / "photos").mkdir(exist_ok=True)
    small = {}
    for p in photos:  # store 1024 px copies: evaluation runs at 256 px anyway
        img = load_image(p).rgb
        s = 1024 / max(img.shape[:2])
        img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
        dst = out / "photos" / (p.stem + ".jpg")
        cv2.imwrite(str(dst), img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
        small[p] = (dst, img)
    rng = np.random.default_rng(args.seed)
    rows = []
    n = len(photos)
    k = 0
    while len(rows) < args.pairs:
        ci, si = k % n, (k % n + 1 + (k // n) % (n - 1)) % n
        k += 1
        cpath, content_img = small[photos[ci]]
        h, w = content_img.shape[:2]
        spath, _ = small[photos[si]]
        s = 256 / max(h, w)
        small_size = (max(16, round(h * s)), max(16, round(w * s)))
        if args.masks == "regions":
            content_small = cv2.resize(content_img, small_size[::-1], interpolation=cv2.INTER_AREA)
            m = region_mask(content_small, rng, min_coverage=0.1, max_coverage=0.6)
        else:
            m = free_form_mask(small_size, rng, max_strokes=3, min_coverage=0.1, max_coverage=0.5)
        m = cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST)
        mpath = out / "masks" / f"mask_{len(rows):03d}.png"
        cv2.imwrite(str(mpath), (m * 255).astype(np.uint8))
        rows.append({"content": cpath.relative_to(out).as_posix(), "style": spath.relative_to(out).as_posix(),
                     "mask": mpath.relative_to(out).as_posix()})
    with open(out / "PAIRS.csv", "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=["content", "style", "mask"])
        wr.writeheader()
        wr.writerows(rows)
    print(f"{len(rows)} pairs from {n} hold-out photos -> {out / 'PAIRS.csv'}")


if __name__ == "__main__":
    main()
