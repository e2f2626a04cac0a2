"""tcp_core.editing.apply: the headless pipeline (crops, successive edits, global mode, 16-bit) with a
deterministic fake model and the real tiny TCPModel, and the `apply` / `interpolate` CLI (tcp_core.editing.cli)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from tcp_core.editing.apply import INSIDE_GROW_REF_PX, apply_regions, interpolate_images, working_shape
from tcp_core.editing.cli import main
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.masks import auto_feather_px, feather_reach, grow_mask
from tcp_core.editing.regions import RegionEdit
from tcp_core.io.imageio import LoadedImage, load_image

BAD = Path(__file__).resolve().parent / "data" / "bad"
SHIFT = np.array([24.0, -18.0, 12.0])


class FakeModel:
    """Stands in for TCPModel: region_edit shifts the colours under the mask, swap everywhere.
    Records what the network was given."""

    config = SimpleNamespace(resolution=32, enc_channels=(8, 16), name="fake")

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def region_edit(self, content, style, mask, strength=1.0):
        self.calls.append(("region", content.copy(), style.shape, np.asarray(mask).copy(), strength))
        m = np.asarray(mask, np.float32)[..., None]
        return np.clip(content + SHIFT * strength * m, 0, 255).astype(np.uint8)

    def own_style_edit(self, content, mask):  # the export's reference: the region edit at strength 0
        return self.region_edit(content, content, mask, 0.0)

    def swap(self, content, style, strength=1.0):
        self.calls.append(("swap", content.copy(), style.shape, None, strength))
        return np.clip(content + SHIFT * strength, 0, 255).astype(np.uint8)

    def interpolate(self, a, b, what="style", steps=5):
        self.calls.append(("interpolate", a.shape, b.shape, what, steps))
        return [np.clip(a * (1 - t) + b * t, 0, 255).astype(np.uint8) for t in np.linspace(0, 1, steps)]


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([100 + 50 * x / w, 120 + 40 * y / h, 130 - 30 * x / w], -1)
    img = base + 20 * np.sin(x / 7.0)[..., None] * np.cos(y / 11.0)[..., None] + rng.normal(0, 10, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def disk(h: int, w: int, cx: int, cy: int, r: int) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    cv2.circle(m, (cx, cy), r, 1.0, -1)
    return m


def dilate(mask: np.ndarray, px: int) -> np.ndarray:
    return cv2.dilate((mask > 0).astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)).astype(bool)


def erode(mask: np.ndarray, px: int) -> np.ndarray:
    return cv2.erode((mask > 0.5).astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)).astype(bool)


def photo_of(rgb: np.ndarray) -> LoadedImage:
    return LoadedImage(rgb=rgb, alpha=None, exif=None, icc=None, path=Path("mem.png"), bit_depth=8)


# ---------------------------------------------------------------------------------------------
# pipeline


def test_small_region_is_edited_on_a_crop_and_nothing_else_changes():
    h, w = 480, 640
    rgb = textured(h, w)
    mask = disk(h, w, 120, 110, 30)
    fake = FakeModel()
    # colour priming off: the fake network's shift must come through exactly (tests/test_priming.py has priming)
    out = apply_regions(fake, photo_of(rgb), [RegionEdit(rgb, mask, 1.0)], ExportConfig(priming=0), feather_px=4)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    _, content, style_shape, lo_mask, strength = fake.calls[0]
    # The network saw a crop around the region at its working size: the region fills a good part
    # of the network's view (on the whole 640x480 image it would be ~1% of it).
    assert min(content.shape[:2]) == 32 and lo_mask.shape == content.shape[:2]
    assert lo_mask.mean() > 0.15
    assert max(style_shape[:2]) <= 64  # the style reference was shrunk once, not sent full size
    unchanged = ~dilate(mask, feather_reach(4, True) + 1)  # (the photo-guided feather reaches twice as far)
    np.testing.assert_array_equal(out[unchanged], rgb[unchanged])
    core = erode(mask, 8)
    shift = out[core].astype(float).mean(0) - rgb[core].astype(float).mean(0)
    assert np.abs(shift - SHIFT).max() < 3, shift
    # Detail inside the region comes from the full-res photo, not the 32-px network output.
    assert np.abs(out[core].astype(float) - rgb[core] - SHIFT).mean() < 3


def test_inside_feather_and_wide_feather_on_a_crop():
    h, w = 300, 400
    rgb = textured(h, w)
    mask = disk(h, w, 200, 150, 25)
    out = apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(rgb, mask, 1.0)], ExportConfig(edge="inside"))
    np.testing.assert_array_equal(out[mask == 0], rgb[mask == 0])  # nothing outside the mask changes

    # A feather wider than the crop's context margin is not cut off at the crop border (a seam):
    # with a network edit that spills beyond the mask, the feathered mask alone shapes the fade.
    class Spill(FakeModel):
        def region_edit(self, content, style, mask, strength=1.0):
            return np.clip(content + SHIFT * strength, 0, 255).astype(np.uint8)

    wide = apply_regions(Spill(), photo_of(rgb), [RegionEdit(rgb, mask, 1.0)],
                         ExportConfig(guided_feather=False), feather_px=40)
    d = np.abs(wide.astype(float) - rgb).sum(axis=2)
    ring = np.array([d[150, 200 + r] for r in range(0, 70, 5)])
    assert ring[0] > 40 and ring[-1] == 0 and ring[8] >= 3  # still fading 40 px out (the bare crop ends at 39)
    assert (np.diff(ring) <= 6).all()  # monotone fade, up to texture noise
    assert np.abs(np.diff(ring)).max() < 15  # no step
    assert not d[~dilate(mask, 41)].any()
    # the photo-guided feather (default) reaches up to twice its radius out where the photo is smooth, and the
    # crop makes room for it: the fade ends before the crop would cut it
    flat = np.full((h, w, 3), 120, np.uint8)
    guided = apply_regions(Spill(), photo_of(flat), [RegionEdit(flat, mask, 1.0)], feather_px=20)
    d = np.abs(guided.astype(float) - flat).sum(axis=2)
    ring = np.array([d[150, 200 + r] for r in range(20, 75, 5)])
    assert ring[0] > 20 and ring[-1] == 0 and (np.diff(ring) <= 1).all(), ring
    assert not d[~dilate(mask, 2 * 20 + 1)].any()


def test_grow_mask_moves_the_edge_out_and_keeps_soft_values():
    m = np.zeros((21, 21), np.float32)
    m[10, 10] = 1.0
    m[10, 11] = 0.5
    np.testing.assert_array_equal(grow_mask(m, 0.4), m)  # under half a pixel: unchanged
    g = grow_mask(m, 3)
    assert g.dtype == np.float32 and g.max() == 1.0
    assert g[10, 13] == 1.0 and g[13, 10] == 1.0 and g[10, 14] == 0.5  # the 0.5 pixel grown too
    assert g[10, 6] == 0.0 and g[14, 14] == 0.0  # a disc, not a square
    assert (g >= m).all()


def test_inside_edits_reach_the_selection_edge(monkeypatch):
    """With inside feathering the network edits the mask grown by INSIDE_GROW_REF_PX (scaled), so a
    network whose edit fades in over a few pixels inside its mask (as TCP's does) keeps its strength
    up to the selection's edge; nothing outside the selection changes."""
    import tcp_core.editing.apply as apply_mod

    class Fading(FakeModel):  # at a 128 px working size, full strength 4 px inside the network's mask
        config = SimpleNamespace(resolution=128, enc_channels=(8, 16), name="fake")

        def region_edit(self, content, style, mask, strength=1.0):
            m = np.asarray(mask, np.float32)
            self.calls.append(("region", None, None, m.copy(), strength))
            fade = np.clip(cv2.distanceTransform((m > 0.5).astype(np.uint8), cv2.DIST_L2, 5) / 4.0, 0, 1)
            return np.clip(content + SHIFT * strength * fade[..., None], 0, 255).astype(np.uint8)

    h, w = 256, 256
    rgb = textured(h, w)
    mask = disk(h, w, 128, 128, 60)
    edge = (mask > 0) & (cv2.distanceTransform((mask > 0).astype(np.uint8), cv2.DIST_L2, 5) <= 12)

    def run(model, feather_edge="across"):  # (the plain feather: this is about the grown mask)
        out = apply_regions(model, photo_of(rgb), [RegionEdit(rgb, mask, 1.0)],
                            ExportConfig(guided_feather=False, edge=feather_edge), crop=False, feather_px=1)
        net_mask = [c for c in model.calls if c[0] == "region"][-1][3]  # (the swap calls of swap_interior follow)
        return out, net_mask, np.abs(out.astype(float) - rgb).sum(-1)[edge].mean()

    out, net_mask, change = run(Fading(), "inside")
    _, soft_mask, _ = run(Fading())  # outside feathering: the network gets the mask itself
    lo = min(net_mask.shape)
    grown_r = 60 * lo / 256 + INSIDE_GROW_REF_PX * lo / 128
    assert abs((net_mask > 0.5).sum() / (np.pi * grown_r ** 2) - 1) < 0.08
    assert (net_mask >= soft_mask).all() and (net_mask > 0.5).sum() > (soft_mask > 0.5).sum()
    np.testing.assert_array_equal(out[mask == 0], rgb[mask == 0])
    monkeypatch.setattr(apply_mod, "INSIDE_GROW_REF_PX", 0.0)
    _, _, change_ungrown = run(Fading(), "inside")
    assert change > 1.3 * change_ungrown  # the grown edit is stronger along the selection's edge
    assert change > 0.7 * np.abs(SHIFT).sum()


def test_the_photo_passed_in_is_not_changed():
    """apply_regions edits its own copy of the photo in place, never the caller's array."""
    h, w = 200, 300
    rgb = textured(h, w)
    before = rgb.copy()
    for crop in (True, False):
        out = apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(rgb, disk(h, w, 150, 100, 40), 1.0)], crop=crop)
        assert out is not rgb and (out != rgb).any()
        np.testing.assert_array_equal(rgb, before)


