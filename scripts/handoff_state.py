"""Write a stage hand-off file from a training state (see `tcp_core.training.run.write_handoff`).

The networks, EMA and discriminators in fp16, without Adam moments or RNG states: about 15 MB
instead of 70 MB at `fine128`, small enough to commit with a stage so that the next stage, on a
fresh machine, starts from trained discriminators:

    python scripts/handoff_state.py runs/s12-tcp/checkpoints/state-00001000.safetensors docs/training/s12/tcp-handoff.safetensors
    tcp-editor --train data/demo/train --out runs/s13-tcp --init docs/training/s12/tcp-handoff.safetensors ...
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
    ap.add_argument("out", type=Path, help="the hand-off file to write")
    a = ap.parse_args(argv)
    from tcp_core.networks.checkpoint import CheckpointError
    from tcp_core.training.run import write_handoff

    try:
        info = write_handoff(a.state, a.out)
    except (CheckpointError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{a.out}: {info['tensors']} tensors, {info['bytes'] / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
