"""tcp_core.io.imageio: the bad-input corpus (tests/data/bad, made by make_bad_corpus.py), modes,
16-bit, EXIF/ICC, masks, atomic saving and folder scans."""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, ImageOps

from tcp_core.io import files
from tcp_core.io.imageio import (
    ImageLoadError,
    ImageSaveError,
    iter_images,
    load_image,
    load_mask,
    save_image,
    to_uint8,
)

BAD = Path(__file__).resolve().parent / "data" / "bad"


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def test_corpus_is_committed_and_current(tmp_path, monkeypatch):
    """The generator makes exactly the committed set of files (so the corpus can be regenerated);
    the hand-crafted ones byte for byte (encoder outputs may differ across library versions)."""
    sys.path.insert(0, str(BAD.parent))
    try:
        import make_bad_corpus
    finally:
        sys.path.pop(0)
    monkeypatch.setattr(make_bad_corpus, "OUT", tmp_path)
    make_bad_corpus.main()
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == sorted(p.name for p in BAD.iterdir())
    for name in ("bomb_40k.png", "bomb_200k.png", "zero_bytes.jpg", "text_named.jpg", "garbage_after_signature.png"):
        assert (tmp_path / name).read_bytes() == (BAD / name).read_bytes(), name
    assert all((BAD / n).stat().st_size < 16_384 for n in made)  # small on disk, bombs included


# ---------------------------------------------------------------------------------------------
# refused inputs


@pytest.mark.parametrize(
    "name, words",
    [
        ("truncated.jpg", ["truncated or corrupt"]),
        ("truncated.png", ["truncated or corrupt"]),
        ("zero_bytes.jpg", ["empty", "0 bytes"]),
        ("text_named.jpg", ["not an image"]),
        ("garbage_after_signature.png", ["not an image"]),
        ("bomb_40k.png", ["40000x40000", "megapixels", "limit"]),
        ("bomb_200k.png", ["200000x200000", "megapixels", "limit"]),
    ],
)
def test_bad_inputs_give_clear_errors(name, words):
    with pytest.raises(ImageLoadError) as ei:
        load_image(BAD / name)
    msg = str(ei.value)
    assert name in msg  # which file
    for w in words:  # what is wrong
        assert w in msg
    assert msg.rstrip().endswith(".")  # ... and what to do (a sentence follows the colon)
    assert isinstance(ei.value, ValueError)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageLoadError, match="does not exist"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