def test_no_crop_uses_whole_image():
    h, w = 240, 320
    rgb = textured(h, w)
    mask = disk(h, w, 160, 120, 20)
    fake = FakeModel()
    apply_regions(fake, photo_of(rgb), [RegionEdit(rgb, mask, 0.5)], crop=False)
    _, content, _, lo_mask, strength = fake.calls[0]
    assert content.shape[:2] == working_shape(fake, h, w) and strength == 0.5
    assert lo_mask.mean() < 0.05


def test_successive_regions_and_empty_mask():
    h, w = 200, 300
    rgb = textured(h, w)
    m1 = disk(h, w, 150, 100, 40)
    empty = np.zeros((h, w), np.float32)
    fake = FakeModel()
    regions = [RegionEdit(rgb, m1, 1.0), RegionEdit(rgb, empty, 1.0), RegionEdit(rgb, m1, 1.0)]
    out = apply_regions(fake, photo_of(rgb), regions, ExportConfig(priming=0), feather_px=3)  # (the exact shift)
    # the empty region cost nothing: one edit and its strength-0 reference for each real region (and the
    # global swap at both strengths for swap_interior)
    region_calls = [c for c in fake.calls if c[0] == "region"]
    assert [c[4] for c in region_calls] == [1.0, 0.0, 1.0, 0.0]
    assert [c[4] for c in fake.calls if c[0] == "swap"] == [1.0, 0.0, 1.0, 0.0]
    first, second = region_calls[0][1], region_calls[2][1]
    lm = erode(region_calls[0][3], 2)  # (2 px in: the photo-guided feather fades over twice its radius)
    # The second edit starts from the first one's result.
    d = second[lm].astype(float).mean(0) - first[lm].astype(float).mean(0)
    assert np.abs(d - SHIFT).max() < 3, d
    core = erode(m1, 6)
    total = out[core].astype(float).mean(0) - rgb[core].astype(float).mean(0)
    assert np.abs(total - 2 * SHIFT).max() < 4, total
    np.testing.assert_array_equal(apply_regions(fake, photo_of(rgb), [RegionEdit(rgb, empty, 1.0)]), rgb)


