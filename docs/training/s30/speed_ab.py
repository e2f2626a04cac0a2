"""Seconds per training iteration of the campaign recipe from one source tree (stage 30's A/B of the folded gains,
and of torch.compile). Run once per tree, side by side (one thread each), with the trainer's malloc settings:

    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 python3 speed_ab.py eager TREE CONFIG HANDOFF
    ... speed_ab.py E,G,F TREE CONFIG HANDOFF     # E, G and the frozen feature pyramid under torch.compile

17 warm-up iterations (every phase once), then 3 rounds of 16 on a fixed random batch of 8.
"""
import sys
import time

import torch

mode, tree, config, handoff = sys.argv[1:5]
sys.path.insert(0, tree)
sys.path.insert(0, tree + "/benchmarks")
from bench_train_step import configs, trainer  # noqa: E402

torch.set_num_threads(1)
mcfg, tcfg = configs("x", True, config)
tr = trainer(mcfg, tcfg, True, "auto", handoff)
if mode != "eager":
    for part in mode.split(","):
        {"E": tr.net.E, "G": tr.net.G, "F": tr.features, "Dco": tr.disc.D_co}[part].compile(dynamic=False)
batch = torch.rand(8, 3, 128, 128, generator=torch.Generator().manual_seed(0)) * 2 - 1
t0 = time.perf_counter()
for _ in range(17):
    tr.train_step(batch)
print(mode, "warmup(17 it) s", round(time.perf_counter() - t0, 1), flush=True)
for r in range(3):
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(16):
        tr.train_step(batch)
    print(mode, "round", r, "s/it", round((time.perf_counter() - t0) / 16, 3),
          "cpu", round((time.process_time() - c0) / 16, 3), flush=True)
