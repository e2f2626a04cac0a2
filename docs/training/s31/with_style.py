"""copy a weights file with its model config's edit_style changed: with_style.py IN OUT STYLE"""
import json, sys
from safetensors import safe_open
from safetensors.torch import save_file
src, dst, style = sys.argv[1:4]
with safe_open(src, "pt") as f:
    meta = dict(f.metadata()); t = {k: f.get_tensor(k) for k in f.keys()}
cfg = json.loads(meta["model_config"]); cfg["edit_style"] = style; meta["model_config"] = json.dumps(cfg, sort_keys=True)
save_file(t, dst, metadata=meta)
