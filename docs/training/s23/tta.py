"""Experiment: flip test-time averaging of the network edit (export path), metrics + sheet."""
import sys, numpy as np, torch
from tcp_core.editing.inference import TCPModel
from tcp_core.eval.evaluate import evaluate
torch.set_num_threads(1)
pairs, weights, out, mode = sys.argv[1:5]
m = TCPModel.from_pretrained(None if weights == "default" else weights, device="cpu")
if mode == "flip":
    re, ose = m.region_edit, m.own_style_edit
    def region_edit(content, style, mask, strength=1.0, keyframe_step=None, style_mask=None):
        a = np.asarray(re(content, style, mask, strength, style_mask=style_mask)).astype(np.float32)
        b = np.asarray(re(np.ascontiguousarray(content[:, ::-1]), style, np.ascontiguousarray(mask[:, ::-1]), strength, style_mask=style_mask))[:, ::-1].astype(np.float32)
        return ((a + b) / 2 + 0.5).astype(np.uint8)
    def own_style_edit(content, mask):
        a = np.asarray(ose(content, mask)).astype(np.float32)
        b = np.asarray(ose(np.ascontiguousarray(content[:, ::-1]), np.ascontiguousarray(mask[:, ::-1])))[:, ::-1].astype(np.float32)
        return ((a + b) / 2 + 0.5).astype(np.uint8)
    m.region_edit, m.own_style_edit = region_edit, own_style_edit
r = evaluate(pairs, m, out, methods=["tcp", "tcp_final", "reinhard"])
for k, v in r.report["methods"].items():
    print(k, {kk: round(vv, 4) for kk, vv in v.items() if isinstance(vv, float)})
