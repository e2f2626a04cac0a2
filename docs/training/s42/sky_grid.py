"""Run from data/eval_artist: python3 ../../docs/training/s42/sky_grid.py (writes /tmp/grid/NN.png).

Blockiness and fine-detail energy of the export against the photo, inside each held-out artist mask."""
import csv, os, subprocess, numpy as np, cv2
from PIL import Image
rows = list(csv.DictReader(open("PAIRS.csv")))
os.makedirs("/tmp/grid", exist_ok=True)
out = []
for i, r in enumerate(rows):
    dst = f"/tmp/grid/{i:02d}.png"
    subprocess.run(["tcp-editor", "apply", r["content"], "--style", r["style"], "--mask", r["mask"], "-o", dst],
                   check=True, capture_output=True)
    a = np.asarray(Image.open(dst).convert("L")).astype(np.float32)
    o = np.asarray(Image.open(r["content"]).convert("L")).astype(np.float32)
    if o.shape != a.shape:
        o = cv2.resize(o, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    m = np.asarray(Image.open(r["mask"]).convert("L").resize((a.shape[1], a.shape[0]))) > 127
    m = cv2.erode(m.astype(np.uint8), np.ones((17, 17), np.uint8)) > 0
    def hp(x): return x - cv2.GaussianBlur(x, (0, 0), 2)
    def smooth_mask(x):  # where the photo is smooth (a sky): local std below 3 gray levels
        mu = cv2.blur(x, (9, 9)); sd = np.sqrt(np.maximum(cv2.blur(x * x, (9, 9)) - mu * mu, 0))
        return sd < 3
    sm = m & smooth_mask(o)
    if sm.sum() < 2000:
        continue
    def block(x):  # mean |column step| on 8-px block borders over elsewhere (1 = no block grid)
        d = np.abs(np.diff(x, axis=1))
        cols = np.arange(d.shape[1]); on = (cols % 8) == 7
        mm = sm[:, 1:]
        return d[:, on][mm[:, on]].mean() / max(1e-6, d[:, ~on][mm[:, ~on]].mean())
    out.append((i, r["region"], r["content"].split("/")[-1][:18], r["style"].split("/")[-1][:14],
                hp(o)[sm].std(), hp(a)[sm].std(), block(o), block(a), int(sm.sum())))
print("pair region content style | fine-detail std photo -> export | 8px-block ratio photo -> export | px")
for t in out:
    print(f"{t[0]:02d} {t[1]:10s} {t[2]:18s} {t[3]:14s} | {t[4]:.2f} -> {t[5]:.2f} ({t[5]/t[4]:.2f}x) | {t[6]:.2f} -> {t[7]:.2f} | {t[8]}")
r = np.array([t[5] / t[4] for t in out]); b = np.array([t[7] - t[6] for t in out])
print(f"median gain {np.median(r):.2f}, max {r.max():.2f}; block ratio change median {np.median(b):+.3f}, max {b.max():+.3f}")
