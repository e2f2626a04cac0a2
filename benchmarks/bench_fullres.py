"""Benchmark of the full-resolution apply pipeline (load -> network edit -> upsample -> save).

    python benchmarks/bench_fullres.py [--repeats 3] [--no-rss]

- Builds a 12 MP (4000x3000) photo: a real photo from /tmp/debx/usr/share/backgrounds/*.jpg
  (Debian wallpaper packages, see METHOD section 5) resized/tiled to size if one is there, else
  textured noise + gradients; a style reference; an elliptical region mask (~12% of the photo).
- Model: `TCPModel.from_pretrained()` when the bundled default weights exist, else a random-init
  `demo128` (same network cost as the trained one).
- Prints per-stage times of `tcp-editor apply` (region mode and global mode) and of
  `upsample_edit` alone, then the peak RSS of a 24 MP (6000x4000) region edit run in a fresh
  subprocess (ru_maxrss), as a markdown table.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def make_photo(w: int, h: int, seed: int = 0) -> tuple[np.ndarray, str]:
    photos = sorted(glob.glob("/tmp/debx/usr/share/backgrounds/*.jpg"))
    if photos:
        src = photos[seed % len(photos)]
        img = np.asarray(Image.open(src).convert("RGB"))
        ih, iw = img.shape[:2]
        scale = max(w / iw, h / ih)
        if scale > 1.0:  # tile (mirrored) instead of blurring by upscaling
            reps = (int(np.ceil(h / ih)), int(np.ceil(w / iw)))
            rows = [
                np.concatenate([img if (c % 2 == 0) else img[:, ::-1] for c in range(reps[1])], 1)
                for _ in range(reps[0])
            ]
            img = np.concatenate([r if (i % 2 == 0) else r[::-1] for i, r in enumerate(rows)], 0)
        else:
            img = cv2.resize(img, (int(round(iw * scale)), int(round(ih * scale))), interpolation=cv2.INTER_AREA)
        y0 = (img.shape[0] - h) // 2
        x0 = (img.shape[1] - w) // 2
        return np.ascontiguousarray(img[y0 : y0 + h, x0 : x0 + w]), Path(src).name
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([80 + 100 * x / w, 90 + 80 * y / h, 160 - 60 * x / w], -1)
    img += 30 * np.sin(x / 37.0)[..., None] * np.cos(y / 53.0)[..., None]
    img += rng.normal(0, 12, (h, w, 3)).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), "synthetic noise + gradients"


def make_inputs(folder: Path, w: int, h: int) -> dict:
    photo, origin = make_photo(w, h, seed=1)
    style, _ = make_photo(1024, 768, seed=4)
    ex = Image.Exif()
    ex[0x010F] = "BenchCam"
    content = folder / f"photo_{w}x{h}.jpg"
    Image.fromarray(photo).save(content, quality=92, exif=ex.tobytes())
    style_p = folder / "style.jpg"
    Image.fromarray(style).save(style_p, quality=92)
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (int(w * 0.6), int(h * 0.4)), (int(w * 0.22), int(h * 0.18)), 15, 0, 360, 255, -1)
    mask_p = folder / f"mask_{w}x{h}.png"
    Image.fromarray(mask).save(mask_p)
    return {
        "content": str(content),
        "style": str(style_p),
        "mask": str(mask_p),
        "origin": origin,
        "mask_frac": float((mask > 0).mean()),
    }


def get_model():
    from tcp_core.editing.inference import TCPModel
    from tcp_core.io.hub import WeightsNotFound, default_weights_path

    try:
        default_weights_path()
        return TCPModel.from_pretrained(None, device="cpu"), "bundled default weights"
    except WeightsNotFound:
        return TCPModel.from_config("demo128", device="cpu"), "random-init demo128 (no bundled weights)"


def run_pipeline(model, inp: dict, out: Path, global_: bool) -> dict:
    from tcp_core.editing.apply import apply_regions
    from tcp_core.editing.regions import RegionEdit
    from tcp_core.io.imageio import load_image, load_mask, save_image

    t: dict = {}
    c0 = time.process_time()
    t0 = time.perf_counter()
    photo = load_image(inp["content"], keep_alpha=True, keep_16bit=True)
    style = load_image(inp["style"]).rgb
    mask = None if global_ else load_mask(inp["mask"], size=photo.size)
    t["load"] = time.perf_counter() - t0
    result = apply_regions(model, photo, [RegionEdit(style, mask, 1.0)], global_=global_, timings=t)
    t0 = time.perf_counter()
    save_image(
        out, result, alpha=photo.alpha, exif=photo.exif, icc=photo.icc, quality=95, overwrite_protect=inp["content"]
    )
    t["save"] = time.perf_counter() - t0
    t["total"] = sum(t[k] for k in ("load", "edit", "upsample", "save"))
    t["cpu"] = time.process_time() - c0  # CPU seconds of all threads: robust to other load on the machine
    return t


def vm_hwm_kb() -> int:
    """Peak RSS of this process image (VmHWM, reset at exec, unlike ru_maxrss which Linux carries
    over from the parent across fork+exec); falls back to ru_maxrss off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_rss(inp_json: str) -> None:
    """Run one 24 MP region edit and report its peak RSS (this process only)."""
    inp = json.loads(inp_json)
    base = vm_hwm_kb()
    model, _ = get_model()
    loaded = vm_hwm_kb()
    with tempfile.TemporaryDirectory() as td:
        # warm-up on a tiny image so one-off allocations of torch are not blamed on the edit
        from tcp_core.editing.apply import apply_regions
        from tcp_core.editing.regions import RegionEdit

        small = np.zeros((64, 64, 3), np.uint8)
        m = np.zeros((64, 64), np.float32)
        m[10:30, 10:30] = 1
        apply_regions(model, small, [RegionEdit(small, m, 1.0)])
        ready = vm_hwm_kb()
        t = run_pipeline(model, inp, Path(td) / "out.jpg", global_=False)
        peak = vm_hwm_kb()
        t_g = run_pipeline(model, inp, Path(td) / "out_g.jpg", global_=True)
        peak_g = vm_hwm_kb()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "start_kb": base,
                "model_loaded_kb": loaded,
                "model_ready_kb": ready,
                "peak_region_kb": peak,
                "peak_after_global_kb": peak_g,
                "ru_maxrss_kb": maxrss,
                "times": t,
                "times_global": t_g,
            }
        )
    )


