"""Contact sheet of Select similar on a pair set (stage 45): each artist region's outline (cyan), the click (green)
at its most interior point, and what one click selects at the default tolerance (magenta).

    python docs/training/s45/similar_sheet.py data/tune_artist docs/training/s45/similar_tune_artist.jpg
"""
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
from similar_eval import clicks, load, regions  # noqa: E402

from tcp_core.editing.inference import load_model  # noqa: E402
from tcp_editor.mask_ops import SIMILAR_TOLERANCE_DEFAULT, similar_threshold, threshold_similarity  # noqa: E402

torch.set_num_threads(1)
model = load_model("default", device="cpu", precision="fp32")
tiles = []
for k, (name, photo, mask_path) in enumerate(regions(Path(sys.argv[1]))):
    img, mask = load(photo, mask_path, 512)
    x, y = clicks(mask, k)[0]
    t = SIMILAR_TOLERANCE_DEFAULT
    sel = threshold_similarity(model.similar_region(img, x, y, t / 100), similar_threshold(t))
    vis = (img * (1 - 0.45 * sel[..., None]) + np.array([255, 0, 255]) * 0.45 * sel[..., None]).astype(np.uint8)
    edge = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    vis[edge] = (0, 255, 255)
    cv2.circle(vis, (x, y), 5, (0, 255, 0), -1)
    tile = np.zeros((384, 512, 3), np.uint8)
    tile[: min(384, vis.shape[0]), : vis.shape[1]] = vis[:384]
    cv2.putText(tile, name, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
    tiles.append(tile)
while len(tiles) % 4:
    tiles.append(np.zeros_like(tiles[0]))
grid = np.concatenate([np.concatenate(tiles[i:i + 4], 1) for i in range(0, len(tiles), 4)], 0)
Image.fromarray(grid).resize((grid.shape[1] // 2, grid.shape[0] // 2), Image.LANCZOS).save(sys.argv[2], quality=85)