def test_global_mode():
    h, w = 150, 200
    rgb = textured(h, w)
    fake = FakeModel()
    out = apply_regions(fake, photo_of(rgb), [RegionEdit(rgb, None, 1.0)], global_=True)
    assert fake.calls[0][0] == "swap" and fake.calls[0][1].shape[:2] == working_shape(fake, h, w)
    diff = out.astype(float) - rgb
    inner = diff[5:-5, 5:-5].reshape(-1, 3)
    assert np.abs(inner.mean(0) - SHIFT).max() < 2
    assert np.abs(inner - SHIFT).mean() < 3  # per pixel: detail kept


def test_16bit_photo_stays_16bit():
    h, w = 120, 160
    rgb16 = textured(h, w).astype(np.uint16) * 257 + 100
    mask = disk(h, w, 80, 60, 30)
    out = apply_regions(FakeModel(), photo_of(rgb16), [RegionEdit(textured(50, 50), mask, 1.0)], feather_px=3)
    assert out.dtype == np.uint16
    unchanged = ~dilate(mask, feather_reach(3, True) + 1)
    np.testing.assert_array_equal(out[unchanged], rgb16[unchanged])
    core = erode(mask, 6)
    shift = (out[core].astype(float) - rgb16[core]).mean(0) / 257
    assert np.abs(shift - SHIFT).max() < 3


def test_bad_region_arguments():
    rgb = textured(40, 60)
    with pytest.raises(ValueError, match="mask 1"):
        apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(rgb, np.ones((10, 10), np.float32), 1.0)])
    with pytest.raises(ValueError, match="no mask"):
        apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(rgb, None, 1.0)])


def test_real_tiny_model_pipeline(tiny_model):
    h, w = 180, 240
    rgb = textured(h, w)
    mask = disk(h, w, 150, 80, 35)
    t: dict = {}
    out = apply_regions(tiny_model, photo_of(rgb), [RegionEdit(textured(64, 64, seed=5), mask, 1.0)], timings=t)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    crop_shape = (h, w)  # the crop is at most the image; feather is at most this image's auto value
    fp = auto_feather_px(crop_shape, (32, 32))
    unchanged = ~dilate(mask, fp + 1)
    np.testing.assert_array_equal(out[unchanged], rgb[unchanged])
    assert (out != rgb).any()
    assert set(t) == {"edit", "upsample"} and all(v > 0 for v in t.values())
    frames = interpolate_images(tiny_model, rgb, textured(90, 90, seed=2), "style", 3)
    assert len(frames) == 3 and frames[0].shape[:2] == working_shape(tiny_model, h, w)


@pytest.mark.parametrize("global_", [False, True])
def test_strength_zero_leaves_the_photo_as_it_is(tiny_model, global_):
    """The export measures an edit against the same edit at strength 0 (the photo's own style), so
    the untrained tiny model's large reconstruction error never reaches the photo: strength 0 is
    the photo, other strengths change it."""
    h, w = 150, 200
    rgb = textured(h, w, seed=3)
    mask = disk(h, w, 100, 75, 45)
    style = textured(64, 64, seed=7)[:, :, ::-1].copy()
    outs = {s: apply_regions(tiny_model, photo_of(rgb), [RegionEdit(style, mask, s)], global_=global_)
            for s in (0.0, 0.5, 1.0)}
    assert np.abs(outs[0.0].astype(int) - rgb).max() <= 1
    inside = mask > 0.5
    change = {s: np.abs(o.astype(float) - rgb)[inside].mean() for s, o in outs.items()}
    assert change[0.0] < 0.5 < min(change[0.5], change[1.0]), change  # (a random model is not monotone)
    rec = tiny_model.reconstruct(rgb)  # what fitting against the photo itself would have carried over
    assert np.abs(rec.astype(float) - rgb)[inside].mean() > 5 * max(change[0.0], 0.1)


# ---------------------------------------------------------------------------------------------
# CLI


