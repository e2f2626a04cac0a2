"""Does the export bring a colour cast into a region when the reference is grey? Held-out artist pairs.

    python docs/training/s48/neutral_export.py MODEL.safetensors [MODEL2 ...]

The 36 held-out artist pairs (data/eval_artist: whole regions an artist drew), each reference made grey
(chroma x 0: black and white) at the evaluation's 256 px, through today's export (`apply_regions`, the default
settings, method tcp_final). Inside the region (mask > 0.5), in 8-bit Cb/Cr units:
- cast: the length of the region's mean (Cb, Cr) (a grey reference asks for none);
- kept: its part along the photo's own mean colour there (some of the photo left, as a weaker edit leaves it);
- invented: the rest (the complement, an overshoot, or a colour across it, one that neither photo has);
- chroma: the region's mean chroma sqrt(Cb^2 + Cr^2) (a grey reference asks for 0).
Reinhard's transfer from a grey reference has no chroma at all; the row 'photo' is the region untouched."""
import sys

import numpy as np

from tcp_core.editing.apply import apply_regions
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.inference import load_model
from tcp_core.editing.regions import RegionEdit
from tcp_core.eval.evaluate import load_pair, read_pairs

PAIRS = "data/eval_artist/PAIRS.csv"
SIZE = 256


def ycc(rgb8):
    x = rgb8.astype(np.float64)
    y = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
    return y, 0.564 * (x[..., 2] - y), 0.713 * (x[..., 0] - y)


def grey(rgb8):
    y, _, _ = ycc(rgb8)
    return np.repeat(np.clip(np.rint(y), 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def measure(out, photo, mask):
    m = mask > 0.5
    _, cb, cr = ycc(out)
    _, pcb, pcr = ycc(photo)
    d = np.array([cb[m].mean(), cr[m].mean()])
    u = np.array([pcb[m].mean(), pcr[m].mean()])
    u = u / max(np.linalg.norm(u), 1e-6)
    along = max(0.0, float(d @ u))
    return np.linalg.norm(d), along, np.linalg.norm(d - along * u), float(np.hypot(cb[m], cr[m]).mean())


def main(paths):
    rows, _ = read_pairs(PAIRS)
    pairs = [load_pair(r, SIZE) for r in rows]
    export = ExportConfig.resolve(None)
    print(f"{len(pairs)} held-out artist pairs, grey references, export at {SIZE} px; in-region, 8-bit Cb/Cr")
    print(f"{'model':50s} {'cast':>6s} {'kept':>6s} {'invented':>8s} {'inv max':>7s} {'chroma':>7s}")
    res = [measure(p.content, p.content, p.mask) for p in pairs]
    r = np.array(res)
    print(f"{'photo (untouched)':50s} {r[:, 0].mean():6.2f} {r[:, 1].mean():6.2f} {r[:, 2].mean():8.2f} "
          f"{r[:, 2].max():7.2f} {r[:, 3].mean():7.2f}")
    for path in paths:
        model = load_model(path, "cpu", "fp32")
        res = []
        for p in pairs:
            out = np.asarray(apply_regions(model, p.content, [RegionEdit(grey(p.style), p.mask, 1.0, None)], export))
            res.append(measure(out, p.content, p.mask))
        r = np.array(res)
        worst = int(r[:, 2].argmax())
        print(f"{path[-50:]:50s} {r[:, 0].mean():6.2f} {r[:, 1].mean():6.2f} {r[:, 2].mean():8.2f} "
              f"{r[:, 2].max():7.2f} {r[:, 3].mean():7.2f}   (most invented: line {pairs[worst].row.line})")


if __name__ == "__main__":
    main(sys.argv[1:])
