"""Metrics of the export path without the network, or with it at the border only (stage 44, section 3).

    python docs/training/s44/nonet_eval.py identity eval_artist eval_regions eval   # priming 1.0, no swap interior
    python docs/training/s44/nonet_eval.py hybrid tune_artist tune_regions          # priming 1.0, the network's
                                                                                    # region edit at the border
"""
import sys

import numpy as np
import torch

from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.inference import load_model
from tcp_core.eval.evaluate import evaluate

torch.set_num_threads(1)
kind, sets = sys.argv[1], sys.argv[2:]
real = load_model("default", device="cpu", precision="fp32")


class Stub:
    config = real.config
    source = f"{kind} (bundled network {'at the border only' if kind == 'hybrid' else 'not used'})"

    def swap(self, content, style, strength=1.0, **kw):
        return np.array(content, copy=True)

    def region_edit(self, content, style, mask, strength=1.0, **kw):
        return real.region_edit(content, style, mask, strength, **kw) if kind == "hybrid" else np.array(content)

    def own_style_edit(self, content, mask):
        return real.own_style_edit(content, mask) if kind == "hybrid" else np.array(content, copy=True)


export = ExportConfig(priming=1.0, interior="guided" if kind == "hybrid" else "off")
for s in sets:
    r = evaluate(f"data/{s}/PAIRS.csv", Stub(), f"/tmp/{kind}_{s}", methods=["tcp_final"], export=export,
                 model_name=Stub.source)
    v = r.report["methods"]["tcp_final"]
    print(kind, s, " ".join(f"{k} {v[k]:.4f}" for k in ("ssim", "ssd", "style_dist", "seam", "seam_flat", "bg_psnr")))
