#!/usr/bin/env python3
"""Widen the content code of a stage hand-off (or a training state, or an exported model) to more
channels, computing the same images (`tcp_core.networks.widen`), so the next stage can `--init`
from it with the wider code:

    python scripts/widen_content.py docs/training/s17/tcpcc4-handoff-1321.safetensors \
        runs/s18w/tcp-c16-handoff.safetensors --channels 16

A hand-off's networks and EMA are widened, its discriminators kept; the model config in the
metadata says the new channel count (name `fine128-c16`). Refuses to overwrite its input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcp_core.base.errors import UsageError  # noqa: E402
from tcp_core.networks.checkpoint import CheckpointError  # noqa: E402
from tcp_core.networks.widen import widen_content  # noqa: E402
from tcp_core.training.run import transform_networks  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--channels", type=int, required=True, help="the new content channel count")
    ap.add_argument("--init", choices=("copy", "zero"), default="copy",
                    help="new channels as copies of the old ones (default) or zero (tcp_core.networks.widen)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the new skip weights (--init zero)")
    a = ap.parse_args(argv)
    try:
        r = transform_networks(Path(a.src), Path(a.out),
                               lambda part, cfg: widen_content(part, cfg, a.channels, init=a.init, seed=a.seed))
    except (UsageError, CheckpointError) as e:
        sys.exit(str(e))
    n_old = sum(v.numel() for v in r.old.values())
    n_new = sum(v.numel() for v in r.new.values())
    print(f"{a.out}: content code {r.cfg.content_channels} -> {r.new_cfg.content_channels} channels ({a.init}) "
          f"({n_old} -> {n_new} values, {', '.join(p.rstrip('/') or 'model' for p in r.prefixes)} widened)")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
