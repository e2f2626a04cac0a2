import sys, numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parents[3] / 'scripts'))
from seam_parts import parts
from tcp_core.editing.inference import load_model
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.apply import apply_regions
from tcp_core.editing.regions import RegionEdit
from tcp_core.eval import evaluate as ev
real = load_model("default", device="cpu", precision="fp32")
class Identity:
    config = real.config
    def swap(self, c, s, strength=1.0, **kw): return np.array(c, copy=True)
    def region_edit(self, c, s, m, strength=1.0, **kw): return np.array(c, copy=True)
    def own_style_edit(self, c, m): return np.array(c, copy=True)
variants = {"shipped": (real, ExportConfig()), "net_p1": (real, ExportConfig(priming=1.0)),
            "nonet_p1": (Identity(), ExportConfig(priming=1.0, interior="off"))}
rows, _ = ev.read_pairs(sys.argv[1])
acc = {k: [] for k in variants}
for r in rows:
    p = ev.load_pair(r, 256)
    for k, (m, cfg) in variants.items():
        out = np.asarray(apply_regions(m, p.content, [RegionEdit(p.style, p.mask, 1.0, None)], cfg))
        acc[k].append(parts(out, p.content, p.mask))
for k, v in acc.items():
    print(k, " ".join(f"{c} {np.nanmean([x[c] for x in v]):.3f}" for c in ("seam", "seam_flat", "grad x border", "grad x inside")))
