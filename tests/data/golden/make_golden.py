"""Expected pixel slices of the shipped weights, for tests/test_golden.py.

    python3 tests/data/golden/make_golden.py          # rewrite golden.json after shipping new weights

The inputs are fixed (bundled style photos, resized small; a fixed elliptic mask) and the model runs
in fp32 on the CPU, so the numbers pin behaviour: a refactor that changes a pixel by more than a
gray level fails the test. `compute()` is what the test re-runs and compares.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden.json"
WEIGHTS = ROOT / "weights" / "tcp-demo128.safetensors"
STYLES = ROOT / "resources" / "styles"
STEP = 8  # every STEP-th pixel in each direction is stored


def _photo(name: str, w: int, h: int) -> np.ndarray:
    rgb = np.asarray(Image.open(STYLES / name).convert("RGB"))
    return np.ascontiguousarray(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA))


def _ellipse(h: int, w: int, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return (((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0).astype(np.float32)


def inputs() -> dict[str, np.ndarray]:
    content = _photo("dune.jpg", 192, 120)
    big = _photo("dune.jpg", 320, 200)
    return {
        "content": content,
        "style": _photo("storm.jpg", 192, 128),
        "style2": _photo("evening_glow.jpg", 160, 100),
        "mask": _ellipse(120, 192, 70, 60, 55, 40),
        "photo": big,
        "mask_a": _ellipse(200, 320, 110, 90, 80, 60),
        "mask_b": _ellipse(200, 320, 250, 140, 50, 45),
    }


def weights_sha256() -> str:
    return hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()


def compute() -> dict[str, np.ndarray]:
    """The outputs whose slices are pinned: region_edit (Eq. 5-6 at the working size) and the export
    path (`apply_regions`: crops, two successive regions, full-resolution reconstruction)."""
    import torch

    from tcp_core.editing.apply import apply_regions
    from tcp_core.editing.inference import TCPModel
    from tcp_core.editing.regions import RegionEdit

    torch.manual_seed(0)
    model = TCPModel.from_pretrained(str(WEIGHTS), device="cpu", precision="fp32")
    x = inputs()
    edit = model.region_edit(x["content"], x["style"], x["mask"], 0.8)
    export = apply_regions(model, x["photo"], [RegionEdit(x["style"], x["mask_a"], 1.0),
                                               RegionEdit(x["style2"], x["mask_b"], 0.6)])
    return {"region_edit": edit, "apply_regions": export}


def slices(outputs: dict[str, np.ndarray]) -> dict[str, dict]:
    return {k: {"shape": list(v.shape), "step": STEP, "values": v[::STEP, ::STEP].astype(int).tolist(),
                "mean": [round(float(c), 4) for c in v.reshape(-1, 3).mean(0)]} for k, v in outputs.items()}


def main() -> int:
    data = {"weights": str(WEIGHTS.relative_to(ROOT)), "weights_sha256": weights_sha256(), **slices(compute())}
    GOLDEN.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {GOLDEN.relative_to(ROOT)} for {data['weights']} ({data['weights_sha256'][:12]})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