def test_bomb_is_refused_before_any_decoding(monkeypatch):
    from PIL import ImageFile

    def boom(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", boom)
    with pytest.raises(ImageLoadError, match="40000x40000"):
        load_image(BAD / "bomb_40k.png")
    # Our configurable limit applies to ordinary files too, still before decoding.
    with pytest.raises(ImageLoadError, match="64x48"):
        load_image(BAD / "ok_rgb.png", max_pixels=1000)


def test_our_limit_is_authoritative_over_pils(monkeypatch):
    """A limit raised above PIL's hard bomb limit works, and PIL's global is restored."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # PIL now refuses > 2000 px itself
    img = load_image(BAD / "ok_rgb.png", max_pixels=10_000)
    assert img.rgb.shape == (48, 64, 3)
    assert Image.MAX_IMAGE_PIXELS == 1000
    with pytest.raises(ImageLoadError, match="limit"):
        load_image(BAD / "ok_rgb.png", max_pixels=2_500)


# ---------------------------------------------------------------------------------------------
# valid but awkward inputs


def test_formats_agree():
    ref = load_image(BAD / "ok_rgb.png")
    assert ref.rgb.shape == (48, 64, 3) and ref.rgb.dtype == np.uint8
    assert ref.alpha is None and ref.bit_depth == 8 and ref.rgb.flags.writeable
    for name in ("ok_rgb.webp", "ok_rgb.bmp", "ok_rgb.tif"):
        np.testing.assert_array_equal(load_image(BAD / name).rgb, ref.rgb, err_msg=name)
    jpg = load_image(BAD / "ok_rgb.jpg").rgb.astype(int)
    assert np.abs(jpg - ref.rgb).mean() < 12  # noisy texture, 4:2:0 chroma


def test_one_pixel_gray_and_bilevel():
    one = load_image(BAD / "one_pixel.png")
    assert one.rgb.shape == (1, 1, 3) and tuple(one.rgb[0, 0]) == (10, 200, 30)
    g = load_image(BAD / "gray.jpg").rgb
    assert g.shape == (48, 64, 3)
    assert (g[:, :, 0] == g[:, :, 1]).all() and (g[:, :, 1] == g[:, :, 2]).all()
    b = load_image(BAD / "bilevel.png")
    assert set(np.unique(b.rgb)) <= {0, 255} and b.bit_depth == 1


def test_16bit_gray_scaled_correctly_and_kept():
    ramp = np.round(np.linspace(0, 65535, 64)).astype(np.uint16)
    g8 = load_image(BAD / "gray16.png")
    assert g8.bit_depth == 16 and g8.rgb.dtype == np.uint8
    expect8 = np.round(ramp / 257.0).astype(np.uint8)
    np.testing.assert_array_equal(g8.rgb[0, :, 0], expect8)
    assert g8.rgb.max() == 255  # PIL's own I;16 -> L conversion would clip everything to 255
    g16 = load_image(BAD / "gray16.png", keep_16bit=True)
    assert g16.rgb.dtype == np.uint16
    np.testing.assert_array_equal(g16.rgb[3, :, 1], ramp)
    np.testing.assert_array_equal(g16.rgb8, g8.rgb)


@pytest.mark.parametrize("name", ["rgb16.png", "rgb16.tif"])
def test_16bit_colour(name):
    ramp = np.round(np.linspace(0, 65535, 64)).astype(np.uint16)
    im = load_image(BAD / name, keep_16bit=True)
    assert im.bit_depth == 16 and im.rgb.dtype == np.uint16
    np.testing.assert_array_equal(im.rgb[0, :, 0], ramp)
    np.testing.assert_array_equal(im.rgb[0, :, 1], ramp[::-1])
    assert (im.rgb[:, :, 2] == 4660).all()
    im8 = load_image(BAD / name)
    assert im8.rgb.dtype == np.uint8
    np.testing.assert_array_equal(im8.rgb, to_uint8(im.rgb))


def test_16bit_rgba():
    im = load_image(BAD / "rgba16.png", keep_alpha=True, keep_16bit=True)
    assert im.rgb.dtype == np.uint16 and im.alpha.dtype == np.uint8
    assert (im.alpha == 128).all()
    flat = load_image(BAD / "rgba16.png")  # composited over white
    assert flat.alpha is None
    assert abs(int(flat.rgb[0, 0, 0]) - 128) <= 1  # black at 50% over white


def test_cmyk_jpeg_becomes_rgb():
    im = load_image(BAD / "cmyk.jpg")
    assert im.mode == "CMYK" and im.rgb.shape == (16, 64, 3) and im.icc is None
    expect = [(0, 255, 255), (255, 0, 255), (255, 255, 0), (0, 0, 0)]
    for i, rgb in enumerate(expect):
        block = im.rgb[4:12, i * 16 + 4 : i * 16 + 12].reshape(-1, 3).mean(0)
        assert np.abs(block - rgb).max() < 12, (i, block)


@pytest.mark.parametrize("name", ["animated.gif", "animated.webp"])
def test_animated_first_frame(name):
    im = load_image(BAD / name)
    assert im.n_frames == 3 and im.rgb.shape == (16, 24, 3)
    assert (np.abs(im.rgb.astype(int) - (255, 0, 0)) <= 2).all()


def test_palette_with_transparency():
    im = load_image(BAD / "palette_transparent.png", keep_alpha=True)
    assert (im.alpha[:, :16] == 255).all() and (im.alpha[:, 16:] == 0).all()
    assert (im.rgb[:, :16] == (0, 0, 255)).all()
    flat = load_image(BAD / "palette_transparent.png")
    assert flat.alpha is None and (flat.rgb[:, 16:] == 255).all() and (flat.rgb[:, :16] == (0, 0, 255)).all()


def test_rgba_and_la():
    rgba = load_image(BAD / "rgba.png", keep_alpha=True)
    assert (rgba.alpha[:, :32] == 255).all() and (rgba.alpha[:, 32:] == 0).all()
    assert (load_image(BAD / "rgba.png").rgb[:, 32:] == 255).all()
    la = load_image(BAD / "la.png", keep_alpha=True)
    assert la.rgb.shape == (48, 64, 3) and (la.alpha[:, 32:] == 128).all()


def test_exif_orientation_applied_and_reset():
    im = load_image(BAD / "exif_rotated.jpg")
    assert im.rgb.shape == (40, 20, 3)  # stored 40x20 landscape, displayed 20x40 portrait
    top_right = im.rgb[:6, -6:].reshape(-1, 3).mean(0)
    assert top_right[0] > 200 and top_right[1] < 60, top_right
    assert im.rgb[-6:, :6].mean() > 240  # bottom-left stays white
    ex = Image.Exif()
    ex.load(im.exif)
    assert ex.get(0x0112) == 1
    assert ex.get(0x010F) == "TestCam"
    assert ex.get_ifd(0x8769).get(0x9003) == "2021:10:20 12:34:56"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pil_exif_transpose(tmp_path, orientation):
    rng = np.random.default_rng(orientation)
    arr = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    ex = Image.Exif()
    ex[0x0112] = orientation
    p = tmp_path / "o.png"
    Image.fromarray(arr).save(p, exif=ex.tobytes())
    ref = np.asarray(ImageOps.exif_transpose(Image.open(p)).convert("RGB"))
    np.testing.assert_array_equal(load_image(p).rgb, ref)


def test_unicode_and_non_utf8_names(tmp_path):
    uni = tmp_path / "фото été 😀.png"
    shutil.copy(BAD / "ok_rgb.png", uni)
    assert load_image(uni).rgb.shape == (48, 64, 3)
    assert load_image(str(uni)).rgb.shape == (48, 64, 3)
    raw = os.fsencode(tmp_path) + b"/bad_\xff\xfe_name.png"
    try:
        with open(raw, "wb") as f:
            f.write((BAD / "ok_rgb.png").read_bytes())
    except OSError:
        pytest.skip("this file system refuses non-UTF-8 names")
    assert load_image(raw).rgb.shape == (48, 64, 3)  # bytes path
    assert load_image(os.fsdecode(raw)).rgb.shape == (48, 64, 3)  # str with surrogates
    missing = os.fsencode(tmp_path) + b"/gone_\xff.jpg"
    with pytest.raises(ImageLoadError) as ei:
        load_image(missing)
    str(ei.value).encode("utf-8")  # the message is printable even though the name is not UTF-8
    assert "gone_" in str(ei.value)
    assert [p.name for p in iter_images(tmp_path)] == sorted(
        [os.fsdecode(b"bad_\xff\xfe_name.png"), uni.name], key=lambda n: os.fsencode(n).lower()
    )


# ---------------------------------------------------------------------------------------------
# masks


def test_masks():
    half = load_mask(BAD / "mask_half_size.png", size=(64, 48))
    assert half.shape == (48, 64) and half.dtype == np.float32
    assert half[20:30, 24:40].min() == 1.0 and half[:8].max() == 0.0
    assert (load_mask(BAD / "mask_empty.png", size=(64, 48)) == 0).all()
    assert (load_mask(BAD / "mask_full.png", size=(64, 48)) == 1).all()
    rgba = load_mask(BAD / "mask_rgba.png", size=(64, 48))  # white RGB; the alpha is the mask
    assert rgba[12:36, 16:48].min() == 1.0 and rgba[:12].max() == 0.0
    native = load_mask(BAD / "mask_half_size.png")
    assert native.shape == (24, 32)


def test_mask_modes_and_bad_masks():
    ramp = np.round(np.linspace(0, 65535, 64)) / 65535
    np.testing.assert_allclose(load_mask(BAD / "gray16.png")[5], ramp, atol=1e-6)  # 16-bit gray
    la = load_mask(BAD / "la.png")  # alpha has transparency -> alpha is the mask
    assert (la[:, :32] == 1).all() and np.allclose(la[:, 32:], 128 / 255)
    pal = load_mask(BAD / "palette_transparent.png")
    assert (pal[:, :16] == 1).all() and (pal[:, 16:] == 0).all()
    rgb = load_mask(BAD / "ok_rgb.png")  # colour mask -> luminance
    ref = load_image(BAD / "ok_rgb.png").rgb.astype(np.float32) / 255
    np.testing.assert_allclose(rgb, ref @ np.array([0.299, 0.587, 0.114]), atol=1 / 255 + 1e-6)
    cmyk = load_mask(BAD / "cmyk.jpg")  # general-loader fallback
    assert cmyk.shape == (16, 64) and cmyk[:, 48:].max() < 0.1
    assert load_mask(BAD / "rgb16.png").shape == (16, 64)
    assert load_mask(BAD / "exif_rotated.jpg").shape == (40, 20)  # oriented like the photo
    assert load_mask(BAD / "bilevel.png").max() == 1.0
    for name, words in [
        ("truncated.png", "truncated"),
        ("zero_bytes.jpg", "empty"),
        ("text_named.jpg", "not an image"),
        ("missing.png", "does not exist"),
        ("bomb_40k.png", "megapixels"),
    ]:
        with pytest.raises(ImageLoadError, match=words):
            load_mask(BAD / name, size=(64, 48))


def test_mask_aspect_mismatch_names_both_sizes():
    with pytest.raises(ImageLoadError) as ei:
        load_mask(BAD / "mask_other_aspect.png", size=(64, 48))
    msg = str(ei.value)
    assert "50x50" in msg and "64x48" in msg and "mask_other_aspect.png" in msg


def test_mask_aspect_tolerance(tmp_path):
    p = tmp_path / "m.png"
    Image.fromarray(np.full((481, 640), 255, np.uint8)).save(p)
    assert load_mask(p, size=(640, 480)).shape == (480, 640)  # 0.2% off: resized
    Image.fromarray(np.full((49, 64), 255, np.uint8)).save(p)
    with pytest.raises(ImageLoadError, match="aspect"):
        load_mask(p, size=(64, 48))  # 2% off: painted for another image


# ---------------------------------------------------------------------------------------------
# saving


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp", ".tif"])
def test_save_roundtrip_with_metadata(tmp_path, ext):
    src = load_image(BAD / "exif_rotated.jpg")
    icc = srgb_icc()
    out = tmp_path / f"out{ext}"
    save_image(out, src.rgb, exif=src.exif, icc=icc, quality=95)
    back = load_image(out)
    assert back.rgb.shape == src.rgb.shape
    assert np.abs(back.rgb.astype(int) - src.rgb).mean() < (0.01 if ext in (".png", ".tif") else 4)
    assert back.icc == icc
    ex = Image.Exif()
    ex.load(back.exif)
    assert ex.get(0x0112) == 1 and ex.get(0x010F) == "TestCam"


def test_save_resets_orientation(tmp_path):
    ex = Image.Exif()
    ex[0x0112] = 6
    ex[0x010F] = "Cam"
    rgb = np.zeros((4, 6, 3), np.uint8)
    save_image(tmp_path / "a.jpg", rgb, exif=ex.tobytes())
    got = Image.open(tmp_path / "a.jpg").getexif()
    assert got.get(0x0112) == 1 and got.get(0x010F) == "Cam"
    assert load_image(tmp_path / "a.jpg").rgb.shape == (4, 6, 3)  # not rotated again


def test_save_16bit_png_with_metadata(tmp_path):
    im = load_image(BAD / "rgb16.png", keep_16bit=True)
    ex = Image.Exif()
    ex[0x010F] = "Cam16"
    icc = srgb_icc()
    out = tmp_path / "o16.png"
    save_image(out, im.rgb, exif=ex.tobytes(), icc=icc)
    back = load_image(out, keep_16bit=True)
    np.testing.assert_array_equal(back.rgb, im.rgb)
    assert back.icc == icc and Image.open(out).getexif().get(0x010F) == "Cam16"
    save_image(tmp_path / "o16.tif", im.rgb)
    np.testing.assert_array_equal(load_image(tmp_path / "o16.tif", keep_16bit=True).rgb, im.rgb)
    save_image(tmp_path / "o8.jpg", im.rgb)  # reduced to 8 bits for JPEG
    assert load_image(tmp_path / "o8.jpg").bit_depth == 8


def test_save_alpha(tmp_path):
    rgba = load_image(BAD / "rgba.png", keep_alpha=True)
    save_image(tmp_path / "a.png", rgba.rgb, alpha=rgba.alpha)
    back = load_image(tmp_path / "a.png", keep_alpha=True)
    np.testing.assert_array_equal(back.alpha, rgba.alpha)
    np.testing.assert_array_equal(back.rgb[:, :32], rgba.rgb[:, :32])
    save_image(tmp_path / "a.jpg", rgba.rgb, alpha=rgba.alpha)  # JPEG: composited over white
    assert load_image(tmp_path / "a.jpg").rgb[:, 40:].min() > 240


def test_save_refuses_to_overwrite_original(tmp_path):
    orig = tmp_path / "photo.jpg"
    shutil.copy(BAD / "ok_rgb.jpg", orig)
    before = orig.read_bytes()
    rgb = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(ImageSaveError, match="original"):
        save_image(orig, rgb, overwrite_protect=orig)
    with pytest.raises(ImageSaveError, match="original"):
        save_image(tmp_path / "sub" / ".." / "photo.jpg", rgb, overwrite_protect=orig)
    link = tmp_path / "link.jpg"
    link.symlink_to(orig)
    with pytest.raises(ImageSaveError, match="original"):
        save_image(link, rgb, overwrite_protect=orig)
    assert orig.read_bytes() == before
    save_image(tmp_path / "other.jpg", rgb, overwrite_protect=orig)  # any other name is fine


def test_save_is_atomic_on_encoder_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    save_image(target, np.full((8, 8, 3), 7, np.uint8))
    before = target.read_bytes()

    import tcp_core.io.saving as saving

    real_write_png8 = saving.write_png8

    def failing_png(f, *a, **k):  # the disk fills up half way through the PNG
        real_write_png8(io.BytesIO(), *a, **k)
        f.write(b"\x89PNG partial garbage")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(saving, "write_png8", failing_png)
    with pytest.raises(ImageSaveError, match="No space left"):
        save_image(target, np.zeros((8, 8, 3), np.uint8))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]  # no temp file left behind

    def failing_plain(self, fp, *a, **k):
        fp.write(b"partial")
        raise ValueError("encoder exploded")

    monkeypatch.setattr(Image.Image, "save", failing_plain)
    with pytest.raises(ImageSaveError, match="encoder exploded"):
        save_image(tmp_path / "new.webp", np.zeros((8, 8, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


def test_save_errors(tmp_path):
    rgb = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ImageSaveError, match="extension"):
        save_image(tmp_path / "x.gif", rgb)
    with pytest.raises(ImageSaveError, match="does not exist"):
        save_image(tmp_path / "no" / "x.png", rgb)
    with pytest.raises(ImageSaveError, match="HxWx3"):
        save_image(tmp_path / "x.png", np.zeros((4, 4), np.uint8))


def test_save_keeps_file_mode_and_umask(tmp_path):
    p = tmp_path / "x.png"
    save_image(p, np.zeros((2, 2, 3), np.uint8))
    assert p.stat().st_mode & 0o777 == 0o666 & ~files._UMASK
    os.chmod(p, 0o640)
    save_image(p, np.ones((2, 2, 3), np.uint8))
    assert p.stat().st_mode & 0o777 == 0o640


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    deep=st.booleans(),
    alpha=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_png_roundtrip_property(tmp_path, h, w, deep, alpha, seed):
    rng = np.random.default_rng(seed)
    dt = np.uint16 if deep else np.uint8
    rgb = rng.integers(0, np.iinfo(dt).max + 1, (h, w, 3), dtype=np.uint64).astype(dt)
    a = rng.integers(0, 256, (h, w), dtype=np.uint8) if alpha else None
    p = tmp_path / "p.png"
    save_image(p, rgb, alpha=a)
    back = load_image(p, keep_alpha=True, keep_16bit=True)
    np.testing.assert_array_equal(back.rgb, rgb)
    if alpha and a.min() < 255:
        np.testing.assert_array_equal(back.alpha, a)


# ---------------------------------------------------------------------------------------------
# folders


def test_iter_images(tmp_path):
    for rel in ["b.JPG", "a.png", "c.TiFF", "notes.txt", ".hidden.png", "sub/d.webp", "sub/e.bmp", ".git/x.png"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    rec = [p.relative_to(tmp_path).as_posix() for p in iter_images(tmp_path)]
    assert rec == ["a.png", "b.JPG", "c.TiFF", "sub/d.webp", "sub/e.bmp"]
    flat = [p.name for p in iter_images([tmp_path], recursive=False)]
    assert flat == ["a.png", "b.JPG", "c.TiFF"]
    both = list(iter_images([tmp_path / "sub", tmp_path / "a.png", tmp_path / "sub"]))
    assert [p.name for p in both] == ["a.png", "d.webp", "e.bmp"]
    assert list(iter_images(tmp_path / "missing")) == []


def test_remove_stale_temp_files_only_old_ones_of_that_target(tmp_path):
    import os
    import time

    from tcp_core.io.imageio import atomic_write, remove_stale_temp_files

    target = tmp_path / "autosave.tcpproj"
    atomic_write(target, lambda f: f.write(b"ok"))
    old = tmp_path / ".autosave.tcpproj.abc.part"
    fresh = tmp_path / ".autosave.tcpproj.def.part"
    other = tmp_path / ".other.png.ghi.part"
    for p in (old, fresh, other):
        p.write_bytes(b"half")
    t = time.time() - 3600
    os.utime(old, (t, t))
    os.utime(other, (t, t))
    assert remove_stale_temp_files(target, older_than_s=60) == [old]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, fresh.name, other.name])
    assert target.read_bytes() == b"ok"
    assert remove_stale_temp_files(tmp_path / "missing-folder" / "x.png") == []