@pytest.fixture()
def files(tmp_path):
    h, w = 120, 160
    ex = Image.Exif()
    ex[0x010F] = "CliCam"
    ex[0x0112] = 1
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    content = tmp_path / "photo.jpg"
    Image.fromarray(textured(h, w)).save(content, quality=95, exif=ex.tobytes(), icc_profile=icc)
    style = tmp_path / "style.png"
    Image.fromarray(textured(80, 80, seed=9)[:, :, ::-1]).save(style)
    mask = tmp_path / "mask.png"
    Image.fromarray((disk(h // 2, w // 2, 50, 30, 18) * 255).astype(np.uint8)).save(mask)  # half size
    mask2 = tmp_path / "mask2.png"
    Image.fromarray((disk(h, w, 40, 80, 20) * 255).astype(np.uint8)).save(mask2)
    return SimpleNamespace(dir=tmp_path, content=content, style=style, mask=mask, mask2=mask2, icc=icc, h=h, w=w)


def run(argv, capsys, model=None):
    rc = main([str(a) for a in argv], model=model)
    cap = capsys.readouterr()
    return rc, cap.err


def test_cli_apply_single(files, capsys):
    out = files.dir / "out.jpg"
    before = files.content.read_bytes()
    rc, err = run(
        [
            "apply",
            files.content,
            "--style",
            files.style,
            "--mask",
            files.mask,
            "--style",
            files.style,
            "--mask",
            files.mask2,
            "--strength",
            "0.8",
            "--timings",
            "-o",
            out,
        ],
        capsys,
        model=FakeModel(),
    )
    assert rc == 0, err
    assert files.content.read_bytes() == before
    res = load_image(out)
    assert res.rgb.shape == (files.h, files.w, 3)
    assert res.icc == files.icc
    ex = Image.Exif()
    ex.load(res.exif)
    assert ex.get(0x010F) == "CliCam" and ex.get(0x0112) == 1
    line = [ln for ln in err.splitlines() if ln.startswith("timings")][0]
    for stage in ("load", "edit", "upsample", "save"):
        assert stage in line
    # -o a folder: written inside it with the photo's name
    outdir = files.dir / "o"
    outdir.mkdir()
    rc, err = run(["apply", files.content, "--style", files.style, "--global", "-o", outdir], capsys, model=FakeModel())
    assert rc == 0 and (outdir / "photo.jpg").is_file()


def test_cli_keeps_16bit_and_alpha(tmp_path, capsys):
    out = tmp_path / "o16.png"
    rc, err = run(
        ["apply", BAD / "rgba16.png", "--style", BAD / "ok_rgb.png", "--global", "--pre-transfer", "0", "-o", out],
        capsys, model=FakeModel(),
    )
    assert rc == 0, err
    res = load_image(out, keep_alpha=True, keep_16bit=True)
    src = load_image(BAD / "rgba16.png", keep_alpha=True, keep_16bit=True)
    assert res.bit_depth == 16 and res.rgb.dtype == np.uint16
    np.testing.assert_array_equal(res.alpha, src.alpha)
    shift = (res.rgb.astype(float) - src.rgb).reshape(-1, 3).mean(0) / 257
    assert np.abs(shift[2] - SHIFT[2]).max() < 2  # the constant channel moved by the edit's shift
    rc, err = run(
        ["apply", BAD / "rgba16.png", "--style", BAD / "ok_rgb.png", "--global", "-o", tmp_path / "o.jpg"],
        capsys,
        model=FakeModel(),
    )
    assert rc == 0 and load_image(tmp_path / "o.jpg").bit_depth == 8


def test_cli_apply_with_real_tiny_model(files, capsys):
    pytest.importorskip("tcp_core.editing.inference")
    out = files.dir / "real.png"
    rc, err = run(
        [
            "apply",
            files.content,
            "--style",
            files.style,
            "--mask",
            files.mask,
            "--preset",
            "tiny",
            "--device",
            "cpu",
            "-o",
            out,
        ],
        capsys,
    )
    assert rc == 0, err
    src = load_image(files.content).rgb
    res = load_image(out).rgb
    assert res.shape == src.shape and (res != src).any()


def _one_line_error(rc, err, *words):
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in err, err


def test_cli_colour_smoothing(files, capsys):
    """--smoothing reaches the full-resolution step (different results) and is range-checked."""
    outs = []
    for r in ("0", "16"):
        out = files.dir / f"smooth{r}.png"
        rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--smoothing", r,
                       "-o", out], capsys, model=FakeModel())
        assert rc == 0, err
        outs.append(load_image(out).rgb)
    assert (outs[0] != outs[1]).any()
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--smoothing", "33",
                   "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    _one_line_error(rc, err, "--smoothing", "between 0 and 32")
    assert not (files.dir / "bad.png").exists()


def test_cli_strength_above_one_asks_the_network_for_more_and_is_range_checked(files, capsys):
    """--strength past 1 (up to MAX_STRENGTH) reaches the network as asked and moves the region
    further than 1 does; past MAX_STRENGTH it is a one-line usage error and nothing is written."""
    from tcp_core.base.constants import MAX_STRENGTH

    src = load_image(files.content).rgb.astype(np.float32)
    change = []
    for st in ("1", str(MAX_STRENGTH)):
        model, out = FakeModel(), files.dir / f"s{st}.png"
        rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--strength", st,
                       "-o", out], capsys, model=model)
        assert rc == 0, err
        assert {c[4] for c in model.calls if c[0] == "region"} >= {float(st)}
        change.append(np.abs(load_image(out).rgb.astype(np.float32) - src).mean())
    assert change[1] > 1.2 * change[0] > 0
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--strength",
                   str(MAX_STRENGTH + 0.1), "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    _one_line_error(rc, err, "--strength", f"between 0 and {MAX_STRENGTH:g}")
    assert not (files.dir / "bad.png").exists()


def test_cli_refuses_to_overwrite_input(files, capsys):
    before = files.content.read_bytes()
    rc, err = run(
        ["apply", files.content, "--style", files.style, "--mask", files.mask, "-o", files.content],
        capsys,
        model=FakeModel(),
    )
    _one_line_error(rc, err, "original")
    assert files.content.read_bytes() == before


