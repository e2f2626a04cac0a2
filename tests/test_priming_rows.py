"""Position-aware colour priming (`prime_region(profile="rows")`, `reinhard_lab_rows`): a gradient reference
(a sunset sky) primes a region into that gradient, row by row, instead of one flat mean."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_apply import FakeModel, disk, files, photo_of, run, textured  # noqa: F401 - `files` is a fixture

from tcp_core.colour.priming import prime_region, reinhard_lab, reinhard_lab_rows, row_profile
from tcp_core.editing.apply import apply_regions
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.regions import RegionEdit

BLUE, ORANGE, GROUND = (70, 90, 200), (240, 140, 40), (30, 70, 20)


def lab(img):
    return cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def flat(h, w, rgb=(128, 128, 128), seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(np.array(rgb, np.float32) + rng.normal(0, 2, (h, w, 3)), 0, 255).astype(np.uint8)


def gradient(h, w, top=BLUE, bottom=ORANGE):
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    row = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return np.clip(np.broadcast_to(row, (h, w, 3)) + 0.5, 0, 255).astype(np.uint8)


def band_mask(h, w, r0, r1, c0=4, c1=None):
    m = np.zeros((h, w), np.float32)
    m[r0:r1, c0:(w - 4 if c1 is None else c1)] = 1
    return m


def row_b(img, mask):
    """The Lab b* (yellow-blue) mean of each row the mask covers, top to bottom."""
    b = lab(img)[:, :, 2]
    rows = np.flatnonzero(mask.any(1))
    return np.array([b[r][mask[r] > 0].mean() for r in rows])


def test_rows_priming_gives_a_flat_region_the_references_vertical_gradient():
    """A flat grey region under a blue-to-orange sky reference: the rows profile makes the region's top blue and
    its bottom orange, following the reference's gradient; the global profile gives one flat average."""
    src = flat(64, 72)
    mask = band_mask(64, 72, 8, 56)
    style = gradient(90, 60)
    rows = row_b(reinhard_lab_rows(src, style, mask, max_spread=2.0), mask)
    flat_b = row_b(reinhard_lab(src, style, mask, max_spread=2.0), mask)
    ref_b = lab(style)[:, 0, 2]
    assert np.ptp(flat_b) < 3  # the problem: one mean for the whole region
    assert rows[-1] - rows[0] > 0.6 * (ref_b[-1] - ref_b[0])  # blue at the top, orange at the bottom
    assert rows[0] < ref_b.mean() - 20 and rows[-1] > ref_b.mean() + 20
    assert (np.diff(rows) > -0.5).all()  # one way down, no bands going back
    # the region's mean still lands near the reference's (the gradient is around it)
    assert abs(rows.mean() - ref_b.mean()) < 6
    # the gradient runs over the mask's own height, wherever the mask is in the photo
    low = band_mask(64, 72, 40, 60)
    low_rows = row_b(reinhard_lab_rows(src, style, low, max_spread=2.0), low)
    assert low_rows[0] < ref_b.mean() - 20 and low_rows[-1] > ref_b.mean() + 20


def test_rows_priming_flattens_the_regions_own_gradient_into_the_references():
    """The region's own row profile is taken out: an orange-to-blue region under a blue-to-orange reference
    comes out blue-to-orange."""
    src = gradient(60, 60, top=ORANGE, bottom=BLUE)
    mask = np.ones((60, 60), np.float32)
    out_b = row_b(reinhard_lab_rows(src, gradient(80, 50), mask), mask)
    assert out_b[-1] - out_b[0] > 40


def test_the_global_profile_is_the_default_and_unchanged():
    src = textured(48, 64, seed=2)
    style = gradient(40, 40)
    mask = disk(48, 64, 32, 24, 14)
    default = prime_region(src, style, mask, 0.7)
    np.testing.assert_array_equal(default, prime_region(src, style, mask, 0.7, profile="global"))
    inside = mask == 1
    np.testing.assert_array_equal(prime_region(src, style, mask, 1.0, None, None, spread="all")[inside],
                                  reinhard_lab(src, style, mask)[inside])  # with the whole spread: Reinhard's own
    assert (prime_region(src, style, mask, 0.7, profile="rows") != default).any()
    with pytest.raises(ValueError, match="profile"):
        prime_region(src, style, mask, 0.7, profile="columns")


def test_rows_priming_leaves_the_outside_and_empty_masks_alone():
    src = textured(48, 64, seed=3)
    style = gradient(50, 30)
    mask = disk(48, 64, 30, 24, 16)
    out = prime_region(src, style, mask, 1.0, profile="rows")
    outside = mask == 0
    np.testing.assert_array_equal(out[outside], src[outside])
    assert (out[mask == 1] != src[mask == 1]).any()
    assert prime_region(src, style, np.zeros_like(mask), 1.0, profile="rows") is src
    assert prime_region(src, style, mask, 0.0, profile="rows") is src
    half = prime_region(src, style, mask, 0.5, profile="rows")
    inside = mask == 1
    assert np.abs(half[inside] - (src[inside].astype(float) + out[inside]) / 2).max() <= 1.0


def test_a_one_row_mask_and_a_one_pixel_mask():
    src = flat(20, 20)
    style = gradient(30, 30)
    for mask in (band_mask(20, 20, 9, 10), (np.arange(400).reshape(20, 20) == 205).astype(np.float32)):
        out = prime_region(src, style, mask, 1.0, profile="rows")
        assert np.isfinite(out.astype(float)).all() and (out[mask > 0] != src[mask > 0]).any()


