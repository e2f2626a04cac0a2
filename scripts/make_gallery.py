"""The README's gallery: held-out photos, each with one artist-drawn region restyled by every reference its pair set
gives it, as the editor exports them (default settings, full resolution, shown scaled down).

    python scripts/make_gallery.py [--pairs data/eval_artist] [--regions "picosdeeuropa sky,fog,petals"]
                                   [--weights SPEC] [--out docs/figures/gallery.jpg]

`--regions`: which rows, as "PHOTO-WORD REGION" or "REGION" (the first photo whose region has that name); every
pair of that photo and region in PAIRS.csv is shown, none picked out. Each row: the photo with its region outlined,
then one export per reference, the reference inset in the corner. The pair sets are `scripts/make_artist_pairs.py`'s
(photos no model here was trained or tuned on: `data/eval_artist`).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tcp_core.editing.apply import apply_regions  # noqa: E402
from tcp_core.editing.inference import load_model  # noqa: E402
from tcp_core.editing.regions import RegionEdit  # noqa: E402
from tcp_core.io.imageio import load_image, load_mask  # noqa: E402

TILE_W = 400
INSET = 0.3  # the reference's inset: this share of the tile's width


def rows_of(pairs: Path, spec: str) -> list[dict]:
    rows = list(csv.DictReader(open(pairs / "PAIRS.csv")))
    hits = [r for r in rows if r["region"] == spec]  # a region's whole name ("forest floor")
    if not hits and " " in spec:
        photo_word, region = spec.split(" ", 1)
        hits = [r for r in rows if r["region"] == region and photo_word.lower() in r["content"].lower()]
    if not hits:
        raise SystemExit(f"no pair in {pairs / 'PAIRS.csv'} matches {spec!r} (REGION or PHOTO-WORD REGION)")
    first = hits[0]["content"]
    return [r for r in hits if r["content"] == first]


def fit(img: np.ndarray, width: int) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


def label(im: Image.Image, text: str) -> None:
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, 7 * len(text) + 6, 14], fill=(0, 0, 0))
    d.text((3, 1), text, fill=(255, 255, 255))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=Path, default=Path("data/eval_artist"))
    ap.add_argument("--regions", default="picosdeeuropa sky,ColdRipple fog,YellowFlower petals")
    ap.add_argument("--weights", default="default")
    ap.add_argument("--out", type=Path, default=Path("docs/figures/gallery.jpg"))
    a = ap.parse_args()
    model = load_model(a.weights, device="cpu")
    lines = []
    for spec in a.regions.split(","):
        rows = rows_of(a.pairs, spec.strip())
        photo = load_image(a.pairs / rows[0]["content"])
        h, w = photo.rgb8.shape[:2]
        mask = load_mask(a.pairs / rows[0]["mask"], (w, h))
        shown = fit(photo.rgb8, TILE_W)
        m = cv2.resize((np.asarray(mask) > 0.5).astype(np.uint8), (shown.shape[1], shown.shape[0]))
        edge = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
        shown = shown.copy()
        shown[edge] = (255, 255, 255)
        tiles = [Image.fromarray(shown)]
        label(tiles[0], f"{Path(rows[0]['content']).stem[:28]}: {rows[0]['region']}")
        for r in rows:
            style = load_image(a.pairs / r["style"]).rgb8
            t0 = time.perf_counter()
            out = apply_regions(model, photo.rgb8, [RegionEdit(style, mask, 1.0)])
            print(f"{r['content']} {r['region']} <- {r['style']}: {time.perf_counter() - t0:.1f} s", flush=True)
            tile = fit(out, TILE_W)
            ins = fit(style, round(TILE_W * INSET))
            tile[-ins.shape[0] - 4:, -ins.shape[1] - 4:] = 255
            tile[-ins.shape[0] - 2:-2, -ins.shape[1] - 2:-2] = ins
            im = Image.fromarray(tile)
            label(im, Path(r["style"]).stem[:40])
            tiles.append(im)
        h = max(t.height for t in tiles)
        line = Image.new("RGB", (sum(t.width for t in tiles) + 6 * (len(tiles) - 1), h), (255, 255, 255))
        x = 0
        for t in tiles:
            line.paste(t, (x, 0))
            x += t.width + 6
        lines.append(line)
    W = max(line.width for line in lines)
    sheet = Image.new("RGB", (W, sum(line.height for line in lines) + 6 * (len(lines) - 1)), (255, 255, 255))
    y = 0
    for line in lines:
        sheet.paste(line, (0, y))
        y += line.height + 6
    a.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out.with_name(a.out.stem + ".tmp" + a.out.suffix)
    sheet.save(tmp, quality=88)
    tmp.replace(a.out)
    print(f"wrote {a.out} ({sheet.width}x{sheet.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