@pytest.mark.parametrize(
    "make_argv, words",
    [
        (
            lambda f: ["apply", f.dir / "missing.jpg", "--style", f.style, "--mask", f.mask, "-o", f.dir / "o.png"],
            ["does not exist"],
        ),
        (
            lambda f: ["apply", f.content, "--style", f.dir / "nostyle.png", "--mask", f.mask, "-o", f.dir / "o.png"],
            ["style", "does not exist"],
        ),
        (
            lambda f: ["apply", f.content, "--style", BAD / "text_named.jpg", "--mask", f.mask, "-o", f.dir / "o.png"],
            ["not an image"],
        ),
        (
            lambda f: [
                "apply",
                f.content,
                "--style",
                f.style,
                "--style",
                f.style,
                "--mask",
                f.mask,
                "-o",
                f.dir / "o.png",
            ],
            ["one mask per style"],
        ),
        (
            lambda f: [
                "apply",
                f.content,
                "--style",
                f.style,
                "--mask",
                f.mask,
                "--strength",
                "1.6",  # past MAX_STRENGTH (1.5)
                "-o",
                f.dir / "o.png",
            ],
            ["strength"],
        ),
        (lambda f: ["apply", f.content, "--style", f.style, "--mask", f.mask, "-o", f.dir / "o.gif"], [".png"]),
        (
            lambda f: [
                "apply",
                f.content,
                "--style",
                f.style,
                "--mask",
                BAD / "mask_other_aspect.png",
                "-o",
                f.dir / "o.png",
            ],
            ["50x50", "160x120"],
        ),
        (
            lambda f: ["apply", BAD / "truncated.jpg", "--style", f.style, "--mask", f.mask, "-o", f.dir / "o.png"],
            ["truncated"],
        ),
        (
            lambda f: ["apply", BAD / "bomb_40k.png", "--style", f.style, "--global", "-o", f.dir / "o.png"],
            ["megapixels"],
        ),
        (
            lambda f: ["apply", f.content, "--style", f.style, "--mask", f.mask, "--global", "-o", f.dir / "o.png"],
            ["--global"],
        ),
        (lambda f: ["apply", f.content, "--style", f.style, "--mask", f.mask], ["-o"]),
        (lambda f: ["apply", f.content, "--bogus", "-o", f.dir / "o.png"], ["--bogus"]),
        (lambda f: [], ["apply or interpolate"]),
        (
            lambda f: [
                "apply",
                f.content,
                "--style",
                f.style,
                "--global",
                "--weights",
                f.dir / "none.safetensors",
                "-o",
                f.dir / "o.png",
            ],
            ["model"],
        ),
    ],
)
def test_cli_bad_inputs_exit_2_with_one_line(files, capsys, make_argv, words):
    model = None if "--weights" in [str(a) for a in make_argv(files)] else FakeModel()
    rc, err = run(make_argv(files), capsys, model=model)
    _one_line_error(rc, err, *words)
    assert not (files.dir / "o.png").exists()


def test_cli_loads_the_model_on_a_thread_while_the_photo_is_decoded(files, capsys, monkeypatch):
    """Without an injected model, `apply` loads it (importing torch) on a background thread while the
    calling thread decodes the style, photo and mask (issue #14)."""
    import threading

    from tcp_core.editing import cli as cli_mod
    from tcp_core.editing import cli_inputs

    photo_decoded = threading.Event()
    seen = {}
    real_load_image = cli_mod.load_image

    def load_image(path, **kw):
        img = real_load_image(path, **kw)
        if Path(path) == files.content:
            seen["decoded_in"] = threading.current_thread()
            photo_decoded.set()
        return img

    def slow_model(args, model):
        seen["model_in"] = threading.current_thread()
        assert photo_decoded.wait(30), "the photo was not decoded while the model loaded"
        return FakeModel()

    monkeypatch.setattr(cli_mod, "load_image", load_image)
    monkeypatch.setattr(cli_inputs, "model_or_usage", slow_model)
    out = files.dir / "bg.png"
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "-o", out], capsys)
    assert rc == 0, err
    assert seen["decoded_in"] is threading.current_thread()
    assert seen["model_in"] is not threading.current_thread()
    assert load_image(out).rgb.shape == (files.h, files.w, 3)


def test_cli_model_errors_from_the_loading_thread_read_as_before(files, capsys, monkeypatch):
    """An error of the background model load is raised on the calling thread as the same one-line
    message, and still comes before a bad photo's (the model used to load first)."""
    import sys

    base = ["--style", files.style, "--mask", files.mask, "-o", files.dir / "o.png"]
    missing = files.dir / "none.safetensors"
    rc, err = run(["apply", files.content, *base, "--weights", missing], capsys)
    _one_line_error(rc, err, "cannot load the model", "none.safetensors")
    rc, err = run(["apply", BAD / "truncated.jpg", *base, "--weights", missing], capsys)
    _one_line_error(rc, err, "cannot load the model", "none.safetensors")
    rc, err = run(["apply", BAD / "truncated.jpg", *base, "--preset", "tiny"], capsys)
    _one_line_error(rc, err, "truncated")  # the model loads fine: the photo's error
    monkeypatch.setitem(sys.modules, "tcp_core.editing.inference", None)  # `import` raises ImportError
    rc, err = run(["apply", files.content, *base], capsys)
    _one_line_error(rc, err, "the model code is not available")
    assert not (files.dir / "o.png").exists()


def test_cli_model_load_lets_openmp_threads_sleep(files, monkeypatch):
    """Loading the model for a command asks OpenMP for short waits before torch loads it, unless the
    user chose a policy (issue #14: spinning threads burn CPU on a shared machine)."""
    import os

    from tcp_core.base.errors import UsageError
    from tcp_core.editing.cli_inputs import model_or_usage

    args = SimpleNamespace(weights=str(files.dir / "none.safetensors"), device="cpu", precision="auto", preset=None)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    with pytest.raises(UsageError, match="cannot load the model"):
        model_or_usage(args, None)
    assert (os.environ["OMP_WAIT_POLICY"], os.environ["GOMP_SPINCOUNT"]) == ("PASSIVE", "3000")
    monkeypatch.setenv("OMP_WAIT_POLICY", "active")
    monkeypatch.delenv("GOMP_SPINCOUNT")
    with pytest.raises(UsageError):
        model_or_usage(args, None)
    assert os.environ["OMP_WAIT_POLICY"] == "active" and "GOMP_SPINCOUNT" not in os.environ


