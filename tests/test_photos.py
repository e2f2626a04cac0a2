"""tcp_core.data.photos and the trainer's pipeline on it (tcp_core.data.stream): folder scan, robust
decoding, random crops, reproducible batches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tcp_core.data.photos import scan_images
from tcp_core.data.stream import PhotoStore, make_batch


def _noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.kron(base, np.ones((8, 8, 1), np.uint8))[:h, :w])


def _touch_img(path: Path, size=(40, 36)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(_noise(size[1], size[0])).save(path, format="PNG" if path.suffix.lower() == ".png" else
                                                   "JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else None)
    return path


# ----------------------------------------------------------------------------------------------
# scan_images
# ----------------------------------------------------------------------------------------------


def test_scan_nested_mixed_case(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    want = [
        _touch_img(a / "x.JPG"),
        _touch_img(a / "sub" / "y.png"),
        _touch_img(a / "sub" / "deeper" / "z.Jpeg"),
        _touch_img(b / "w.PNG"),
    ]
    for name in ("t.TIF", "u.webp", "v.Bmp"):
        (a / "sub" / name).write_bytes(b"not checked by the scan")
        want.append(a / "sub" / name)
    (a / "notes.txt").write_text("x")
    (a / "sub" / "photo.jpg.bak").write_text("x")
    (a / "._x.jpg").write_bytes(b"macOS resource fork")
    _touch_img(a / ".thumbs" / "hidden.jpg")

    got = scan_images([a, b])
    assert got == sorted(want, key=str)
    assert scan_images(str(b)) == [b / "w.PNG"]  # one folder as a plain string
    assert scan_images([a / "x.JPG"]) == [a / "x.JPG"]  # a file is taken as is


def test_scan_empty_and_missing_are_clear_errors(tmp_path):
    empty = tmp_path / "empty_folder"
    (empty / "nested").mkdir(parents=True)
    (empty / "readme.txt").write_text("no photos")
    with pytest.raises(ValueError, match="empty_folder"):
        scan_images([empty])
    with pytest.raises(ValueError, match="not_there"):
        scan_images([tmp_path / "not_there"])
    with pytest.raises(ValueError, match="empty_folder"):
        PhotoStore([empty], 32)


# ----------------------------------------------------------------------------------------------
# decoding: bad files skipped, every mode to RGB
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def mixed_folder(tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    # good: plain RGB JPEG, larger than the stored size at resolution 32 (short side 512)
    Image.fromarray(_noise(600, 900)).save(d / "big.jpg", quality=90)
    # bad: truncated JPEG
    buf = d / "full.tmp"
    Image.fromarray(_noise(120, 160, 1)).save(buf, format="JPEG", quality=95)
    data = buf.read_bytes()
    buf.unlink()
    (d / "truncated.jpg").write_bytes(data[: len(data) // 2])
    # bad: a text file named .jpg
    (d / "notes.jpg").write_text("this is not an image\n")
    # good: RGBA PNG, left half fully transparent
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, 32:, 3] = 255
    Image.fromarray(rgba, "RGBA").save(d / "alpha.png")
    # good: CMYK JPEG, pure red ink (C=0, M=Y=255, K=0)
    Image.new("CMYK", (64, 48), (0, 255, 255, 0)).save(d / "cmyk.jpg", quality=95)
    # good: 16-bit grey PNG at half range
    Image.fromarray(np.full((48, 64), 32768, np.uint16)).save(d / "grey16.png")
    # good: palette PNG
    pal = Image.new("P", (64, 48), 1)
    pal.putpalette([0, 0, 0, 10, 200, 30] + [0] * (256 * 3 - 6))
    pal.save(d / "palette.png")
    # good: JPEG with EXIF orientation 6 (stored 80x40 landscape, shown 40x80 portrait)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(_noise(40, 80, 2)).save(d / "rotated.jpg", exif=exif.tobytes())
    # good: 8-bit greyscale
    Image.fromarray(np.full((48, 64), 77, np.uint8), "L").save(d / "grey8.png")
    return d


def test_mixed_folder_skips_bad_and_converts_good(mixed_folder):
    store = PhotoStore([mixed_folder], 32)  # a small set: every file is decoded (checked) up front

    skipped = {Path(p).name: why for p, why in store.skipped}
    assert set(skipped) == {"truncated.jpg", "notes.jpg"}
    assert all(isinstance(why, str) and why for why in skipped.values())

    names = [p.name for p in store.paths]
    assert names == sorted(["alpha.png", "big.jpg", "cmyk.jpg", "grey16.png", "grey8.png", "palette.png",
                            "rotated.jpg"])
    photos = {name: store[i] for i, name in enumerate(names)}
    for arr in photos.values():
        assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[2] == 3 and arr.flags.c_contiguous

    # stored downscaled: short side max(3 * 32, 512) = 512, aspect kept
    assert photos["big.jpg"].shape == (512, 768, 3)
    # EXIF orientation applied
    assert photos["rotated.jpg"].shape == (80, 40, 3)
    # 16-bit scaled, not clipped
    assert abs(int(photos["grey16.png"].mean()) - 128) <= 2
    # CMYK -> red
    r, g, b = photos["cmyk.jpg"].reshape(-1, 3).mean(0)
    assert r > 200 and g < 60 and b < 60
    # palette -> its RGB colour
    assert np.abs(photos["palette.png"].reshape(-1, 3).mean(0) - [10, 200, 30]).max() < 2
    assert np.all(photos["grey8.png"] == 77)
    # RGBA: opaque half keeps its colour, output has 3 channels
    assert np.all(photos["alpha.png"][:, 40:, 0] == 200)

    x = make_batch(store, 0, 0, 0, 8, 32, (0.25, 1.0))
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32
    assert x.shape == (8, 3, 32, 32)
    assert -1.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert float(x.max()) > -1.0  # not all black


def test_no_readable_image_is_a_clear_error(tmp_path):
    d = tmp_path / "broken"
    d.mkdir()
    (d / "a.jpg").write_text("nope")
    (d / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(ValueError, match="could be read"):
        PhotoStore([d], 32)


def test_folders_combine_and_tiny_images_skipped(tmp_path):
    _touch_img(tmp_path / "domain_a" / "a.png", (64, 48))
    _touch_img(tmp_path / "domain_b" / "b.jpg", (50, 70))
    _touch_img(tmp_path / "domain_b" / "icon.png", (16, 16))
    store = PhotoStore([tmp_path / "domain_a", tmp_path / "domain_b"], 16)
    assert [p.name for p in store.paths] == ["a.png", "b.jpg"]
    assert [Path(p).name for p, _ in store.skipped] == ["icon.png"]
    assert "too small" in store.skipped[0][1]
    assert len(store) == 2


# ----------------------------------------------------------------------------------------------
# determinism: a batch is a pure function of (seed, rank, step)
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def small_set(tmp_path):
    for i in range(3):
        Image.fromarray(_noise(90 + 10 * i, 130, seed=10 + i)).save(tmp_path / f"p{i}.png")
    return tmp_path


def test_batches_are_reproducible_and_differ_by_seed_rank_and_step(small_set):
    a = PhotoStore([small_set], 24)
    b = PhotoStore([small_set], 24)
    for step in (0, 1, 7):
        assert torch.equal(make_batch(a, 5, 0, step, 4, 24, (0.5, 1.0)), make_batch(b, 5, 0, step, 4, 24, (0.5, 1.0)))
    first = make_batch(a, 5, 0, 0, 4, 24, (0.5, 1.0))
    assert not torch.equal(first, make_batch(a, 6, 0, 0, 4, 24, (0.5, 1.0)))  # another seed
    assert not torch.equal(first, make_batch(a, 5, 1, 0, 4, 24, (0.5, 1.0)))  # another rank
    assert not torch.equal(first, make_batch(a, 5, 0, 1, 4, 24, (0.5, 1.0)))  # the next step
