"""Strength-slider drag in the editor's preview path (render, crop=False, keyframe_step 0.25) at 1024 px:
ms per preview step with colour priming 0 % and 50 %, interleaved, 2 threads (session 31).

    python benchmarks/bench_slider_priming.py
"""
import statistics
import time

import cv2
import numpy as np
import torch

from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.inference import TCPModel
from tcp_core.editing.regions import RegionEdit
from tcp_editor.services.render import render

torch.set_num_threads(2)
photo = cv2.resize(cv2.imread("data/eval/photos/plasma-Path.jpg")[:, :, ::-1], (1024, 640)).copy()
style = cv2.imread("resources/styles/evening_glow.jpg")[:, :, ::-1].copy()
mask = np.zeros((640, 1024), np.float32)
cv2.ellipse(mask, (512, 200), (400, 160), 0, 0, 360, 1, -1)
model = TCPModel.from_pretrained(None)
for pt in (0, 50, 0, 50):
    render(model, photo, [RegionEdit(style, mask, 1.0)], crop=False, keyframe_step=0.25,
           export=ExportConfig(priming=pt / 100))  # warm
    ts = []
    for s in np.linspace(0.30, 0.95, 14):
        t0 = time.perf_counter()
        render(model, photo, [RegionEdit(style, mask, float(s))], crop=False, keyframe_step=0.25,
               export=ExportConfig(priming=pt / 100))
        ts.append(time.perf_counter() - t0)
    print(f"priming {pt:2d} %: median {1000 * statistics.median(ts):.0f} ms per slider step (max {1000 * max(ts):.0f})")
