"""Generate the corpus of awkward and bad image inputs in tests/data/bad/ (deterministic).

Run from anywhere: `python tests/data/make_bad_corpus.py`. Every file is small (a few KB at
most); the expected result for each is asserted in tests/test_imageio.py. Files whose *names*
are the point (unicode and non-UTF-8 names) are made by the tests in a temp folder from
`ok_rgb.png`, so the repository itself holds only ASCII names.
"""

from __future__ import annotations

import io
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

OUT = Path(__file__).resolve().parent / "bad"


def textured(w: int, h: int, seed: int = 0) -> np.ndarray:
    """A small photo-like RGB image: gradients plus structured texture (compresses poorly enough
    that truncating it cuts real image data)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    r = 128 + 80 * np.sin(x / 5.0) * np.cos(y / 7.0)
    g = 255 * x / max(w - 1, 1)
    b = 255 * y / max(h - 1, 1)
    img = np.stack([r, g, b], -1) + rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height RGB pixels (IDAT holds almost nothing)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def main() -> int:
    import cv2

    OUT.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    rgb = textured(64, 48)

    # --- refused inputs -------------------------------------------------------------------
    jpg = encode(Image.fromarray(rgb), "JPEG", quality=95)
    files["truncated.jpg"] = jpg[: len(jpg) // 2]
    png = encode(Image.fromarray(rgb), "PNG")
    files["truncated.png"] = png[: len(png) // 2]
    files["zero_bytes.jpg"] = b""
    files["text_named.jpg"] = b"This is a text file, not a JPEG.\nIt was renamed by mistake.\n"
    files["garbage_after_signature.png"] = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
    files["bomb_40k.png"] = bomb_png(40_000, 40_000)  # 1.6 gigapixels claimed; ~100 bytes on disk
    files["bomb_200k.png"] = bomb_png(200_000, 200_000)  # beyond even PIL's own hard limit

    # --- awkward but valid inputs -----------------------------------------------------------
    files["ok_rgb.png"] = png
    files["ok_rgb.jpg"] = jpg
    files["ok_rgb.webp"] = encode(Image.fromarray(rgb), "WEBP", lossless=True)
    files["ok_rgb.bmp"] = encode(Image.fromarray(rgb), "BMP")
    files["ok_rgb.tif"] = encode(Image.fromarray(rgb), "TIFF", compression="tiff_adobe_deflate")
    files["one_pixel.png"] = encode(Image.new("RGB", (1, 1), (10, 200, 30)), "PNG")
    files["gray.jpg"] = encode(Image.fromarray(rgb[:, :, 1]), "JPEG", quality=95)
    files["bilevel.png"] = encode(Image.fromarray(rgb[:, :, 1] > 127), "PNG")

    # 16-bit: a horizontal ramp 0..65535 (gray) and a colour ramp (written by OpenCV: PIL cannot).
    ramp = np.round(np.linspace(0, 65535, 64)).astype(np.uint16)
    gray16 = np.tile(ramp, (16, 1))
    files["gray16.png"] = cv2.imencode(".png", gray16)[1].tobytes()
    rgb16 = np.stack([np.tile(ramp, (16, 1)), np.tile(ramp[::-1], (16, 1)), np.full((16, 64), 4660, np.uint16)], -1)
    files["rgb16.png"] = cv2.imencode(".png", np.ascontiguousarray(rgb16[:, :, ::-1]))[1].tobytes()
    files["rgb16.tif"] = cv2.imencode(".tif", np.ascontiguousarray(rgb16[:, :, ::-1]))[1].tobytes()
    rgba16 = np.dstack([rgb16, np.full((16, 64), 32768, np.uint16)])
    files["rgba16.png"] = cv2.imencode(".png", np.ascontiguousarray(rgba16[:, :, [2, 1, 0, 3]]))[1].tobytes()

    # CMYK JPEG: four blocks of pure C, M, Y, K.
    cmyk = np.zeros((16, 64, 4), np.uint8)
    for i in range(4):
        cmyk[:, i * 16 : (i + 1) * 16, i] = 255
    files["cmyk.jpg"] = encode(Image.fromarray(cmyk, "CMYK"), "JPEG", quality=100)

    # Animated GIF / WebP: red, green, blue frames; the first frame (red) is the one loaded.
    frames = [Image.new("RGB", (24, 16), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    files["animated.gif"] = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    files["animated.webp"] = encode(
        frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0, lossless=True
    )

    # Palette PNG with a transparent index: left half opaque blue, right half transparent.
    pal = Image.new("P", (32, 16), 0)
    pal.putpalette([0, 0, 255, 255, 0, 0] + [0, 0, 0] * 254)
    pal.paste(1, (16, 0, 32, 16))
    files["palette_transparent.png"] = encode(pal, "PNG", transparency=1)

    # RGBA and LA with a half-transparent column block.
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    rgba[:, 32:, 3] = 0
    rgba[:, 32:, :3] = (0, 0, 0)
    files["rgba.png"] = encode(Image.fromarray(rgba, "RGBA"), "PNG")
    la = np.dstack([rgb[:, :, 1], np.where(np.arange(64) < 32, 255, 128).astype(np.uint8)[None].repeat(48, 0)])
    files["la.png"] = encode(Image.fromarray(la, "LA"), "PNG")

    # EXIF orientation 6 (rotate 90 CW to display): stored 40 wide x 20 high, a red block at the
    # stored top-left corner. Displayed: 20 wide x 40 high, the red block at the top-right.
    stored = np.full((20, 40, 3), 255, np.uint8)
    stored[:6, :6] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCam"
    exif.get_ifd(0x8769)[0x9003] = "2021:10:20 12:34:56"
    files["exif_rotated.jpg"] = encode(Image.fromarray(stored), "JPEG", quality=95, exif=exif.tobytes())

    # Masks for ok_rgb.png (64x48): same aspect at another size, another aspect, empty, full, RGBA.
    m = np.zeros((24, 32), np.uint8)
    m[6:18, 8:24] = 255
    files["mask_half_size.png"] = encode(Image.fromarray(m), "PNG")
    files["mask_other_aspect.png"] = encode(Image.fromarray(np.full((50, 50), 255, np.uint8)), "PNG")
    files["mask_empty.png"] = encode(Image.fromarray(np.zeros((48, 64), np.uint8)), "PNG")
    files["mask_full.png"] = encode(Image.fromarray(np.full((48, 64), 255, np.uint8)), "PNG")
    ma = np.zeros((48, 64, 4), np.uint8)
    ma[..., :3] = 255  # white everywhere: only the alpha channel says where the mask is
    ma[12:36, 16:48, 3] = 255
    files["mask_rgba.png"] = encode(Image.fromarray(ma, "RGBA"), "PNG")

    for name, data in sorted(files.items()):
        (OUT / name).write_bytes(data)
    total = sum(len(d) for d in files.values())
    print(f"wrote {len(files)} files, {total / 1024:.1f} KiB, to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