def test_cli_help(capsys):
    assert main(["apply", "--help"]) == 0
    assert "--style" in capsys.readouterr().out


def test_cli_batch(files, capsys):
    src = files.dir / "in"
    (src / "sub").mkdir(parents=True)
    rgb = textured(files.h, files.w, seed=3)
    Image.fromarray(rgb).save(src / "a.jpg", quality=92)
    Image.fromarray(rgb[::-1]).save(src / "b.png")
    Image.fromarray(rgb[:, ::-1]).save(src / "sub" / "c.webp", lossless=True)
    shutil.copy(BAD / "truncated.jpg", src / "broken.jpg")
    shutil.copy(BAD / "zero_bytes.jpg", src / "empty.png")
    Image.fromarray(textured(50, 50)).save(src / "square.png")  # mask aspect does not fit
    out = files.dir / "out"
    rc, err = run(["apply", src, "--style", files.style, "--mask", files.mask, "-o", out], capsys, model=FakeModel())
    assert rc == 1, err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a.jpg",
        "b.png",
        "sub/c.webp",
    ]
    tail = err[err.index("done:") :]
    assert "3 written, 3 failed" in tail
    for name in ("broken.jpg", "empty.png", "square.png"):
        assert f"failed: {name}" in tail
    assert "[1/6]" in err and "[6/6]" in err  # progress

    # all good -> exit 0; mask folder with per-photo masks; -o inside the input is not re-read
    good = files.dir / "good"
    good.mkdir()
    Image.fromarray(rgb).save(good / "x.png")
    Image.fromarray(rgb).save(good / "y.png")
    masks = files.dir / "masks"
    masks.mkdir()
    shutil.copy(files.mask, masks / "x.png")
    shutil.copy(files.mask2, masks / "y_mask.png")
    rc, err = run(
        ["apply", good, "--style", files.style, "--mask", masks, "-o", good / "edited"], capsys, model=FakeModel()
    )
    assert rc == 0, err
    assert sorted(p.name for p in (good / "edited").iterdir()) == ["x.png", "y.png"]
    rc, err = run(
        ["apply", good, "--style", files.style, "--mask", masks, "-o", good / "edited"], capsys, model=FakeModel()
    )
    assert rc == 0 and "[2/2]" in err and "[3/" not in err  # its own outputs were not picked up


def test_cli_batch_refuses_input_folder_as_output(files, capsys):
    src = files.dir / "in2"
    src.mkdir()
    Image.fromarray(textured(40, 40)).save(src / "a.png")
    before = (src / "a.png").read_bytes()
    rc, err = run(["apply", src, "--style", files.style, "--global", "-o", src], capsys, model=FakeModel())
    _one_line_error(rc, err, "input folder")
    assert (src / "a.png").read_bytes() == before


def test_cli_interpolate(files, capsys, tiny_model):
    # style (default): the photo at its own resolution, its colours moving; frame 0 is the photo
    out = files.dir / "photo_interp.png"
    rc, err = run(["interpolate", files.content, files.style, "--steps", "3", "--long-side", "100", "-o", out],
                  capsys, model=tiny_model)
    assert rc == 0, err
    strip = load_image(out).rgb.astype(int)
    small = cv2.resize(load_image(files.content).rgb, (100, 75), interpolation=cv2.INTER_AREA).astype(int)
    assert strip.shape == (75, 300, 3)
    assert np.abs(strip[:, :100] - small).max() <= 1  # frame 0 is the photo (PNG, lossless)
    assert np.abs(strip[:, 200:] - small).mean() > 1  # the last frame has moved
    for bad, words in ((["--long-side", "4"], ["--long-side"]), (["--smoothing", "-1"], ["--smoothing"])):
        rc, err = run(["interpolate", files.content, files.style, *bad, "-o", out], capsys, model=tiny_model)
        _one_line_error(rc, err, *words)
    # --network: the network's own frames at its working size
    out = files.dir / "interp.png"
    rc, err = run(
        ["interpolate", files.content, files.style, "--what", "style", "--steps", "4", "--network", "-o", out],
        capsys,
        model=tiny_model,
    )
    assert rc == 0, err
    strip = load_image(out).rgb
    fh, fw = working_shape(tiny_model, files.h, files.w)
    assert strip.shape == (fh, 4 * fw, 3)
    for ext in (".gif", ".webp"):
        anim = Image.open(out.with_suffix(ext))
        assert anim.n_frames == 6 and anim.size == (fw, fh)  # ping-pong: 4 + 2
    rc, err = run(["interpolate", files.content, files.style, "--steps", "1", "-o", out], capsys, model=tiny_model)
    _one_line_error(rc, err, "--steps")
    rc, err = run(["interpolate", files.content, files.style, "-o", files.dir / "x.webp"], capsys, model=tiny_model)
    _one_line_error(rc, err, ".png")


