"""Held-out metrics of the export path without the network (an identity 'model': priming at 1.0, no swap interior)."""
import sys

import numpy as np
import torch
torch.set_num_threads(1)
from tcp_core.editing.inference import load_model
from tcp_core.editing.export_config import ExportConfig
from tcp_core.eval.evaluate import evaluate
real = load_model("default", device="cpu", precision="fp32")
class Identity:
    config = real.config
    source = "identity (no network)"
    def swap(self, content, style, strength=1.0, **kw): return np.array(content, copy=True)
    def region_edit(self, content, style, mask, strength=1.0, **kw): return np.array(content, copy=True)
    def own_style_edit(self, content, mask): return np.array(content, copy=True)
for s in sys.argv[1:]:
    r = evaluate(f"data/{s}/PAIRS.csv", Identity(), f"/tmp/sx/nonet_{s}", methods=["tcp_final"],
                 export=ExportConfig(priming=1.0, interior="off"), model_name="identity (no network)")
    v = r.report["methods"]["tcp_final"]
    print(s, " ".join(f"{k} {v[k]:.4f}" for k in ("ssim", "ssd", "style_dist", "seam", "seam_flat", "bg_psnr")))
