"""Contact sheet of Select similar's clicks near a region's edge (stage 46): for each artist region of a pair set,
its first edge click (`similar_eval.clicks(..., "edge")`, green) and what it selects at the default tolerance
(magenta), with the clicked feature as before this stage (the plain mean of the 3x3 cells, left) and now (the
click's side of the edge, right); the region's outline in cyan.

    python docs/training/s46/similar_edge_sheet.py data/tune_artist docs/training/s46/similar_edge_tune_artist.jpg
"""
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
from similar_eval import clicks, load, regions  # noqa: E402

from tcp_core.editing.inference import TCPModel, load_model  # noqa: E402
from tcp_editor.mask_ops import SIMILAR_TOLERANCE_DEFAULT, similar_threshold, threshold_similarity  # noqa: E402

torch.set_num_threads(1)
model = load_model("default", device="cpu", precision="fp32")
now = TCPModel._click_feature


def plain(img, f, x, y):  # before: the mean of the 3x3 cells around the click
    h, w = img.shape[:2]
    fh, fw = f.shape[-2:]
    py, px = min(int(y * fh / h), fh - 1), min(int(x * fw / w), fw - 1)
    ref = f[:, max(0, py - 1):py + 2, max(0, px - 1):px + 2].mean((1, 2))
    return ref / ref.norm().clamp_min(1e-6)


def tile(img, mask, x, y, name):
    t = SIMILAR_TOLERANCE_DEFAULT
    sel = threshold_similarity(model.similar_region(img, x, y, t / 100), similar_threshold(t))
    vis = (img * (1 - 0.45 * sel[..., None]) + np.array([255, 0, 255]) * 0.45 * sel[..., None]).astype(np.uint8)
    edge = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    vis[edge] = (0, 255, 255)
    cv2.circle(vis, (x, y), 6, (0, 0, 0), -1)
    cv2.circle(vis, (x, y), 4, (0, 255, 0), -1)
    out = np.zeros((384, 512, 3), np.uint8)
    out[: min(384, vis.shape[0]), : vis.shape[1]] = vis[:384]
    cv2.putText(out, name, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
    return out


rows = []
for k, (name, photo, mask_path) in enumerate(regions(Path(sys.argv[1]))):
    img, mask = load(photo, mask_path, 512)
    pts = clicks(mask, k, "edge")
    if not pts:
        continue
    x, y = pts[0]
    TCPModel._click_feature = staticmethod(plain)
    before = tile(img, mask, x, y, f"{name}: before")
    TCPModel._click_feature = staticmethod(now)
    rows.append(np.concatenate([before, tile(img, mask, x, y, f"{name}: now")], 1))
pairs = [np.concatenate(rows[i:i + 2], 1) if i + 1 < len(rows) else np.pad(rows[i], ((0, 0), (0, rows[i].shape[1]), (0, 0)))
         for i in range(0, len(rows), 2)]
grid = np.concatenate(pairs, 0)
Image.fromarray(grid).resize((grid.shape[1] // 2, grid.shape[0] // 2), Image.LANCZOS).save(sys.argv[2], quality=85)
