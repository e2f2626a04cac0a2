"""What the canvas's edit outlines cost on the GUI thread (BENCHMARKS.md): a 1024 x 768 sky mask of a held-out photo.

    OMP_NUM_THREADS=1 python docs/training/s46/outline_timing.py
"""
import time

import cv2
import numpy as np
from PIL import Image

from tcp_core.editing.inference import working_size
from tcp_editor import mask_ops
from tcp_editor.services.extent import edit_extent


class Info:  # the bundled model's working size (ModelInfo.working_size)
    def working_size(self, h, w):
        return working_size(h, w, 128, 16)


img = np.asarray(Image.open("data/eval_artist/photos/lomiri-picosdeeuropa_by_Aitzol_Berasategi.jpg").convert("RGB"))
s = 1024 / max(img.shape[:2])
img = cv2.resize(img, (round(img.shape[1] * s), round(img.shape[0] * s)), interpolation=cv2.INTER_AREA)
m = np.asarray(Image.open("data/eval_artist/masks/lomiri-picosdeeuropa_by_Aitzol_Berasategi-sky.png").convert("L"))
m = cv2.resize(m.astype(np.float32) / 255, (img.shape[1], img.shape[0]))
for edge in ("across", "inside"):
    ts = []
    for _ in range(9):
        t = time.perf_counter()
        outlines = mask_ops.extent_outlines(edit_extent(m, img, Info(), edge))
        mask_ops.extent_outline_image(m.shape, *outlines)
        ts.append(time.perf_counter() - t)
    print(f"{edge}: median {1000 * sorted(ts)[4]:.0f} ms")
