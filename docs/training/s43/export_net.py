"""A state's raw networks (`net`) or EMA (`ema`) as an editor model: python export_net.py STATE net|ema OUT."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tcp_core.training.run import _read_state, state_model_config
from tcp_core.networks.model import TCPNet
from tcp_core.networks.checkpoint import save_model
src, prefix, out = sys.argv[1], sys.argv[2], sys.argv[3]
t, meta = _read_state(Path(src))
net = TCPNet(state_model_config(meta, Path(src)))
net.load_state_dict({k[len(prefix)+1:]: v.float() for k, v in t.items() if k.startswith(prefix + "/")})
save_model(Path(out), net, extra={"step": meta.get("step", "0")})
print("ok", out)
