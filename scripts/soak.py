#!/usr/bin/env python3
"""Soak test: many successive region edits in one process; does memory stay flat?

    python scripts/soak.py                      # 500 edits on the demo128 model
    python scripts/soak.py --edits 200 --json soak.json --tracemalloc

The model is the bundled `weights/tcp-demo128.safetensors` (`TCPModel.from_pretrained()`) when
that file exists, else an untrained `demo128` (same architecture and cost). Each edit goes through
the export pipeline the CLI and the GUI use (`tcp_core.editing.apply.apply_regions`: network edit on a crop
around the region, full-resolution colour transform, feathered blend) with a fresh random mask
(ellipses and brush strokes at random places and sizes), a random strength and one of several
style photos (the shipped `resources/styles/` plus synthetic ones) on one of several photos, so the
model's LRU caches see new keys all the time. Every 10th edit has two regions (successive edits),
every 25th is a global transfer.

By default the edits go through the editor's own inference worker (`tcp_editor.services`: a
QThread that owns the model, as in the GUI; it hands freed memory back to the OS once its queue
has been empty for a moment), and RSS is read with the editor idle (after that moment).
`--direct` calls `apply_regions` in the main thread instead (no worker, no idle trimming: the raw
library in a loop).

RSS (VmRSS from /proc/self/status) is read after edit 50 (warm: caches full, allocator pools
grown) and after the last edit; the script prints the growth in % and the edit-time percentiles,
and exits 1 when the growth exceeds --max-growth (default 5 %). `--tracemalloc` also lists the
Python/numpy allocation sites that grew most between those two points (torch's own CPU allocator
is not traced; a growing torch cache shows up in RSS only).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM_EDIT = 50


def status_kb(field: str) -> int:
    """A field of /proc/self/status in KiB (VmRSS, VmHWM, ...); 0 where there is no /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def synthetic_photo(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        for _ in range(3):
            out[:, :, c] += rng.uniform(20, 50) * np.sin(rng.uniform(0.005, 0.05) * xx + rng.uniform(0.005, 0.05) * yy
                                                         + rng.uniform(0, 6))
        out[:, :, c] += rng.uniform(70, 180)
    out += rng.normal(0, 6, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def random_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Ellipses and thick brush strokes (float32 in [0, 1]), 2-40 % of the photo."""
    m = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.5:
            c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            axes = (int(rng.integers(w // 20, w // 4)), int(rng.integers(h // 20, h // 4)))
            cv2.ellipse(m, c, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        else:
            pts = np.cumsum(rng.normal(0, min(h, w) / 12, (int(rng.integers(3, 9)), 2)), axis=0)
            pts += (rng.uniform(0, w), rng.uniform(0, h))
            cv2.polylines(m, [pts.astype(np.int32)], False, 255, int(rng.integers(8, max(9, min(h, w) // 8))))
    if not m.any():
        m[h // 3: h // 2, w // 3: w // 2] = 255
    return m.astype(np.float32) / 255.0


def load_styles() -> list[np.ndarray]:
    from tcp_core.io.imageio import load_image

    styles = []
    sdir = ROOT / "resources" / "styles"
    for p in sorted(sdir.glob("*.jpg")) if sdir.is_dir() else []:
        try:
            styles.append(load_image(p).rgb)
        except Exception as e:  # noqa: BLE001 - a soak runs with what it has
            print(f"note: style {p.name} skipped: {e}", file=sys.stderr)
    styles += [synthetic_photo(h, w, 100 + i) for i, (h, w) in enumerate([(200, 300), (256, 256), (300, 180),
                                                                         (160, 240)])]
    return styles


def load_soak_model(weights: str | None, device: str):
    from tcp_core.editing.inference import TCPModel
    from tcp_core.io.hub import DEFAULT_WEIGHTS_NAME

    if weights:
        return TCPModel.from_pretrained(weights, device=device)
    if (ROOT / "weights" / DEFAULT_WEIGHTS_NAME).is_file():
        return TCPModel.from_pretrained(None, device=device)
    return TCPModel.from_config("demo128", device=device, seed=0)


def make_direct_editor(model):
    from tcp_core.editing.apply import apply_regions
    from tcp_core.editing.regions import RegionEdit

    return lambda photo, regions, glob: apply_regions(model, photo, [RegionEdit(*r) for r in regions], global_=glob)


def make_worker_editor(model):
    """Edits through the GUI's InferenceService (its worker thread owns the model), export pipeline."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from tcp_editor.document import RenderRegion, RenderState
    from tcp_editor.services.inference import IDLE_TRIM_DELAY_MS, InferenceService

    _app = QCoreApplication.instance() or QCoreApplication([])
    service = InferenceService()
    service.set_model(model)
    done: dict[int, object] = {}
    loop = QEventLoop()

    def finish(rid, value):
        done[rid] = value
        loop.quit()

    # results are queued to this thread, so they arrive inside loop.exec() (no race)
    service.worker.result.connect(lambda rid, img, ms: finish(rid, img))
    service.worker.failed.connect(lambda f: finish(f.id, RuntimeError(f.message)))

    def edit(photo, regions, glob):
        st = RenderState(photo, tuple(RenderRegion(s, m, a) for s, m, a in regions), glob, None, "style", 0.0)
        rid = service.submit_render(st, crop=True)
        while rid not in done:
            loop.exec()
        out = done.pop(rid)
        if isinstance(out, Exception):
            raise out
        return out

    def settle():
        """The editor idle for a moment after an edit (a user looking at the result)."""
        t_end = time.perf_counter() + IDLE_TRIM_DELAY_MS / 1000 + 0.2
        while time.perf_counter() < t_end:
            _app.processEvents()
            time.sleep(0.005)

    edit.service = service
    edit.settle = settle
    return edit


def percentile_ms(times: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(times) * 1000.0, q))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edits", type=int, default=500, help="number of edits (default 500)")
    ap.add_argument("--weights", default=None, help="weights spec (default: the bundled demo128, else untrained)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--size", default="640x480", help="photo size WxH (default 640x480)")
    ap.add_argument("--max-growth", type=float, default=5.0, help="allowed RSS growth in %% (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tracemalloc", action="store_true", help="list the allocation sites that grew")
    ap.add_argument("--json", default=None, help="also write the numbers to this JSON file")
    ap.add_argument("--long-side-step", type=int, default=None,
                    help="diagnosis: round the network's working long side to multiples of this (fewer input "
                         "shapes; tcp_core.editing.inference.working_size is patched)")
    ap.add_argument("--malloc-trim", action="store_true",
                    help="diagnosis: also read RSS after glibc's malloc_trim(0) at each checkpoint (memory that "
                         "is free but kept by the allocator drops out; live objects stay; later raw readings "
                         "then follow earlier trims)")
    ap.add_argument("--direct", action="store_true",
                    help="call apply_regions in this thread instead of going through the editor's inference worker")
    ap.add_argument("--no-mkldnn", action="store_true",
                    help="diagnosis: run convolutions without oneDNN (torch.backends.mkldnn.enabled = False)")
    args = ap.parse_args(argv)
    if args.edits <= WARM_EDIT:
        ap.error(f"--edits must be more than {WARM_EDIT}")

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    if args.long_side_step:
        import tcp_core.editing.inference as inf

        step, orig = args.long_side_step, inf.working_size

        def bucketed(h: int, w: int, resolution: int, multiple: int) -> tuple[int, int]:
            return orig(h, w, resolution, max(multiple, step))

        inf.working_size = bucketed
    w, h = (int(v) for v in args.size.lower().split("x"))
    rng = np.random.default_rng(args.seed)
    model = load_soak_model(args.weights, args.device)
    photos = [synthetic_photo(h, w, s) for s in range(3)] + [synthetic_photo(w, h, 3)]  # one portrait
    styles = load_styles()
    print(f"model: {model.source} ({model.config.name}, {model.device_name}); torch threads "
          f"{torch.get_num_threads()}; {len(photos)} photos {w}x{h}, {len(styles)} styles; {args.edits} edits",
          file=sys.stderr)

    edit = make_direct_editor(model) if args.direct else make_worker_editor(model)

    from tcp_core.base.memory import release_free_memory

    times: list[float] = []
    curve: list[tuple[int, int]] = []
    trimmed: list[tuple[int, int]] = []
    rss_warm = 0
    snap_warm = None
    t_start = time.perf_counter()
    for i in range(1, args.edits + 1):
        photo = photos[int(rng.integers(len(photos)))]
        ph, pw = photo.shape[:2]
        n_regions = 2 if i % 10 == 0 else 1
        glob = i % 25 == 0
        regions = [(styles[int(rng.integers(len(styles)))], None if glob else random_mask(rng, ph, pw),
                    float(rng.uniform(0.2, 1.0))) for _ in range(n_regions)]
        t0 = time.perf_counter()
        out = edit(photo, regions, glob)
        times.append(time.perf_counter() - t0)
        assert out.shape == photo.shape and out.dtype == np.uint8
        del out, regions
        if i % 50 == 0 or i == WARM_EDIT:
            gc.collect()
            settle = getattr(edit, "settle", None)
            if settle is not None:
                settle()  # RSS of the idle editor: the worker gives freed memory back when idle
            rss = status_kb("VmRSS")
            curve.append((i, rss))
            extra = ""
            if args.malloc_trim and release_free_memory():
                trimmed.append((i, status_kb("VmRSS")))
                extra = f" ({trimmed[-1][1] / 1024:7.1f} MiB after malloc_trim)"
            print(f"edit {i:4d}: RSS {rss / 1024:7.1f} MiB{extra}, last 50 edits p50 "
                  f"{percentile_ms(times[-50:], 50):6.1f} ms", file=sys.stderr, flush=True)
            if i == WARM_EDIT:
                rss_warm = rss
                if args.tracemalloc:
                    import tracemalloc

                    tracemalloc.start(10)
                    snap_warm = tracemalloc.take_snapshot()
    wall = time.perf_counter() - t_start
    gc.collect()
    if not (curve and curve[-1][0] == args.edits) and getattr(edit, "settle", None) is not None:
        edit.settle()  # the last edit is no checkpoint: read the idle editor, as at the checkpoints
    rss_end = curve[-1][1] if curve and curve[-1][0] == args.edits else status_kb("VmRSS")
    growth = 100.0 * (rss_end - rss_warm) / rss_warm if rss_warm else float("nan")
    res = {
        "model": str(model.source), "preset": model.config.name, "edits": args.edits, "photo_size": [w, h],
        "through": "apply_regions (direct)" if args.direct else "editor inference worker (QThread)",
        "torch_threads": torch.get_num_threads(),
        "rss_after_edit_50_mib": round(rss_warm / 1024, 1),
        f"rss_after_edit_{args.edits}_mib": round(rss_end / 1024, 1),
        "rss_growth_percent": round(growth, 2), "peak_rss_mib": round(status_kb("VmHWM") / 1024, 1),
        "edit_ms": {f"p{q}": round(percentile_ms(times, q), 1) for q in (50, 90, 99)}
        | {"max": round(max(times) * 1000, 1), "mean": round(float(np.mean(times)) * 1000, 1)},
        "wall_s": round(wall, 1),
        "model_cache_entries": {"codes": len(model._codes), "swaps": len(model._swaps)},
        "rss_curve_mib": {str(k): round(v / 1024, 1) for k, v in curve},
        **({"rss_after_malloc_trim_mib": {str(k): round(v / 1024, 1) for k, v in trimmed}} if trimmed else {}),
    }
    print(json.dumps(res, indent=1))
    if snap_warm is not None:
        import tracemalloc

        top = tracemalloc.take_snapshot().compare_to(snap_warm, "lineno")[:10]
        print("\nallocation sites that grew most since edit 50 (tracemalloc):", file=sys.stderr)
        for s in top:
            print(f"  {s}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1) + "\n")
    e = res["edit_ms"]
    ok = growth <= args.max_growth
    print(f"\nRSS after edit {WARM_EDIT}: {rss_warm / 1024:.1f} MiB; "
          f"after edit {args.edits}: {rss_end / 1024:.1f} MiB; "
          f"growth {growth:+.2f} % (limit {args.max_growth:g} %) -> {'OK' if ok else 'TOO MUCH'}\n"
          f"edit time p50 {e['p50']} ms, p90 {e['p90']} ms, p99 {e['p99']} ms, max {e['max']} ms "
          f"({args.edits} edits in {wall:.0f} s)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
