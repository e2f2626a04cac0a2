"""Benchmark of the core model on this machine (not a test): one run measures

- the machine's own conv2d throughput (GFLOP/s, 8x128x32x32 3x3, the METHOD section 6 anchor),
- one region edit (Eq. 5-6) for demo128 and paper256: latency (cold = encode content and style,
  swap, encode I_g, composite, decode; warm = a new mask with the encodings cached, what a brush
  stroke costs in the editor) and achieved GFLOP/s,
- a training step of demo128 (batch 8): images/s, GFLOP/s and peak RSS.

    python benchmarks/bench_core.py [--threads N] [--skip-train] [--json OUT]

For the training numbers run it with MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 (the
trainer sets these itself; see tcp_core/training/cli.py).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode


def median_time(fn, warmup=2, reps=5) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def conv_peak() -> float:
    x, w = torch.randn(8, 128, 32, 32), torch.randn(128, 128, 3, 3)
    dt = median_time(lambda: F.conv2d(x, w, padding=1), warmup=5, reps=10)
    return 2 * 8 * 128 * 128 * 9 * 32 * 32 / dt / 1e9


def flops_of(fn) -> float:
    with FlopCounterMode(display=False) as fc:
        fn()
    return fc.get_total_flops()


def bench_edit(preset: str) -> dict:
    from tcp_core.editing.inference import TCPModel

    m = TCPModel.from_config(preset, device="cpu")
    rng = np.random.default_rng(0)
    r = m.config.resolution
    content = rng.integers(0, 255, (r, r, 3), dtype=np.uint8)
    style = rng.integers(0, 255, (r, r, 3), dtype=np.uint8)
    masks = [np.zeros((r, r), np.float32) for _ in range(40)]
    for i, mk in enumerate(masks):
        mk[:, : r // 4 + i] = 1

    def cold():
        m.clear_cache()
        m.region_edit(content, style, masks[0])

    it = iter(masks * 10)

    def warm():
        m.region_edit(content, style, next(it))

    reps = 5 if preset != "paper256" else 3
    t_cold = median_time(cold, reps=reps)
    m.region_edit(content, style, masks[0])
    t_warm = median_time(warm, reps=reps)
    m.clear_cache()
    f_cold = flops_of(lambda: m.region_edit(content, style, masks[0]))
    f_warm = flops_of(lambda: m.region_edit(content, style, masks[1]))
    return {"preset": preset, "cold_ms": t_cold * 1e3, "warm_ms": t_warm * 1e3, "cold_gflop": f_cold / 1e9,
            "warm_gflop": f_warm / 1e9, "cold_gflops": f_cold / t_cold / 1e9, "warm_gflops": f_warm / t_warm / 1e9}


def bench_train(steps: int = 6) -> dict:
    from tcp_core.base.config import TrainConfig, model_preset
    from tcp_core.data.stream import make_batch
    from tcp_core.training.trainer import Trainer

    mcfg = model_preset("demo128")
    tcfg = TrainConfig(batch_size=8, tcp_every=4)
    tr = Trainer(mcfg, tcfg, torch.device("cpu"))
    photos = [np.random.default_rng(i).integers(0, 255, (400, 600, 3), dtype=np.uint8) for i in range(4)]
    batch = make_batch(photos, 0, 0, 0, 8, mcfg.resolution, (0.25, 1.0))
    tr.step = 1
    tr.train_step(batch)  # warm up
    flops = {}
    # (FlopCounterMode cannot follow R1's double backward: R1 steps are counted as plain ones,
    # which under-states the achieved GFLOP/s slightly)
    for kind, step in (("plain", 1), ("tcp", 4)):
        tr.step = step
        flops[kind] = flops_of(lambda: tr.train_step(batch))
    times = []
    t_all = time.perf_counter()
    for s in range(1, steps * 4 + 1):  # a K=4 schedule: every 4th step with L_CC + L_CA; R1 every 16
        tr.step = s
        t = time.perf_counter()
        tr.train_step(batch)
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - t_all
    n = len(times)
    n_tcp = sum(1 for s in range(1, n + 1) if s % 4 == 0)
    total_flops = (n - n_tcp) * flops["plain"] + n_tcp * flops["tcp"]
    return {"steps": n, "img_per_s": n * 8 / total, "s_per_step": total / n, "gflops": total_flops / total / 1e9,
            "gflop_plain_step": flops["plain"] / 1e9, "gflop_tcp_step": flops["tcp"] / 1e9,
            "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--skip-paper", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cpu = platform.processor() or platform.machine()
    res = {"machine": f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, "
                      f"{args.threads} threads",
           "conv2d_gflops": conv_peak()}
    res["edit"] = [bench_edit("demo128")] + ([] if args.skip_paper else [bench_edit("paper256")])
    res["conv2d_gflops_after"] = conv_peak()
    if not args.skip_train:
        res["train"] = bench_train()
    peak = max(res["conv2d_gflops"], res["conv2d_gflops_after"])
    print(f"machine: {res['machine']}")
    print(f"conv2d peak: {peak:.0f} GFLOP/s\n")
    print("| preset | region edit, cold | GFLOP | GFLOP/s (% of conv peak) | new mask, warm | GFLOP | GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for e in res["edit"]:
        print(f"| {e['preset']} | {e['cold_ms']:.0f} ms | {e['cold_gflop']:.1f} | {e['cold_gflops']:.0f} "
              f"({100 * e['cold_gflops'] / peak:.0f}%) | {e['warm_ms']:.0f} ms | {e['warm_gflop']:.1f} | "
              f"{e['warm_gflops']:.0f} |")
    if "train" in res:
        t = res["train"]
        print(f"\ntraining demo128, batch 8, K=4: {t['img_per_s']:.2f} img/s ({t['s_per_step']:.2f} s/step), "
              f"{t['gflops']:.0f} GFLOP/s = {100 * t['gflops'] / peak:.0f}% of conv peak, "
              f"{t['gflop_plain_step']:.0f} GFLOP/step (+{t['gflop_tcp_step'] - t['gflop_plain_step']:.0f} with "
              f"L_CC/L_CA), peak RSS {t['peak_rss_gb']:.2f} GB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
