"""Rows of a pair set through today's export with several models: photo (region outlined), reference, then one
column per model. For looking, not for judging blind (`ab_panels.py` does that).

    python docs/training/s47/compare_sheet.py data/tune_artist/PAIRS.csv OUT.jpg --rows 0,3,6 MODEL [MODEL ...]
"""
import argparse
import csv
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

W = 320


def load(p):
    im = Image.open(p).convert("RGB")
    return im.resize((W, round(im.height * W / im.width)), Image.LANCZOS)


ap = argparse.ArgumentParser()
ap.add_argument("pairs", type=Path)
ap.add_argument("out", type=Path)
ap.add_argument("models", nargs="+")
ap.add_argument("--rows", default="0,1,2,3,4,5")
a = ap.parse_args()
rows = list(csv.DictReader(open(a.pairs)))
root = a.pairs.parent
sheet = []
with tempfile.TemporaryDirectory() as td:
    for i in [int(x) for x in a.rows.split(",")]:
        r = rows[i]
        c, s, m = root / r["content"], root / r["style"], root / r["mask"]
        photo = load(c)
        mk = np.asarray(Image.open(m).convert("L").resize(photo.size)) > 127
        cnt, _ = cv2.findContours(mk.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
        arr = np.asarray(photo).copy()
        cv2.drawContours(arr, cnt, -1, (255, 0, 255), 2)
        ims = [Image.fromarray(arr), load(s).resize(photo.size)]
        for j, w in enumerate(a.models):
            out = Path(td) / f"{i}_{j}.png"
            subprocess.run(["tcp-editor", "apply", str(c), "--style", str(s), "--mask", str(m), "--weights", w,
                            "-o", str(out)], check=True, capture_output=True)
            ims.append(load(out))
        h = photo.height
        row = Image.new("RGB", (W * len(ims), h), "white")
        for k, im in enumerate(ims):
            row.paste(im.resize((W, h)), (k * W, 0))
        sheet.append(row)
hh = sum(r.height for r in sheet) + 20
S = Image.new("RGB", (sheet[0].width, hh), "white")
d = ImageDraw.Draw(S)
d.text((4, 4), "photo | reference | " + " | ".join(Path(m).stem for m in a.models), fill="black")
y = 20
for r in sheet:
    S.paste(r, (0, y))
    y += r.height
S.save(a.out, quality=90)
