"""Training throughput of the real recipe, with and without `--reuse-fakes` (a benchmark, not a test).

Times whole iterations (`Trainer.train_step`: phases G, G_tcp every K, D, D_r1 every 16, EMA) of
the campaign's recipe (fine128, batch 8, perceptual 1, style-stats 2, K = 4) on random images, the
variants alternating block by block so background load hits both alike. A block is 16 iterations,
so each holds four L_CC/L_CA phases and one R1 phase, as a run does.

    python benchmarks/bench_train_step.py [--threads 1] [--rounds 2] [--preset fine128] [--json OUT]
    python benchmarks/bench_train_step.py --config RUN/config.json [--init HANDOFF] [--precision bf16] ...

`--config` takes a run folder's config.json (its model and training settings, e.g. the campaign's
`conv+lite0` encoder and loss weights) instead of the preset; `--init` starts from a hand-off or
training state, so the activations and gradients are a trained model's. To compare two versions of
the code, run it from each tree in turn (`PYTHONPATH=TREE`) with `MALLOC_MMAP_MAX_=0
MALLOC_TRIM_THRESHOLD_=68719476736` set, as `tcp-editor --train` sets them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tcp_core.base.config import LossWeights, ModelConfig, TrainConfig, model_preset  # noqa: E402
from tcp_core.training.run import read_init_state  # noqa: E402
from tcp_core.training.trainer import Trainer  # noqa: E402

BLOCK = 16  # iterations per timed block: every phase at its real frequency


def configs(preset: str, tcp: bool, config: str | None) -> tuple[ModelConfig, TrainConfig]:
    """The model and training settings: a run folder's config.json, or the preset with the campaign's losses."""
    if config:
        c = json.loads(Path(config).read_text())
        return ModelConfig.from_json(json.dumps(c["model"])), TrainConfig.from_json(json.dumps(c["train"]))
    w = dataclasses.replace(LossWeights(), perceptual=1.0, style_stats=2.0)
    return model_preset(preset), TrainConfig(batch_size=8, tcp_every=4, tcp_losses=tcp, weights=w, seed=0)


def trainer(mcfg: ModelConfig, tcfg: TrainConfig, reuse: bool, precision: str, init: str | None) -> Trainer:
    tr = Trainer(mcfg, dataclasses.replace(tcfg, reuse_fakes=reuse), torch.device("cpu"), precision=precision)
    if init:
        state = read_init_state(Path(init))
        if state is None:
            raise SystemExit(f"{init} is not a training state or hand-off")
        tr.init_from_state(*state)
    return tr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--preset", default="fine128")
    ap.add_argument("--swapae", action="store_true", help="the SwapAE arm (no L_CC/L_CA)")
    ap.add_argument("--precision", default="fp32", choices=["auto", "bf16", "fp32"])
    ap.add_argument("--config", default=None, help="a run folder's config.json instead of --preset")
    ap.add_argument("--init", default=None, help="a hand-off or training state to start from")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    mcfg, tcfg = configs(args.preset, not args.swapae, args.config)
    res = mcfg.resolution
    gen = torch.Generator().manual_seed(0)
    batch = torch.rand(8, 3, res, res, generator=gen) * 2 - 1
    variants = {"fresh fakes": False, "reuse fakes": True}
    trainers = {name: trainer(mcfg, tcfg, reuse, args.precision, args.init) for name, reuse in variants.items()}
    for tr in trainers.values():  # warm-up: allocator, oneDNN kernels
        tr.train_step(batch)
        tr.step = 1
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    load0 = os.getloadavg()[0]
    for r in range(args.rounds):
        for name, tr in trainers.items():
            tr.step = 1
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(BLOCK):
                tr.train_step(batch)
            dt, dc = time.perf_counter() - t0, time.process_time() - c0
            times[name].append(dt / BLOCK)
            cpu[name].append(dc / BLOCK)
            print(f"round {r + 1} {name:12s} {dt / BLOCK:6.2f} s/iteration  {8 * BLOCK / dt:5.2f} img/s  "
                  f"CPU {dc / BLOCK:5.2f} s/iteration", flush=True)
    out = {"preset": args.preset, "arm": "swapae" if args.swapae else "tcp", "threads": args.threads,
           "rounds": args.rounds, "block": BLOCK, "torch": torch.__version__, "machine": platform.processor() or "",
           "load_start": load0, "load_end": os.getloadavg()[0],
           "precision": args.precision, "config": args.config, "init": args.init,
           "s_per_iteration": {k: statistics.median(v) for k, v in times.items()}, "raw": times,
           "cpu_s_per_iteration": {k: statistics.median(v) for k, v in cpu.items()}, "raw_cpu": cpu}
    a, b = out["s_per_iteration"]["fresh fakes"], out["s_per_iteration"]["reuse fakes"]
    print(f"median: fresh {a:.2f} s/it, reuse {b:.2f} s/it: {a / b:.2f}x the iterations per hour "
          f"(load {load0:.1f} -> {out['load_end']:.1f})")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