def test_batch_output_names_are_unique_and_stable():
    from pathlib import Path

    from tcp_core.editing.cli import batch_output_names

    rels = [Path("a.jpg"), Path("a.png"), Path("b.bmp"), Path("b.png"), Path("sub/a.jpg"), Path("c.webp"),
            Path("a_jpg.png")]
    names = batch_output_names(rels, "png")
    assert len({str(n).lower() for n in names}) == len(names)
    assert names[0] == Path("a_jpg-2.png") and names[1] == Path("a_png.png")  # a_jpg.png is a real photo's
    assert names[4] == Path("sub/a.png") and names[5] == Path("c.png") and names[6] == Path("a_jpg.png")
    # no clash: names unchanged; default format keeps jpg/webp, writes bmp as png
    assert batch_output_names([Path("x.jpg"), Path("y.bmp")], None) == [Path("x.jpg"), Path("y.png")]
    assert batch_output_names([Path("x.bmp"), Path("x.png")], None) == [Path("x_bmp.png"), Path("x_png.png")]


def test_editor_style_interpolation_starts_at_the_photo(tiny_model):
    """The editor's style-interpolation slider (services.render) at 0 is the photo and moves away
    from it as it slides (the change is measured against the photo's own-style frame)."""
    from tcp_editor.services.render import interpolate_base

    rgb = textured(120, 160, seed=4)
    other = textured(90, 90, seed=8)[:, :, ::-1].copy()
    outs = [interpolate_base(tiny_model, rgb, other, "style", t) for t in (0.0, 0.5, 1.0)]
    assert np.abs(outs[0].astype(int) - rgb).max() <= 1
    d = [np.abs(o.astype(float) - rgb).mean() for o in outs]
    assert d[0] < d[1] < d[2], d


def test_swap_interior_takes_the_swap_inside_and_the_edit_at_the_border():
    """`swap_interior`: the global swap's colours away from the border, the region edit's at it."""
    from tcp_core.editing.apply import SWAP_INTERIOR_PX, swap_in_interior

    h, w = 128, 160
    mask = np.zeros((h, w), np.float32)
    mask[20:110, 30:140] = 1.0
    edit, edit_ref = np.full((h, w, 3), 100, np.uint8), np.full((h, w, 3), 90, np.uint8)
    swap, swap_ref = np.full((h, w, 3), 200, np.uint8), np.full((h, w, 3), 80, np.uint8)
    res, ref = swap_in_interior(edit, edit_ref, swap, swap_ref, mask)
    assert (res[60, 80] == 200).all() and (ref[60, 80] == 80).all()  # deep inside: the swap's pair
    assert (res[5, 5] == 100).all() and (ref[5, 5] == 90).all()  # outside: the edit's pair
    assert SWAP_INTERIOR_PX[0] >= 1 and (res[20, 80] == 100).all()  # the mask's first pixel: still the edit
    assert 100 < res[22, 80, 0] < 200  # on the ramp (3 px from outside)
    # on a 256 px network image the ramp is in 128 px units: twice as many pixels
    big = cv2.resize(mask, (2 * w, 2 * h), interpolation=cv2.INTER_NEAREST)
    up = [cv2.resize(a, (2 * w, 2 * h), interpolation=cv2.INTER_NEAREST) for a in (edit, edit_ref, swap, swap_ref)]
    res2, _ = swap_in_interior(*up, big)
    assert res2[45, 160, 0] == res[22, 80, 0]  # 6 px on the 256 px image = 3 px on the 128 px one


def test_guided_filter_blurs_flat_parts_and_keeps_the_guides_edges():
    from tcp_core.editing.guided import guided_filter

    rng = np.random.default_rng(0)
    p = rng.random((40, 50))
    flat = np.full((40, 50, 3), 0.5)
    box = cv2.boxFilter(p, -1, (7, 7), borderType=cv2.BORDER_REFLECT)
    # a flat guide explains nothing: q is the box blur of p, twice over (He et al.: a, b averaged again)
    np.testing.assert_allclose(guided_filter(flat, p, 3, 1e-3),
                               cv2.boxFilter(box, -1, (7, 7), borderType=cv2.BORDER_REFLECT), atol=1e-9)
    step = np.zeros((40, 50, 3))
    step[:, 25:] = 1.0  # a hard edge in the guide, and p the same step
    q = guided_filter(step, step[..., 0], 3, 1e-4)
    assert np.abs(q - step[..., 0]).max() < 0.01  # kept sharp across the edge
    q_flat = guided_filter(flat, step[..., 0], 3, 1e-4)
    assert 0.4 < q_flat[20, 25] < 0.8 and 0.2 < q_flat[20, 24] < 0.6  # without the edge: blurred


def test_guided_interior_ramp_is_narrow_along_edges_and_wide_across_smooth_parts():
    """`interior_ramp="guided"`: where the mask's edge runs along an edge of the photo the ramp is the
    fixed one; where it crosses a smooth part, the swap's weight rises over many more pixels."""
    from tcp_core.editing.apply import SWAP_INTERIOR_GUIDE, interior_weight

    h, w = 128, 192
    mask = np.zeros((h, w), np.float32)
    mask[:, 96:] = 1.0  # the right half
    fixed = interior_weight(mask)
    smooth = np.full((h, w, 3), 120, np.uint8)  # the mask's edge crosses a flat photo
    edge = smooth.copy()
    edge[:, 96:] = 220  # the mask's edge is the photo's edge
    along, across = interior_weight(mask, edge), interior_weight(mask, smooth)
    for wt in (fixed, along, across):
        assert wt.shape == (h, w) and wt.min() >= 0 and wt.max() <= 1 and (wt[:, :96] == 0).all()
    np.testing.assert_allclose(along[64, 90:120], fixed[64, 90:120], atol=0.05)  # along an edge: as fixed
    assert fixed[64, 96 + 6] == 1.0 and across[64, 96 + 6] < 0.5  # across a smooth part: much wider
    r = int(SWAP_INTERIOR_GUIDE[0])
    assert across[64, 96 + 2 * r + 2] > 0.95  # and the swap's in full deep inside
    assert np.all(np.diff(across[64, 96:96 + 2 * r]) >= -1e-6)  # rising, no band


