"""Region edit with a new style reference each time (no cached swap), median of 6, for several models:

    python benchmarks/bench_style_edit.py MODEL[@fp32|@bf16] ...      (NT=1 for one thread; default 2)

A 171x128 held-out photo (data/eval/photos, `scripts/make_eval_pairs.py`), a rectangular region, styles
made from the photo itself (flipped, then rolled a step further each time so every edit misses the
cache). Prints one line per model. Used for the stage-26 branch's editor cost (weights/README.md).
"""
from __future__ import annotations

import os
import sys
import time

import cv2
import numpy as np
import torch

from tcp_core.editing.inference import load_model

torch.set_num_threads(int(os.environ.get("NT", "2")))
photos = sorted(os.listdir("data/eval/photos"))
c = cv2.resize(cv2.imread("data/eval/photos/" + photos[0])[:, :, ::-1], (171, 128)).copy()
s = np.ascontiguousarray(c[::-1])
m = np.zeros(c.shape[:2], np.float32)
m[20:90, 30:120] = 1
for spec in sys.argv[1:]:
    path, _, precision = spec.partition("@")
    model = load_model(path, device="cpu", precision=precision or "auto")
    model.region_edit(c, s, m, 1.0)  # first use: kernels and caches
    times = []
    for i in range(6):
        style = np.ascontiguousarray(np.roll(s, i + 1, 1))
        t = time.perf_counter()
        model.region_edit(c, style, m, 1.0)
        times.append(time.perf_counter() - t)
    print(f"{spec}: region edit, new style: median {1000 * np.median(times):.0f} ms")
