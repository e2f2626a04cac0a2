"""Write a stage hand-off file from a training state (see `tcp_core.training.run.write_handoff`).

The networks, EMA and discriminators in fp16, without Adam moments or RNG states: about 15 MB
instead of 70 MB at `fine128`, small enough to commit with a stage so that the next stage, on a
fresh machine, starts from trained discriminators:

    python scripts/handoff_state.py runs/s12-tcp/checkpoints/state-00001000.safetensors \
        docs/training/s12/tcp-handoff.safetensors
    tcp-editor --train data/demo/train --out runs/s13-tcp --init docs/training/s12/tcp-handoff.safetensors ...

`--model FILE` also writes the editor's model (the EMA weights, what the run folder's
model-ema.safetensors holds) from the state or from a hand-off, e.g. for a GPU stage whose run
folder stayed on the GPU machine (scripts/gpu_stage.sh):

    python scripts/handoff_state.py runs/g1/tcp-handoff.safetensors --model runs/g1/tcp/model-ema.safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("state", type=Path, help="RUN/checkpoints/state-N.safetensors")
    ap.add_argument("out", type=Path, nargs="?", help="the hand-off file to write")
    ap.add_argument("--model", type=Path, help="also write the EMA model (the editor's weights file) here")
    a = ap.parse_args(argv)
    if a.out is None and a.model is None:
        ap.error("name a hand-off file to write, --model, or both")
    from tcp_core.networks.checkpoint import CheckpointError
    from tcp_core.training.run import export_ema_model, write_handoff

    try:
        if a.out is not None:
            info = write_handoff(a.state, a.out)
            print(f"{a.out}: {info['tensors']} tensors, {info['bytes'] / 1e6:.1f} MB")
        if a.model is not None:
            step = export_ema_model(a.state, a.model)
            print(f"{a.model}: the EMA model at step {step}")
    except (CheckpointError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
