#!/usr/bin/env python3
"""The 20 MP one-region `apply`, whole command, against a plain load + PNG save (issue #14).

    python benchmarks/bench_apply_startup.py [--rounds 5] [--dir /tmp/tcp-bench20] [--json out.json]

Builds (once, in --dir) a synthetic 20 MP camera-like JPEG (5472x3648, q92, with EXIF incl. date,
camera and an orientation tag, and an sRGB ICC profile) from a bundled holdout photo, a style
photo and a full-size one-region mask; then times, interleaved and each in a fresh process:

- `apply`: `python -m tcp_editor.cli apply photo20.jpg --style S --mask M -o out.png` (the bundled model);
- `pil`:   PIL open + PNG save with PIL's defaults (compress_level 6, the ICC profile kept) of the same photo;
- `cv2`:   OpenCV imread + imwrite PNG (default compression) of the same photo.

Reports the median and range of each and the ratio apply / pil, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
W, H = 5472, 3648

PIL_SAVE = "import sys; from PIL import Image; Image.open(sys.argv[1]).save(sys.argv[2])\n"
CV2_SAVE = "import sys, cv2; cv2.imwrite(sys.argv[2], cv2.imread(sys.argv[1]))\n"


def make_inputs(d: str) -> tuple[str, str, str]:
    import numpy as np
    from PIL import Image, ImageCms

    os.makedirs(d, exist_ok=True)
    photo, style, mask = (os.path.join(d, n) for n in ("photo20.jpg", "style.jpg", "mask20.png"))
    if all(os.path.exists(p) for p in (photo, style, mask)):
        return photo, style, mask
    holdout = os.path.join(ROOT, "data", "demo", "holdout")
    src = Image.open(os.path.join(holdout, "lomiri-picosdeeuropa_by_Aitzol_Berasategi.jpg")).convert("RGB")
    big = np.asarray(src.resize((W, H), Image.Resampling.BICUBIC), dtype=np.float32)
    rng = np.random.default_rng(20)
    big += rng.normal(0.0, 2.5, big.shape).astype(np.float32)  # sensor-like grain: PNG does not get it for free
    im = Image.fromarray(np.clip(np.rint(big), 0, 255).astype(np.uint8), "RGB")
    exif = Image.Exif()
    exif[0x010F] = "TCP Bench"  # Make
    exif[0x0110] = "Synthetic 20MP"  # Model
    exif[0x0112] = 1  # Orientation
    exif[0x0132] = "2026:12:03 10:00:00"  # DateTime
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im.save(photo, quality=92, exif=exif.tobytes(), icc_profile=icc)
    Image.open(os.path.join(holdout, "plasma-Path.jpg")).convert("RGB").save(style, quality=92)
    m = np.zeros((H, W), np.uint8)
    yy, xx = np.ogrid[:H, :W]
    m[((yy - H * 0.55) / (H * 0.25)) ** 2 + ((xx - W * 0.4) / (W * 0.2)) ** 2 <= 1.0] = 255  # ~16 % of the photo
    Image.fromarray(m, "L").save(mask)
    return photo, style, mask


def run_once(argv: list[str], env: dict, cwd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+sys) of one fresh process, run in `cwd` (not a checkout:
    `python -m` puts the working directory before PYTHONPATH)."""
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"failed ({r.returncode}): {' '.join(argv)}\n{r.stderr}")
    return dt, (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dir", default="/tmp/tcp-bench20")
    ap.add_argument("--json", default=None)
    ap.add_argument("--only", default="apply,pil,cv2")
    ap.add_argument("--compare", default=None, metavar="ROOT",
                    help="also time `apply` from another checkout (e.g. an export of the previous commit), "
                         "interleaved, as apply_base")
    args = ap.parse_args()
    photo, style, mask = make_inputs(args.dir)
    out = os.path.join(args.dir, "out.png")
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    py = sys.executable
    cmds = {
        "apply": [py, "-m", "tcp_editor.cli", "apply", photo, "--style", style, "--mask", mask, "-o", out],
        "pil": [py, "-c", PIL_SAVE, photo, os.path.join(args.dir, "pil.png")],
        "cv2": [py, "-c", CV2_SAVE, photo, os.path.join(args.dir, "cv2.png")],
    }
    envs = {n: env for n in cmds}
    if args.compare:
        cmds["apply_base"] = cmds["apply"][:-1] + [os.path.join(args.dir, "out_base.png")]
        envs["apply_base"] = dict(env, PYTHONPATH=os.path.abspath(args.compare))
        args.only += ",apply_base"
    names = [n for n in args.only.split(",") if n in cmds]
    times: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    loads = []
    for i in range(args.rounds):
        for n in names:
            loads.append(os.getloadavg()[0])
            wall, c = run_once(cmds[n], envs[n], args.dir)
            times[n].append(wall)
            cpu[n].append(c)
        print(f"round {i + 1}: " + ", ".join(f"{n} {times[n][-1]:.2f} s (CPU {cpu[n][-1]:.2f} s)" for n in names),
              flush=True)
    res: dict = {}
    for n in names:
        v, c = times[n], cpu[n]
        res[n] = {"median": statistics.median(v), "min": min(v), "max": max(v), "all": v,
                  "cpu_median": statistics.median(c), "cpu_min": min(c), "cpu_max": max(c), "cpu_all": c}
    res["load_avg"] = {"min": min(loads), "max": max(loads)}
    for n in names:
        r = res[n]
        print(f"{n:6s} wall median {r['median']:.2f} s (range {r['min']:.2f}-{r['max']:.2f}), "
              f"CPU median {r['cpu_median']:.2f} s (range {r['cpu_min']:.2f}-{r['cpu_max']:.2f})")
    for a in ("apply", "apply_base"):
        for base in ("pil", "cv2"):
            if a in res and base in res:
                print(f"{a} / {base} (medians): wall {res[a]['median'] / res[base]['median']:.2f}x, "
                      f"CPU {res[a]['cpu_median'] / res[base]['cpu_median']:.2f}x")
    print(f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}, {os.cpu_count()} CPUs")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
