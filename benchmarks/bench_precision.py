"""fp32 against bf16 (and contiguous against channels-last), interleaved in one run (a benchmark, not a test).

Measures on this machine, alternating the variants round by round so background load hits all alike:
- training throughput: demo preset, batch 8, plain G+D steps (no R1, no L_CC/L_CA), img/s;
- region-edit latency of the shipped model (cold: encode photo and style, swap, E(I_g), Eq. 5-6;
  warm: a new mask with the encodings cached, what a brush stroke costs);
- the same picture: PSNR of the bf16 edit against the fp32 edit (shipped model, demo photos);
- optionally (`--curve-steps N`) the reconstruction-loss curves of N training steps on real photos
  with the same seed in both precisions.

    python benchmarks/bench_precision.py [--threads 2] [--rounds 3] [--curve-steps 0] [--json OUT]

Variants: fp32-contiguous (the old default), fp32 (channels-last), bf16 (channels-last, autocast).
On a CPU without AVX512_BF16/AMX the bf16 variant is emulated and slow; `--precision auto` picks
fp32 there, and this benchmark says so in its header.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tcp_core.base.config import TrainConfig, model_preset  # noqa: E402
from tcp_core.networks.precision import cpu_has_native_bf16, resolve_precision  # noqa: E402

VARIANTS = ("fp32-contiguous", "fp32", "bf16")


def _trainer(variant: str):
    from tcp_core.training.trainer import Trainer

    tr = Trainer(model_preset("demo128"), TrainConfig(batch_size=8), torch.device("cpu"),
                 precision="bf16" if variant == "bf16" else "fp32")
    if variant == "fp32-contiguous":
        for m in (tr.net, tr.disc, tr.ema):
            m.to(memory_format=torch.contiguous_format)
    return tr


def _plain_steps(tr, batch: torch.Tensor, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        tr.step = 1  # not a multiple of K or of the R1 interval: plain steps
        tr.g_step(batch, tcp=False)
        tr.d_step(batch, r1=False)
    return n * batch.shape[0] / (time.perf_counter() - t)


def _photos(n: int = 4) -> list[np.ndarray]:
    import cv2

    files = sorted((ROOT / "resources" / "styles").glob("*.jpg"))[:n]
    return [cv2.imread(str(f))[:, :, ::-1].copy() for f in files]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _edit_models(weights: str | None):
    from tcp_core.editing.inference import TCPModel

    out = {}
    for v in VARIANTS:
        m = TCPModel.from_pretrained(weights, device="cpu", precision="bf16" if v == "bf16" else "fp32")
        if v == "fp32-contiguous":
            m.net = m.net.to(memory_format=torch.contiguous_format)
        out[v] = m
    return out


def _edit_once(m, photo, style, mask) -> tuple[float, float, np.ndarray]:
    m.clear_cache()
    t = time.perf_counter()
    out = m.region_edit(photo, style, mask)
    cold = time.perf_counter() - t
    mask2 = np.ascontiguousarray(mask[::-1])
    t = time.perf_counter()
    m.region_edit(photo, style, mask2)
    return cold, time.perf_counter() - t, out


def _curve(variant: str, steps: int, data: str) -> list[float]:
    from tcp_core.data.stream import load_photos, make_batch

    photos, _ = load_photos([data], 128)
    tr = _trainer(variant)
    rec = []
    for s in range(steps):
        stats = tr.train_step(make_batch(photos, 0, 0, s, 8, 128, (0.25, 1.0)))
        rec.append(stats["rec"])
    return rec


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per measurement")
    ap.add_argument("--train-steps", type=int, default=2, help="training steps per variant per round")
    ap.add_argument("--weights", default=None, help="model for the edit measurements (default: bundled)")
    ap.add_argument("--curve-steps", type=int, default=0, help="training steps on real photos per precision")
    ap.add_argument("--data", default=str(ROOT / "data" / "demo" / "train"))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--skip-train", action="store_true", help="only the edit measurements")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    variants = [v for v in args.variants.split(",") if v]
    info = {
        "cpu": platform.processor() or platform.machine(), "torch": torch.__version__, "threads": args.threads,
        "native_bf16": cpu_has_native_bf16(), "auto_picks": resolve_precision("auto", torch.device("cpu")),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(), "load_avg": os.getloadavg()[0],
    }
    print(f"machine: {info}", flush=True)
    res: dict = {"machine": info, "train_img_s": {v: [] for v in variants},
                 "edit_cold_ms": {v: [] for v in variants}, "edit_warm_ms": {v: [] for v in variants}}

    # training throughput, interleaved
    g = torch.Generator().manual_seed(0)
    batch = torch.rand(8, 3, 128, 128, generator=g) * 2 - 1
    batches = {v: batch if v == "fp32-contiguous" else batch.contiguous(memory_format=torch.channels_last)
               for v in variants}
    trainers = {} if args.skip_train else {v: _trainer(v) for v in variants}
    for v in trainers:  # warm-up (oneDNN primitive creation)
        _plain_steps(trainers[v], batches[v], 1)
    for r in range(0 if args.skip_train else args.rounds):
        for v in variants:
            ips = _plain_steps(trainers[v], batches[v], args.train_steps)
            res["train_img_s"][v].append(round(ips, 3))
            print(f"round {r} train {v}: {ips:.3f} img/s", flush=True)
    del trainers

    # edit latency and the same picture
    photos = _photos()
    photo, style = photos[0], photos[1]
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[: photo.shape[0] // 2] = 1
    models = _edit_models(args.weights)
    for v in variants:
        _edit_once(models[v], photo, style, mask)
    outs = {}
    for r in range(args.rounds):
        for v in variants:
            cold, warm, outs[v] = _edit_once(models[v], photo, style, mask)
            res["edit_cold_ms"][v].append(round(cold * 1000, 1))
            res["edit_warm_ms"][v].append(round(warm * 1000, 1))
            print(f"round {r} edit {v}: cold {cold * 1000:.0f} ms, new mask {warm * 1000:.0f} ms", flush=True)
    if "bf16" in variants and "fp32" in variants:
        psnrs = []
        for i in range(len(photos)):
            ph, st = photos[i], photos[(i + 1) % len(photos)]
            mk = np.zeros(ph.shape[:2], np.float32)
            mk[: ph.shape[0] // 2] = 1
            psnrs.append(_psnr(models["fp32"].region_edit(ph, st, mk), models["bf16"].region_edit(ph, st, mk)))
        res["psnr_bf16_vs_fp32_db"] = [round(p, 2) for p in psnrs]
        print(f"PSNR bf16 vs fp32 edit: {[round(p, 1) for p in psnrs]} dB", flush=True)

    if args.curve_steps:
        for v in ("fp32", "bf16"):
            res.setdefault("curve_rec", {})[v] = [round(x, 4) for x in _curve(v, args.curve_steps, args.data)]
            c = res["curve_rec"][v]
            print(f"curve {v}: rec first {np.mean(c[:10]):.4f} last {np.mean(c[-10:]):.4f}", flush=True)

    summary = {v: {"train_img_s": statistics.median(res["train_img_s"][v]) if res["train_img_s"][v] else float("nan"),
                   "edit_cold_ms": statistics.median(res["edit_cold_ms"][v]),
                   "edit_warm_ms": statistics.median(res["edit_warm_ms"][v])} for v in variants}
    res["median"] = summary
    res["load_avg_end"] = os.getloadavg()[0]
    print("\n| variant | training img/s (batch 8) | region edit, cold | new mask |")
    print("|---|---|---|---|")
    for v in variants:
        s = summary[v]
        print(f"| {v} | {s['train_img_s']:.2f} | {s['edit_cold_ms']:.0f} ms | {s['edit_warm_ms']:.0f} ms |")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