def test_a_style_mask_selecting_half_the_reference():
    """The reference's profile spans its style mask's vertical extent: the top half (blue) or the bottom half
    (orange) of a two-colour reference, flat in either case."""
    src = flat(48, 48)
    mask = band_mask(48, 48, 4, 44)
    style = np.zeros((60, 40, 3), np.uint8)
    style[:30], style[30:] = BLUE, ORANGE
    top, bottom = np.zeros((60, 40), np.float32), np.zeros((60, 40), np.float32)
    top[:30], bottom[30:] = 1, 1
    b_top = row_b(prime_region(src, style, mask, 1.0, top, profile="rows"), mask)
    b_bottom = row_b(prime_region(src, style, mask, 1.0, bottom, profile="rows"), mask)
    blue_b, orange_b = (lab(np.array([[c]], np.uint8))[0, 0, 2] for c in (BLUE, ORANGE))
    assert np.abs(b_top - blue_b).max() < 3
    assert np.abs(b_bottom - orange_b).max() < 3


def test_ref_rows_keeps_a_sky_region_off_the_references_ground():
    """A whole-photo reference: a sky gradient above dark green ground. Read over all of its rows, the bottom of a
    sky region takes the ground's colour; read over `ref_rows`, the region's own place in its photo (the top half),
    it takes the sky's gradient only."""
    style = np.concatenate([gradient(50, 60), np.broadcast_to(np.array(GROUND, np.uint8), (50, 60, 3))], 0)
    src = flat(64, 64, (150, 170, 200))
    sky = band_mask(64, 64, 0, 30)
    whole = reinhard_lab_rows(src, style, sky)
    placed = reinhard_lab_rows(src, style, sky, ref_rows=(0.0, 0.5))
    ground_l = lab(np.array([[GROUND]], np.uint8))[0, 0, 0]
    bottom = sky.copy()
    bottom[:24] = 0
    l_whole = lab(whole)[:, :, 0][bottom > 0].mean()
    l_placed = lab(placed)[:, :, 0][bottom > 0].mean()
    assert l_whole < ground_l + 25  # dark, like the ground
    assert l_placed > ground_l + 30  # the orange horizon
    assert row_b(placed, sky)[-1] - row_b(placed, sky)[0] > 30  # still the gradient


def test_row_profile_borrows_from_neighbours_and_smooths():
    x = np.zeros((40, 10, 3), np.float32)
    x[:, :, 0] = np.arange(40, dtype=np.float32)[:, None]  # channel 0 = the row number
    w = np.ones((40, 10), np.float32)
    w[15:20] = 0  # a gap in the mask
    w[:5] = 0
    prof, r0, r1 = row_profile(x, w)
    assert (r0, r1) == (5, 39)
    assert 12 < prof[17, 0] < 22  # the gap's rows take their neighbours' means
    np.testing.assert_allclose(prof[:5], np.broadcast_to(prof[5], (5, 3)))  # outside the extent: the edge row
    assert (np.diff(prof[5:, 0]) > 0).all()
    with pytest.raises(ValueError, match="no pixel"):
        row_profile(x, np.zeros((40, 10)))


def test_rows_priming_caps_the_spread_about_the_row_means():
    """The gradient comes from the row means; the spread about them grows at most max_spread times."""
    src = flat(64, 64)
    style = np.clip(gradient(64, 64).astype(float) + np.random.default_rng(1).normal(0, 25, (64, 64, 3)),
                    0, 255).astype(np.uint8)
    mask = np.ones((64, 64), np.float32)
    out = reinhard_lab_rows(src, style, mask, max_spread=2.0)
    for img, cap in ((src, None), (out, 2.0)):
        x = lab(img)
        sd = (x - x.mean(1, keepdims=True)).reshape(-1, 3).std(0)  # about each row's own mean
        if cap is None:
            sd_src = sd
        else:
            assert (sd <= cap * sd_src + 0.8).all(), (sd, sd_src)


def test_apply_regions_threads_the_priming_profile_to_the_swap():
    h, w = 96, 128
    rgb = flat(h, w, (140, 160, 190))
    style = gradient(60, 60)
    mask = band_mask(h, w, 0, 50, 0, w)
    swaps = {}
    for profile in ("global", "rows"):
        model = FakeModel()
        apply_regions(model, photo_of(rgb), [RegionEdit(style, mask, 1.0)],
                      ExportConfig(priming=1.0, priming_profile=profile))
        s = [c for c in model.calls if c[0] == "swap" and c[4] == 1.0]
        assert len(s) == 1
        swaps[profile] = s[0][1]
    sel = np.zeros(swaps["rows"].shape[:2], bool)
    sel[:, 4:-4] = True
    top, bot = slice(0, 3), slice(10, 13)  # within the region at the working size
    gb = {p: (lab(im)[bot, :, 2][sel[bot]].mean() - lab(im)[top, :, 2][sel[top]].mean()) for p, im in swaps.items()}
    assert gb["rows"] > gb["global"] + 15, gb
    with pytest.raises(ValueError, match="priming_profile"):
        apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(style, mask, 1.0)], ExportConfig(priming_profile="cols"))


def test_cli_priming_profile(files, capsys):  # noqa: F811 (fixture)
    from tcp_core.io.imageio import load_image

    outs = []
    for p in ("global", "rows"):
        out = files.dir / f"prof_{p}.png"
        rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--pre-transfer", "1",
                       "--priming-profile", p, "-o", out], capsys, model=FakeModel())
        assert rc == 0, err
        outs.append(load_image(out).rgb)
    assert (outs[0] != outs[1]).any()
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--priming-profile", "cols",
                   "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    assert rc == 2 and "--priming-profile" in err and not (files.dir / "bad.png").exists()