@pytest.mark.parametrize("swap_interior, ramp", [(False, "fixed"), (True, "fixed"), (True, "guided")])
def test_swap_interior_export_keeps_the_outside_and_strength_zero(swap_interior, ramp):
    h, w = 150, 200
    rgb = textured(h, w, seed=5)
    mask = disk(h, w, 100, 75, 50)
    style = textured(64, 64, seed=8)
    model = FakeModel()
    export = ExportConfig(priming=0.0, interior=ramp if swap_interior else "off")  # (priming has its own tests)
    outs = {s: apply_regions(model, photo_of(rgb), [RegionEdit(style, mask, s)], export) for s in (0.0, 1.0)}
    assert np.abs(outs[0.0].astype(int) - rgb).max() <= 1
    reach = dilate(mask, 24)  # the photo-guided feather reaches twice its (auto) radius where the photo is smooth
    assert np.array_equal(outs[1.0][~reach], rgb[~reach])
    assert any(c[0] == "swap" for c in model.calls) == swap_interior  # the swap is asked for only then
    inside = erode(mask, 10)
    moved = (outs[1.0].astype(float) - rgb)[inside].mean(0)
    assert np.allclose(moved, SHIFT, atol=3)  # the fake's edit and swap agree inside: the full shift


def test_cli_swap_interior_changes_the_export(files, capsys):
    base = ["apply", str(files.content), "--style", str(files.style), "--mask", str(files.mask), "--preset", "tiny"]
    out_a, out_b, out_c = files.dir / "edit.png", files.dir / "swap.png", files.dir / "default.png"
    assert main([*base, "--no-swap-interior", "-o", str(out_a)]) == 0
    assert main([*base, "--swap-interior", "-o", str(out_b)]) == 0
    assert main([*base, "-o", str(out_c)]) == 0  # the default since session 28, the guided ramp since 29
    assert np.array_equal(np.asarray(Image.open(out_b)), np.asarray(Image.open(out_c)))
    a, b = np.asarray(Image.open(out_a)), np.asarray(Image.open(out_b))
    assert a.shape == b.shape and not np.array_equal(a, b)
    out_d = files.dir / "fixed.png"
    assert main([*base, "--interior-ramp", "fixed", "-o", str(out_d)]) == 0
    d = np.asarray(Image.open(out_d))
    assert d.shape == b.shape and not np.array_equal(d, b)  # the fixed ramp is another export
    assert main([*base, "--interior-ramp", "wide", "-o", str(out_d)]) == 2
    assert "invalid choice: 'wide'" in capsys.readouterr().err


def test_interior_fill_primed_takes_the_primed_photo_inside_and_never_asks_for_the_swap():
    """`interior_fill="primed"`: inside the region the export is the classical colour transfer (priming) itself,
    the network's region edit only at the border; the global swap is not computed."""
    from tcp_core.colour.priming import prime_region
    from tcp_core.editing.export_config import ExportSettingError

    class Fake128(FakeModel):  # a 128 px working size, so the interior ramp is reached well inside the disk
        config = SimpleNamespace(resolution=128, enc_channels=(8, 16), name="fake")

    h, w = 300, 400
    rgb = textured(h, w, seed=5)
    mask = disk(h, w, 200, 150, 120)
    style = np.zeros((64, 64, 3), np.uint8)
    style[...] = (200, 90, 40)  # a flat orange reference: priming pulls the region's mean towards it
    style[::2] += 10
    model = Fake128()
    export = ExportConfig(priming=1.0, interior_fill="primed", priming_profile="global")
    outs = {s: apply_regions(model, photo_of(rgb), [RegionEdit(style, mask, s)], export) for s in (0.0, 1.0)}
    assert not any(c[0] == "swap" for c in model.calls)
    assert np.abs(outs[0.0].astype(int) - rgb).max() <= 1  # strength 0 still leaves the photo as it is
    reach = dilate(mask, 48)
    assert np.array_equal(outs[1.0][~reach], rgb[~reach])
    # deep inside: the primed photo's colours (not the fake network's +SHIFT), up to the colour transform's smoothing
    primed = prime_region(rgb, style, mask, 1.0, None, export.priming_cap, profile="global")
    inside = erode(mask, 60)
    got = outs[1.0].astype(float)[inside].mean(0)
    want = primed.astype(float)[inside].mean(0)
    assert np.abs(got - want).max() < 6, (got, want)
    assert np.abs(got - (rgb.astype(float)[inside].mean(0) + SHIFT)).max() > 30  # not the network's colours
    # the default fill is the network's swap; a bad value names the field
    assert ExportConfig().interior_fill == "swap"
    with pytest.raises(ExportSettingError, match="interior_fill"):
        ExportConfig(interior_fill="photo")


def test_cli_interior_fill(files, capsys):
    base = ["apply", str(files.content), "--style", str(files.style), "--mask", str(files.mask), "--preset", "tiny"]
    out_a, out_b = files.dir / "swap_fill.png", files.dir / "primed_fill.png"
    assert main([*base, "-o", str(out_a)]) == 0
    assert main([*base, "--interior-fill", "primed", "-o", str(out_b)]) == 0
    a, b = np.asarray(Image.open(out_a)), np.asarray(Image.open(out_b))
    assert a.shape == b.shape and not np.array_equal(a, b)
    assert main([*base, "--interior-fill", "network", "-o", str(out_b)]) == 2
    assert "invalid choice: 'network'" in capsys.readouterr().err