def fmt_row(name: str, t: dict) -> str:
    return (
        f"| {name} | {t['load']:.2f} | {t['edit']:.2f} | {t['upsample']:.2f} | {t['save']:.2f} | "
        f"{t['total']:.2f} | {t['cpu']:.2f} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument("--child-rss", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_rss:
        child_rss(args.child_rss)
        return 0

    import torch

    from tcp_core.editing.fullres import upsample_edit

    with tempfile.TemporaryDirectory() as td:
        folder = Path(td)
        inp = make_inputs(folder, 4000, 3000)
        model, model_desc = get_model()
        print(
            f"# bench_fullres: 12 MP photo ({inp['origin']}), region {inp['mask_frac'] * 100:.0f}% of the photo; "
            f"model: {model_desc}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"cv2 {cv2.getNumThreads()} threads, {os.cpu_count()} CPUs, "
            f"load average at start {os.getloadavg()[0]:.1f}\n"
        )
        rows = []
        for mode in ("region", "global"):
            runs = [run_pipeline(model, inp, folder / f"out_{mode}.jpg", mode == "global") for _ in range(args.repeats)]
            cold = runs[0]
            med = {k: statistics.median(r[k] for r in runs[1:] or runs) for k in cold}
            rows.append(fmt_row(f"apply, {mode}, first run", cold))
            rows.append(fmt_row(f"apply, {mode}, median of warm runs", med))
        print("| 12 MP JPEG, wall seconds | load | edit (network) | upsample | save (JPEG q95) | total | CPU s |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))

        # upsample_edit alone, 12 MP
        from tcp_core.io.imageio import load_image, load_mask

        photo = load_image(inp["content"]).rgb
        mask = load_mask(inp["mask"], size=(photo.shape[1], photo.shape[0]))
        lo = cv2.resize(photo, (512, 384), interpolation=cv2.INTER_AREA)
        lo_res = np.clip(lo.astype(np.int16) + (25, -10, 5), 0, 255).astype(np.uint8)
        full = np.ones(mask.shape, np.float32)
        res = {}
        for name, m in (("region mask", mask), ("full mask", full)):
            ts = []
            for _ in range(max(2, args.repeats)):
                t0 = time.perf_counter()
                upsample_edit(photo, lo, lo_res, m)
                ts.append(time.perf_counter() - t0)
            res[name] = (min(ts), statistics.median(ts))
        print("\n| upsample_edit alone, 12 MP, 512x384 low-res | best s | median s |")
        print("|---|---|---|")
        for k, (b, md) in res.items():
            print(f"| {k} | {b:.3f} | {md:.3f} |")

        print(f"\nload average after the 12 MP runs: {os.getloadavg()[0]:.1f}")
        if not args.no_rss:
            inp24 = make_inputs(folder, 6000, 4000)
            env = dict(os.environ)
            out = subprocess.run(
                # via sh, which forks the child: its ru_maxrss then does not inherit this process's peak
                ["/bin/sh", "-c", '"$@"; exit $?', "sh", sys.executable, __file__, "--child-rss", json.dumps(inp24)],
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
            if out.returncode != 0:
                print("\n24 MP child failed:\n" + out.stderr[-2000:])
                return 1
            r = json.loads(out.stdout.strip().splitlines()[-1])
            mb = 1024.0
            print("\n| 24 MP (6000x4000) edit, fresh process | peak RSS (VmHWM), MB |")
            print("|---|---|")
            print(f"| peak RSS after importing numpy/cv2/PIL | {r['start_kb'] / mb:.0f} |")
            print(f"| peak RSS after importing torch + building the model | {r['model_loaded_kb'] / mb:.0f} |")
            print(f"| peak RSS after a 64x64 warm-up edit | {r['model_ready_kb'] / mb:.0f} |")
            print(f"| peak RSS after the region edit (load, edit, upsample, save) | {r['peak_region_kb'] / mb:.0f} |")
            print(f"| peak RSS after a global edit as well | {r['peak_after_global_kb'] / mb:.0f} |")
            print(f"| ru_maxrss of the child at the end | {r['ru_maxrss_kb'] / mb:.0f} |")
            print(f"| increase due to the 24 MP region edit | {(r['peak_region_kb'] - r['model_ready_kb']) / mb:.0f} |")
            print("\n| 24 MP, wall seconds | load | edit | upsample | save | total | CPU s |")
            print("|---|---|---|---|---|---|---|")
            print(fmt_row("region", r["times"]))
            print(fmt_row("global", r["times_global"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
