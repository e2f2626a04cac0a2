"""Result figure for the README, generated from a model file (default: the bundled weights).

    python scripts/make_figure.py [--weights SPEC] [--out docs/figures/results.png]

Rows: two hold-out photos (never seen in training). Columns: content, region mask, then for each
of three style references: the style, the global swap G(C_A, S_B), the network's region edit
(Eq. 5-6) and the editor's final export (region edit + full-resolution feathered blend).
The last two rows are a style interpolation strip (paper Fig. 7): the network's frames, then
the same frames as the editor shows and exports them (colours carried to the photo's resolution).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from tcp_core.editing.apply import apply_regions, restyle_photo
from tcp_core.editing.inference import TCPModel
from tcp_core.editing.regions import RegionEdit
from tcp_core.io.imageio import load_image

HOLDOUT = Path("data/demo/holdout")
STYLES = Path("resources/styles")
TILE = 192


def sky_mask(h: int, w: int, frac: float) -> np.ndarray:
    """A soft band over the top `frac` of the photo (the sky of a landscape)."""
    m = np.zeros((h, w), np.float32)
    m[: int(h * frac)] = 1.0
    return cv2.GaussianBlur(m, (0, 0), sigmaX=max(1.0, h / 100))


def center_mask(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cv2.ellipse(m, (w // 2, h // 2), (int(w * 0.3), int(h * 0.33)), 0, 0, 360, 255, -1)
    return cv2.GaussianBlur(m.astype(np.float32) / 255, (0, 0), sigmaX=max(1.0, h / 100))


def tile(img: np.ndarray, label: str) -> Image.Image:
    h, w = img.shape[:2]
    s = TILE / h
    im = Image.fromarray(cv2.resize(img, (round(w * s), TILE), interpolation=cv2.INTER_AREA))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, 7 * len(label) + 6, 14], fill=(0, 0, 0))
    d.text((3, 1), label, fill=(255, 255, 255))
    return im


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=None)
    ap.add_argument("--out", default="docs/figures/results.jpg")
    ap.add_argument("--holdout", default=str(HOLDOUT), help="folder of the hold-out photos (tcp-editor data demo)")
    args = ap.parse_args()
    holdout = Path(args.holdout)
    model = TCPModel.from_pretrained(args.weights, device="auto")
    contents = [(holdout / "lomiri-picosdeeuropa_by_Aitzol_Berasategi.jpg", "sky"),
                (holdout / "plasma-summer_1am.jpg", "sky"),
                (holdout / "mate-YellowFlower.jpg", "center")]
    styles = sorted(p for p in STYLES.iterdir() if p.suffix.lower() in (".jpg", ".png"))[:3]
    style_imgs = [load_image(p).rgb for p in styles]
    rows = []
    for path, kind in contents:
        photo = load_image(path).rgb
        s = 768 / max(photo.shape[:2])  # a moderate full-res stand-in keeps the figure quick
        photo = cv2.resize(photo, (round(photo.shape[1] * s), round(photo.shape[0] * s)), interpolation=cv2.INTER_AREA)
        h, w = photo.shape[:2]
        mask = sky_mask(h, w, 0.45) if kind == "sky" else center_mask(h, w)
        row = [tile(photo, "content"), tile((np.dstack([mask] * 3) * 255).astype(np.uint8), "mask")]
        for st in style_imgs:
            row += [tile(st, "style"), tile(model.swap(photo, st), "global swap"),
                    tile(model.region_edit(photo, st, mask), "region (Eq.6)"),
                    tile(apply_regions(model, photo, [RegionEdit(st, mask, 1.0)]), "final export")]
        rows.append(row)
    a = load_image(contents[0][0]).rgb
    s = 768 / max(a.shape[:2])
    a = cv2.resize(a, (round(a.shape[1] * s), round(a.shape[0] * s)), interpolation=cv2.INTER_AREA)
    strip = model.interpolate(a, style_imgs[0], what="style", steps=6)
    rows.append([tile(f, f"style t={i / 5:.1f}") for i, f in enumerate(strip)])
    # The same strip as the editor's interpolation slider shows and exports it: the change from the
    # photo's own-style frame carried to the photo's resolution by the colour transform.
    rows.append([tile(restyle_photo(model, a, style_imgs[0], t), f"export t={t:.1f}")
                 for t in np.linspace(0.0, 1.0, 6)])
    width = max(sum(t.width for t in r) for r in rows)
    sheet = Image.new("RGB", (width, TILE * len(rows)), (255, 255, 255))
    for y, r in enumerate(rows):
        x = 0
        for t in r:
            sheet.paste(t, (x, y * TILE))
            x += t.width
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, quality=88) if out.suffix.lower() in (".jpg", ".jpeg") else sheet.save(out)
    print(f"wrote {out} ({sheet.width}x{sheet.height}) from {model.source}")


if __name__ == "__main__":
    main()
