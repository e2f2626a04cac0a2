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

from tcp_core.networks.checkpoint import FORMAT, config_from_metadata, load_tensors, save_tensors  # noqa: E402
from tcp_core.networks.widen import widen_content  # noqa: E402
from tcp_core.training.run import state_model_config  # noqa: E402
from tcp_core.training.trainer import STATE_FORMAT  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--channels", type=int, required=True, help="the new content channel count")
    ap.add_argument("--init", choices=("copy", "zero"), default="copy",
                    help="new channels as copies of the old ones (default) or zero (tcp_core.networks.widen)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the new skip weights (--init zero)")
    a = ap.parse_args(argv)
    src, out = Path(a.src), Path(a.out)
    if out.resolve() == src.resolve():
        sys.exit("the output must be a new file; the input is never overwritten")
    t, meta = load_tensors(src)
    if meta.get("format") == STATE_FORMAT:
        cfg = state_model_config(meta, src)
        prefixes = ("net/", "ema/")
    elif meta.get("format") == FORMAT:
        cfg = config_from_metadata(meta, src)
        prefixes = ("",)
    else:
        sys.exit(f"{src} is neither a TCP Editor model nor a training state / hand-off")
    widened = {k for k in t if k.startswith(prefixes)}
    new_t = {k: v for k, v in t.items() if k not in widened}  # a hand-off's discriminators as they are
    new_cfg = cfg
    for p in prefixes:
        part = {k[len(p):]: v for k, v in t.items() if k.startswith(p)}
        wide, new_cfg = widen_content(part, cfg, a.channels, init=a.init, seed=a.seed)
        new_t.update({p + k: v for k, v in wide.items()})
    save_tensors(out, new_t, dict(meta, model_config=new_cfg.to_json()))  # atomic
    n_old = sum(v.numel() for v in t.values())
    n_new = sum(v.numel() for v in new_t.values())
    print(f"{out}: content code {cfg.content_channels} -> {new_cfg.content_channels} channels ({a.init}) "
          f"({n_old} -> {n_new} values, {', '.join(p.rstrip('/') or 'model' for p in prefixes)} widened)")
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
