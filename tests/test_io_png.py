"""PNG output of tcp_core.io (issue #14 start-up work): the two encoders (8-bit through
`tcp_core.io.png`, 16-bit through OpenCV with spliced metadata chunks) give the same pixels and
the same ICC/EXIF as read back by PIL; metadata chunks sit before the image data; the compression level is the one
chosen; masks decode to exactly what the previous (multiply + clip + astype) code gave."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from tcp_core.io.imageio import load_image, load_mask, save_image
from tcp_core.io.png import adler32_combine, filter_rows, write_png8
from tcp_core.io.saving import PNG_COMPRESS_LEVEL


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_bytes(orientation: int = 1) -> bytes:
    ex = Image.Exif()
    ex[0x010F] = "TCP Cam"
    ex[0x0110] = "Model 20"
    ex[0x0132] = "2026:12:03 10:00:00"
    ex[0x0112] = orientation
    return ex.tobytes()


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every chunk, checking each CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        out.append((kind, body))
        pos += 12 + n
    return out


def photo(h: int = 37, w: int = 53, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:h, :w]
    base = np.stack([x * 255 // max(1, w - 1), y * 255 // max(1, h - 1), (x + y) % 256], -1)
    return np.clip(base + rng.integers(-20, 21, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("alpha", [False, True])
def test_16bit_and_8bit_png_paths_give_the_same_pixels_and_metadata(tmp_path, alpha):
    rgb8 = photo()
    a8 = (np.arange(rgb8.shape[0] * rgb8.shape[1]).reshape(rgb8.shape[:2]) % 256).astype(np.uint8) if alpha else None
    icc, exif = srgb_icc(), exif_bytes()
    p8, p16 = tmp_path / "pil.png", tmp_path / "cv.png"
    save_image(p8, rgb8, alpha=a8, exif=exif, icc=icc)  # PIL's encoder
    save_image(p16, rgb8.astype(np.uint16) * 257, alpha=a8, exif=exif, icc=icc)  # OpenCV's + spliced chunks
    with Image.open(p8) as i8, Image.open(p16) as i16:
        assert i8.info.get("icc_profile") == i16.info.get("icc_profile") == icc
        e8, e16 = dict(i8.getexif()), dict(i16.getexif())
        assert e8 == e16 and e8[0x010F] == "TCP Cam" and e8.get(0x0112, 1) == 1
    b8 = load_image(p8, keep_alpha=True)
    b16 = load_image(p16, keep_alpha=True, keep_16bit=True)
    assert b16.bit_depth == 16 and b16.rgb.dtype == np.uint16
    np.testing.assert_array_equal(b8.rgb, rgb8)
    np.testing.assert_array_equal(b16.rgb8, rgb8)
    np.testing.assert_array_equal(b16.rgb, rgb8.astype(np.uint16) * 257)
    if alpha:
        np.testing.assert_array_equal(b8.alpha, a8)
        np.testing.assert_array_equal(b16.alpha, a8)
    assert b8.icc == b16.icc == icc
    assert b8.exif is not None and b8.exif == b16.exif  # what load_image hands on: the same EXIF
    for p in (p8, p16):  # metadata chunks before the image data, every CRC right
        kinds = [k for k, _ in png_chunks(p.read_bytes())]
        assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
        assert kinds.index(b"iCCP") < kinds.index(b"IDAT") and kinds.index(b"eXIf") < kinds.index(b"IDAT")


@pytest.mark.parametrize("deep", [False, True])
def test_png_is_written_at_the_chosen_compression_level(tmp_path, deep):
    rgb = photo(64, 80, seed=3)
    if deep:
        rgb = rgb.astype(np.uint16) * 257 + 3
    p = tmp_path / "o.png"
    save_image(p, rgb)
    idat = b"".join(b for k, b in png_chunks(p.read_bytes()) if k == b"IDAT")
    flevel = idat[1] >> 6  # zlib header FLEVEL: 0 fastest (level 1), 1 fast (2-5), 2 default (6), 3 best
    assert PNG_COMPRESS_LEVEL == 2 and flevel == 1
    back = load_image(p, keep_16bit=True)
    np.testing.assert_array_equal(back.rgb, rgb)


@pytest.mark.parametrize("kind", ["L", "LA", "RGBA", "I;16", "P"])
def test_mask_values_are_exactly_those_of_before(tmp_path, kind):
    rng = np.random.default_rng(7)
    h, w = 30, 40
    v8 = rng.integers(0, 256, (h, w)).astype(np.uint8)
    if kind == "L":
        im, ref = Image.fromarray(v8, "L"), v8.astype(np.float32) * np.float32(1 / 255)
    elif kind == "LA":
        a = v8.copy()
        a[0, 0] = 0
        im = Image.merge("LA", [Image.fromarray(255 - v8, "L"), Image.fromarray(a, "L")])
        ref = a.astype(np.float32) * np.float32(1 / 255)
    elif kind == "RGBA":
        a = v8.copy()
        a[0, 0] = 3
        im = Image.fromarray(np.dstack([v8, v8, v8, a]), "RGBA")
        ref = a.astype(np.float32) * np.float32(1 / 255)
    elif kind == "I;16":
        v16 = rng.integers(0, 65536, (h, w)).astype(np.uint16)
        im = Image.fromarray(v16)
        assert im.mode == "I;16"
        c = v16.astype(np.float32) / 65535.0  # 16-bit PNG: the general loader's RGB, then luma
        ref = 0.299 * c + 0.587 * c + 0.114 * c
    else:
        im = Image.fromarray(v8, "L").convert("P")
        ref = np.asarray(im.convert("L")).astype(np.float32) * np.float32(1 / 255)
    p = tmp_path / "m.png"
    im.save(p)
    m = load_mask(p)
    assert m.dtype == np.float32 and m.flags.writeable and m.flags.c_contiguous
    np.testing.assert_array_equal(m, np.clip(ref, 0.0, 1.0).astype(np.float32))
    np.testing.assert_array_equal(load_mask(p, size=(w, h)), m)


def test_mask_orientation_is_applied(tmp_path):
    v = np.zeros((20, 30), np.uint8)
    v[0, :5] = 255
    ex = Image.Exif()
    ex[0x0112] = 6  # rotate 90 degrees clockwise for display
    p = tmp_path / "m.jpg"
    Image.fromarray(v, "L").save(p, exif=ex.tobytes(), quality=100)
    m = load_mask(p)
    assert m.shape == (30, 20) and m[:5, -1].min() > 0.9 and m[:, 0].max() < 0.1


# ---------------------------------------------------------------------------------------------
# tcp_core.io.png: the 8-bit encoder (filters chosen with numpy, deflate in parallel strips)


def test_adler32_combine_matches_zlib():
    rng = np.random.default_rng(1)
    for n1, n2 in [(0, 0), (0, 5), (7, 0), (1, 1), (100, 70_000), (65_521, 65_522), (200_000, 3)]:
        a = rng.integers(0, 256, n1, dtype=np.uint8).tobytes()
        b = rng.integers(0, 256, n2, dtype=np.uint8).tobytes()
        assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


@pytest.mark.parametrize("h, w, c, threads", [(1, 1, 3, None), (1, 9, 4, 4), (5, 1, 3, 2), (37, 53, 3, None),
                                               (700, 611, 3, 3), (513, 300, 4, 2), (1100, 1000, 3, 4)])
def test_png8_decodes_to_the_same_pixels_with_any_number_of_strips(h, w, c, threads):
    """PIL and OpenCV (libpng) read back the exact pixels, whether the deflate ran in one strip or
    several (1100x1000 noise: several IDAT chunks of at most 1 MiB)."""
    import io

    import cv2

    rgb = photo(h, w, seed=h + w)
    pixels = rgb if c == 3 else np.dstack([rgb, (np.arange(h * w).reshape(h, w) % 251).astype(np.uint8)])
    if h * w > 1_000_000:
        pixels = np.random.default_rng(2).integers(0, 256, pixels.shape, dtype=np.uint8)
    outs = []
    for t in (1, threads):
        buf = io.BytesIO()
        write_png8(buf, pixels, level=PNG_COMPRESS_LEVEL, threads=t)
        data = buf.getvalue()
        kinds = [k for k, _ in png_chunks(data)]  # every CRC checked
        assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
        with Image.open(io.BytesIO(data)) as im:
            assert im.mode == ("RGB" if c == 3 else "RGBA")
            np.testing.assert_array_equal(np.asarray(im), pixels)
        back = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        back = back.reshape(h, w, c)[:, :, [2, 1, 0, 3][:c]]
        np.testing.assert_array_equal(back, pixels)
        outs.append(data)
    if h * w > 1_000_000:
        assert sum(k == b"IDAT" for k, _ in png_chunks(outs[0])) > 1


def test_png8_picks_sub_or_up_per_row():
    """Each row gets the filter that leaves less to compress: Sub along a horizontal ramp, Up where
    a row repeats the one above (and the row above the image counts as zeros)."""
    ramp = np.tile(np.arange(0, 240, 2, dtype=np.uint8)[None, :, None], (4, 1, 3))  # rows equal, values rise
    lines = filter_rows(ramp.reshape(4, -1), None, 3)
    assert list(lines[:, 0]) == [1, 2, 2, 2]  # Sub for the first row (the one above is zeros), then Up
    assert not lines[1:, 1:].any()
    np.testing.assert_array_equal(lines[0, 4:], 2)  # Sub: +2 per pixel
