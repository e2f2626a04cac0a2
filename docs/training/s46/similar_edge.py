"""Experiment: which reference feature a click near a region's edge should use (Select similar).

    python docs/training/s46/similar_edge.py VARIANT data/tune_artist --clicks edge ...   (scripts/similar_eval.py's args)

VARIANT: base (today's: mean of the 3x3 cells around the click), colour:SIGMA (the cells weighted by how close their
mean colour is to the click's own local colour), guided (the features brought to the photo's size by a guided
filter with the photo as guide, the click's own pixel's feature)."""
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
from tcp_core.editing import inference as I  # noqa: E402
from tcp_core.editing.similar import refine_selection  # noqa: E402

VARIANT = sys.argv.pop(1)


def lab(img):
    return cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB) / np.float32(100.0)  # L 0..1, a b ~-1..1


@torch.no_grad()
def similar_region(self, image, x, y, tolerance=0.3, size=I.SIMILAR_SIZE):
    img = I.check_image(image)
    h, w = img.shape[:2]
    f = self._match_features(img, size)[0].float()  # [C, fh, fw]
    fh, fw = f.shape[-2:]
    py, px = min(int(y * fh / h), fh - 1), min(int(x * fw / w), fw - 1)
    n = I.SIMILAR_NEIGHBOURS
    kind, _, arg = VARIANT.partition(":")
    if kind == "base":
        ref = f[:, max(0, py - n):py + n + 1, max(0, px - n):px + n + 1].mean((1, 2))
    elif kind in ("colour", "colsem"):
        parts = arg.split(":")
        sigma, n = float(parts[0]), int(parts[1]) if len(parts) > 1 else n
        cos_min = float(parts[2]) if len(parts) > 2 else None
        cells = cv2.resize(lab(img), (fw, fh), interpolation=cv2.INTER_AREA)  # each cell's mean colour
        r = max(1, round(max(h, w) / 256))
        own = lab(img[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1]).reshape(-1, 3).mean(0)
        y0, y1, x0, x1 = max(0, py - n), py + n + 1, max(0, px - n), px + n + 1
        d2 = ((cells[y0:y1, x0:x1] - own) ** 2).sum(-1)
        wgt = torch.from_numpy(np.exp(-d2 / (2 * sigma * sigma)).astype(np.float32))
        ref = (f[:, y0:y1, x0:x1] * wgt).sum((1, 2)) / wgt.sum().clamp_min(1e-6)
        if kind == "colsem":  # cells as alike as the colour-weighted reference count fully (clouds in a sky)
            ref = ref / ref.norm().clamp_min(1e-6)
            cos = (f[:, y0:y1, x0:x1] * ref[:, None, None]).sum(0)
            wgt = torch.maximum(wgt, (cos >= cos_min).float())
            ref = (f[:, y0:y1, x0:x1] * wgt).sum((1, 2)) / wgt.sum().clamp_min(1e-6)
    elif kind == "guided":
        from tcp_core.editing.guided import guided_filter
        scale = float(arg or 4)
        gh, gw = fh * int(scale), fw * int(scale)
        guide = cv2.resize(img, (gw, gh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        fn = f.permute(1, 2, 0).numpy()
        up = np.concatenate([cv2.resize(np.ascontiguousarray(fn[:, :, i:i + 64]), (gw, gh), interpolation=cv2.INTER_LINEAR)
                             .reshape(gh, gw, -1) for i in range(0, fn.shape[2], 64)], 2)
        gy, gx = min(int(y * gh / h), gh - 1), min(int(x * gw / w), gw - 1)
        rad = int(scale)
        vals = []
        for c in range(up.shape[2]):
            vals.append(guided_filter(guide, np.ascontiguousarray(up[:, :, c]), rad, 1e-3)[gy, gx])
        ref = torch.tensor(np.array(vals, np.float32))
    ref = ref / ref.norm().clamp_min(1e-6)
    s = (f * ref[:, None, None]).sum(0).clamp(0, 1).cpu().numpy()
    s = cv2.resize(s, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return refine_selection(np.ascontiguousarray(img), s, int(x), int(y), float(tolerance))


I.TCPModel.similar_region = similar_region
import similar_eval  # noqa: E402

sys.exit(similar_eval.main())
