"""A small tuning set for Select similar on blurred backgrounds of many colours (stage 46): training photos only.

    python docs/training/s46/make_tune_blur.py [--photos data/demo/train] [--out data/tune_blur] [--sheet FILE]

The held-out bokeh background lost recall with the colour-weighted click (section 1 of the notes), and the tuning
artist regions hold no such background. Regions as `scripts/make_artist_pairs.py` makes them (GrabCut from sure
boxes); PAIRS.csv has one row per region (the style column repeats the photo: only the masks are used)."""
import argparse
import csv
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
from make_artist_pairs import artist_mask  # noqa: E402

# photo stem: [(region, the subject's sure-inside boxes, sure-background boxes)], fractions of width and height; the
# region is the background: everything but the subject GrabCut finds from the boxes (a blurred background's colours
# overlap the subject's, so the compact subject is the part GrabCut can find)
REGIONS = {
    "mate-Garden": [("background", [(0.45, 0.45, 0.8, 0.75)], [(0.0, 0.0, 0.3, 0.4), (0.0, 0.0, 1.0, 0.12),
                                                               (0.85, 0.0, 1.0, 0.3)])],
    "lxqt-appleflower": [("background", [(0.53, 0.35, 0.6, 0.6)], [(0.0, 0.0, 0.4, 1.0), (0.75, 0.0, 1.0, 1.0)])],
    "lxqt-butterfly": [("background", [(0.41, 0.5, 0.5, 0.7), (0.46, 0.3, 0.55, 0.42)],
                        [(0.0, 0.0, 0.3, 1.0), (0.7, 0.0, 1.0, 1.0), (0.0, 0.0, 1.0, 0.15)])],
}

ap = argparse.ArgumentParser()
ap.add_argument("--photos", default="data/demo/train")
ap.add_argument("--out", default="data/tune_blur")
ap.add_argument("--sheet")
a = ap.parse_args()
out = Path(a.out)
(out / "masks").mkdir(parents=True, exist_ok=True)
(out / "photos").mkdir(exist_ok=True)
rows, tiles = [], []
for stem, regions in REGIONS.items():
    src = next(Path(a.photos).glob(f"{stem}.*"))
    img = cv2.imread(str(src))
    s = 1024 / max(img.shape[:2])
    if s < 1:
        img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(out / "photos" / f"{stem}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    for name, inside, outside in regions:
        m = 1 - artist_mask(img[:, :, ::-1].copy(), inside, outside)
        mname = f"masks/{stem}-{name}.png"
        cv2.imwrite(str(out / mname), m * 255)
        rows.append((f"photos/{stem}.jpg", f"photos/{stem}.jpg", mname, name))
        print(f"{stem} {name}: coverage {m.mean():.2f}")
        t = img.copy()
        t[m == 0] = (t[m == 0] * 0.35).astype(np.uint8)
        tiles.append(cv2.resize(t, (400, round(400 * t.shape[0] / t.shape[1])))[:260])
with open(out / "PAIRS.csv", "w", newline="") as f:
    csv.writer(f).writerows([("content", "style", "mask", "region"), *rows])
if a.sheet:
    tiles = [cv2.copyMakeBorder(t, 0, 260 - t.shape[0], 0, 0, cv2.BORDER_CONSTANT) for t in tiles]
    cv2.imwrite(a.sheet, np.hstack(tiles))
