"""Draw what `priming.object_weight` calls objects (red) in each region (cyan outline) of a pair set (stage 45).

    python docs/training/s45/object_map.py tune_artist docs/training/s45/object_maps_tune_artist.jpg
"""
import csv
import sys

import cv2
import numpy as np
from PIL import Image

from tcp_core.colour.priming import object_weight

SIZE = 192  # long side: about the export's working size
setname, out = sys.argv[1], sys.argv[2]
root = f"data/{setname}/"


def load(path):
    im = Image.open(path).convert("RGB")
    s = SIZE / max(im.size)
    return np.asarray(im.resize((round(im.width * s), round(im.height * s)), Image.BILINEAR))


tiles, seen = [], set()
for r in csv.DictReader(open(root + "PAIRS.csv")):
    if (r["content"], r["mask"]) in seen:
        continue
    seen.add((r["content"], r["mask"]))
    src = load(root + r["content"])
    m = np.asarray(Image.open(root + r["mask"]).convert("L").resize(src.shape[1::-1], Image.BILINEAR)) / 255.0
    obj = object_weight(src, m)
    vis = src.astype(np.float32) * (1 - obj[..., None]) + np.array([255, 0, 0]) * obj[..., None]
    edge = cv2.morphologyEx((m > 0.5).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    vis[edge] = (0, 255, 255)
    print(r["region"], r["content"].split("/")[-1], f"objects {100 * obj[m > 0.5].mean():.1f} % of the region")
    tile = np.zeros((SIZE, SIZE * 2 + 4, 3), np.uint8)
    pair = np.concatenate([src, np.zeros((src.shape[0], 4, 3), np.uint8), vis.astype(np.uint8)], 1)
    tile[: pair.shape[0], : pair.shape[1]] = pair[:SIZE, : SIZE * 2 + 4]
    tiles.append(tile)
while len(tiles) % 3:
    tiles.append(np.zeros_like(tiles[0]))
grid = np.concatenate([np.concatenate(tiles[i:i + 3], 1) for i in range(0, len(tiles), 3)], 0)
Image.fromarray(grid).save(out, quality=85)
