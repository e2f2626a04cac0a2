"""Reconstruction quality on held-out photos at the network's working size (a measurement, not a test).

Each photo (default: data/demo/holdout, never trained on) is resized to the model's working size
(short side = its resolution) and also cut into its left/centre/right working-size squares; the
model reconstructs each, G(H_c(E(I)), H_s(E(I))), and PSNR (0-255, the paper's definition) and
L1 on [-1, 1] (the training loss) are computed against the input. Several models in one run:

    python scripts/recon_eval.py weights/tcp-demo128.safetensors runs/x/model-ema.safetensors [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def views(img: np.ndarray, res: int, multiple: int) -> list[np.ndarray]:
    from tcp_core.editing.inference import working_size

    h, w = img.shape[:2]
    wh, ww = working_size(h, w, res, multiple)
    whole = cv2.resize(img, (ww, wh), interpolation=cv2.INTER_AREA)
    s = res / min(h, w)
    sm = cv2.resize(img, (max(res, round(w * s)), max(res, round(h * s))), interpolation=cv2.INTER_AREA)
    H, W = sm.shape[:2]
    squares = [sm[(H - res) // 2:(H - res) // 2 + res, x:x + res] for x in (0, (W - res) // 2, W - res)] if W >= H \
        else [sm[y:y + res, (W - res) // 2:(W - res) // 2 + res] for y in (0, (H - res) // 2, H - res)]
    return [whole, *[np.ascontiguousarray(q) for q in squares]]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", nargs="+")
    ap.add_argument("--photos", default=str(ROOT / "data" / "demo" / "holdout"))
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    from tcp_core.editing.inference import TCPModel, size_multiple

    files = sorted(p for p in Path(args.photos).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    photos = [cv2.imread(str(p))[:, :, ::-1].copy() for p in files]
    out = {}
    for w in args.weights:
        m = TCPModel.from_pretrained(w, device="cpu", precision="fp32")
        res = m.config.resolution
        ps, l1s = [], []
        for img in photos:
            for v in views(img, res, size_multiple(m.config)):
                r = m.reconstruct(v)
                ps.append(psnr(r, v))
                l1s.append(float(np.abs(r.astype(np.float32) - v.astype(np.float32)).mean() / 127.5))
        out[w] = {"psnr_db": round(float(np.mean(ps)), 2), "psnr_median_db": round(float(np.median(ps)), 2),
                  "l1": round(float(np.mean(l1s)), 4), "views": len(ps)}
        print(f"{w}: reconstruction PSNR {out[w]['psnr_db']:.2f} dB (median {out[w]['psnr_median_db']:.2f}), "
              f"L1 {out[w]['l1']:.4f} over {len(ps)} views of {len(photos)} held-out photos", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
