"""Build the artist-mask held-out set: whole regions as an artist selects them, style photos chosen per region.

    python scripts/make_artist_pairs.py [--photos data/eval_regions/photos] [--out data/eval_artist]
    python scripts/make_artist_pairs.py --set tune --photos data/demo/train --out data/tune_artist

`make_eval_pairs.py --masks regions` cuts regions by colour clustering: skies come out as arcs and
blobs with holes, which no artist would brush. Here each region is a whole thing (the sky, the
meadow, the petals, the pier) named in REGIONS below by a few sure-inside and sure-outside boxes
(fractions of the photo), which GrabCut (OpenCV) snaps to the photo's edges, the way the editor's
selection tools plus a little brushing would; holes are filled and stray islands dropped. Each
region gets the style photos an artist would plausibly pick for it (a sky from other skies, a
meadow from foliage), listed in the table, so the set is reproducible from the hold-out photos and
this file alone. The photos are the demo hold-out (none is in the training set). `--set tune` builds
the same kind of set on training photos (TUNE_REGIONS), for choosing export settings without
looking at the hold-out.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from tcp_core.training.masks import fill_holes

# photo stem: [(region name, sure-inside boxes, sure-outside boxes, style photo stems)], boxes are
# (x0, y0, x1, y1) in fractions of the photo's width and height.
PICOS, STORM, FLOWER, RIPPLE = ("lomiri-picosdeeuropa_by_Aitzol_Berasategi", "mate-Storm", "mate-YellowFlower",
                                "plasma-ColdRipple")
LEAF, PATH, SUMMER = "plasma-FallenLeaf", "plasma-Path", "plasma-summer_1am"
REGIONS = {
    PICOS: [
        ("sky", [(0.0, 0.0, 0.55, 0.08), (0.45, 0.0, 0.75, 0.04)], [(0.0, 0.45, 1.0, 1.0), (0.5, 0.3, 1.0, 0.45)],
         [SUMMER, STORM, RIPPLE]),
        ("meadow", [(0.0, 0.72, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.38)], [PATH, LEAF, FLOWER]),
    ],
    STORM: [
        ("sky", [(0.0, 0.0, 1.0, 0.45)], [(0.0, 0.7, 1.0, 1.0)], [SUMMER, PICOS, RIPPLE]),
        ("road", [(0.0, 0.8, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.5)], [LEAF, PATH]),
    ],
    FLOWER: [
        ("petals", [(0.62, 0.55, 0.78, 0.7), (0.85, 0.2, 0.95, 0.35)], [(0.0, 0.0, 0.12, 1.0)], [LEAF, SUMMER, PICOS]),
        ("background", [(0.0, 0.0, 0.1, 1.0)], [(0.62, 0.5, 0.8, 0.75)], [PATH, STORM]),
    ],
    RIPPLE: [
        ("pier", [(0.35, 0.8, 0.65, 1.0)], [(0.0, 0.0, 1.0, 0.4)],
         [LEAF, PICOS]),
        ("fog", [(0.0, 0.0, 1.0, 0.35)], [(0.35, 0.8, 0.65, 1.0)], [SUMMER, STORM, PICOS]),
    ],
    LEAF: [
        ("bokeh", [(0.0, 0.0, 1.0, 0.15)], [(0.55, 0.5, 0.85, 0.8), (0.0, 0.85, 1.0, 1.0)], [SUMMER, PATH, STORM]),
        ("leaf", [(0.62, 0.5, 0.78, 0.68)], [(0.0, 0.0, 1.0, 0.3), (0.0, 0.88, 0.4, 1.0)], [FLOWER, PICOS]),
    ],
    PATH: [
        ("forest floor", [(0.0, 0.85, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.45)], [PICOS, LEAF, FLOWER]),
        ("trees", [(0.0, 0.0, 1.0, 0.3)], [(0.0, 0.85, 1.0, 1.0)], [LEAF, STORM]),
    ],
    SUMMER: [
        ("sky", [(0.0, 0.0, 1.0, 0.62)], [(0.0, 0.7, 1.0, 1.0)], [STORM, PICOS, RIPPLE]),
        ("lake", [(0.0, 0.75, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.62)], [LEAF, PATH]),
    ],
}
# training photos (the tuning set): skies, meadows, fields and the sea
AITZ, WINDOWS, FOG, SEA = ("lomiri-aitzgorri_by_Aitzol_Berasategi", "lxqt-this-is-not-windows", "lxqt-fog",
                           "gnome-SeaSunset")
RAIN, GLOW, BRIDGE, DUNE = "lxqt-after-the-rain", "plasma-EveningGlow", "lomiri-Bridge_by_Sander_Klootwijk", "mate-Dune"
SUNSET, DARKEST, MEADOW, IVY = ("lomiri-sunset_by_Aitzol_Berasategi", "plasma-DarkestHour", "mate-GreenMeadow",
                                "gnome-Dark_Ivy")
TUNE_REGIONS = {
    AITZ: [
        ("sky", [(0.0, 0.0, 1.0, 0.1)], [(0.0, 0.4, 1.0, 1.0)], [SEA, RAIN, GLOW]),
        ("meadow", [(0.0, 0.88, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.5)], [DUNE, IVY]),
    ],
    WINDOWS: [
        ("sky", [(0.0, 0.0, 1.0, 0.4)], [(0.0, 0.78, 1.0, 1.0)], [SUNSET, DARKEST]),
        ("hills", [(0.0, 0.85, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.5)], [AITZ, DUNE]),
    ],
    FOG: [
        ("sky", [(0.0, 0.0, 1.0, 0.3)], [(0.0, 0.78, 1.0, 1.0)], [GLOW, SEA]),
        ("field", [(0.0, 0.85, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.4)], [MEADOW, DUNE]),
    ],
    SEA: [
        ("sky", [(0.0, 0.0, 1.0, 0.3)], [(0.0, 0.65, 1.0, 1.0)], [WINDOWS, RAIN]),
        ("sea", [(0.0, 0.72, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.4)], [DARKEST, FOG]),
    ],
    RAIN: [
        ("sky", [(0.0, 0.0, 1.0, 0.68)], [(0.0, 0.93, 1.0, 1.0)], [GLOW, WINDOWS, FOG]),
    ],
    GLOW: [
        ("sky", [(0.0, 0.0, 1.0, 0.18)], [(0.0, 0.6, 1.0, 1.0)], [RAIN, SUNSET]),
        ("beach", [(0.0, 0.85, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.35)], [DUNE, AITZ]),
    ],
    BRIDGE: [
        ("beach", [(0.0, 0.9, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.6)], [DUNE, GLOW, SUNSET]),
    ],
    DUNE: [
        ("sky", [(0.0, 0.0, 1.0, 0.12)], [(0.0, 0.5, 1.0, 1.0)], [SUNSET, RAIN]),
        ("grass", [(0.0, 0.8, 1.0, 1.0)], [(0.0, 0.0, 1.0, 0.2)], [MEADOW, AITZ]),
    ],
}
WORK = 512  # GrabCut runs at this long side; the mask is resized back to the photo


def _box_mask(shape: tuple[int, int], boxes) -> np.ndarray:
    h, w = shape
    m = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in boxes:
        m[round(y0 * h):round(y1 * h), round(x0 * w):round(x1 * w)] = True
    return m


def artist_mask(image: np.ndarray, inside, outside) -> np.ndarray:
    """A whole-region mask (uint8 {0, 1}, the photo's size) for uint8 RGB ``image``: GrabCut from sure
    inside/outside boxes, holes filled, only the pieces touching a sure-inside box kept."""
    h, w = image.shape[:2]
    s = WORK / max(h, w)
    small = cv2.resize(image, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    fg, bg = _box_mask((sh, sw), inside), _box_mask((sh, sw), outside)
    gc = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    # the unlabelled band between the seeds starts as "probably inside" next to inside seeds
    near = cv2.dilate(fg.astype(np.uint8), np.ones((31, 31), np.uint8)).astype(bool)
    gc[near] = cv2.GC_PR_FGD
    gc[bg] = cv2.GC_BGD
    gc[fg] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(np.ascontiguousarray(small[:, :, ::-1]), gc, None, bgd, fgd, 8, cv2.GC_INIT_WITH_MASK)
    m = np.isin(gc, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    m = cv2.morphologyEx(cv2.morphologyEx(m, cv2.MORPH_OPEN, k), cv2.MORPH_CLOSE, k)
    n, cc = cv2.connectedComponents(m, connectivity=8)
    keep = np.zeros_like(m)
    for c in range(1, n):
        if ((cc == c) & fg).any():
            keep[cc == c] = 1
    keep = fill_holes(keep)
    return (cv2.resize(keep * 255, (w, h), interpolation=cv2.INTER_LINEAR) >= 128).astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--photos", default="data/eval_regions/photos",
                    help="the photos (the hold-out: make_eval_pairs.py's copies; --set tune: data/demo/train)")
    ap.add_argument("--out", default="data/eval_artist")
    ap.add_argument("--set", choices=("holdout", "tune"), default="holdout",
                    help="holdout: REGIONS on the hold-out photos; tune: TUNE_REGIONS on training photos")
    ap.add_argument("--sheet", default=None, help="also write an overview PNG of every mask over its photo here")
    args = ap.parse_args()
    src, out = Path(args.photos), Path(args.out)
    (out / "masks").mkdir(parents=True, exist_ok=True)
    (out / "photos").mkdir(exist_ok=True)
    rows, tiles = [], []
    table = REGIONS if args.set == "holdout" else TUNE_REGIONS
    photos = {}
    for stem in {*table, *(s for regions in table.values() for r in regions for s in r[3])}:
        img = cv2.imread(str(src / f"{stem}.jpg"))
        if img is None:
            raise SystemExit(f"missing {src / stem}.jpg: build the photos first (see the module docstring)")
        s = 1024 / max(img.shape[:2])
        if s < 1:  # 1024 px copies, like make_eval_pairs.py's: evaluation runs at 256 px anyway
            img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(out / "photos" / f"{stem}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
        photos[stem] = img
    for stem, regions in table.items():
        img = photos[stem]
        for name, inside, outside, styles in regions:
            m = artist_mask(img[:, :, ::-1].copy(), inside, outside)
            mname = f"masks/{stem}-{name.replace(' ', '_')}.png"
            cv2.imwrite(str(out / mname), m * 255)
            rows += [(f"photos/{stem}.jpg", f"photos/{s}.jpg", mname, name) for s in styles]
            print(f"{stem} {name}: coverage {m.mean():.2f}, {len(styles)} style photos")
            if args.sheet:
                t = img.copy()
                t[m == 0] = (t[m == 0] * 0.35).astype(np.uint8)
                t = cv2.resize(t, (320, round(320 * t.shape[0] / t.shape[1])))
                cv2.putText(t, f"{stem[:14]} {name}", (4, 16), 0, 0.45, (0, 0, 255), 1)
                tiles.append(t[:200])
    with open(out / "PAIRS.csv", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["content", "style", "mask", "region"])
        wr.writerows(rows)
    print(f"{len(rows)} pairs -> {out / 'PAIRS.csv'}")
    if args.sheet:
        tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % 4)
        tiles = [cv2.copyMakeBorder(t, 0, 200 - t.shape[0], 0, 0, cv2.BORDER_CONSTANT) for t in tiles]
        sheet = np.vstack([np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles), 4)])
        cv2.imwrite(args.sheet, sheet)


if __name__ == "__main__":
    main()
