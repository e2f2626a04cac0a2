"""tcp_core.editing.fullres and tcp_core.editing.masks: exactness outside the mask, detail kept inside, colour
reproduced, no seams."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcp_core.editing.fullres import (
    DEFAULT_SMOOTHING,
    MAX_SMOOTHING,
    apply_local_color_transform,
    fit_local_color_transform,
    upsample_edit,
)
from tcp_core.editing.masks import auto_feather_px, feather_mask, feather_reach, mask_bbox, region_crop_box

SHIFT = np.array([30.0, -25.0, 15.0])


def textured(h: int, w: int, seed: int = 0, deep: bool = False) -> np.ndarray:
    """Photo-like: smooth gradients, mid-frequency structure and fine grain (the high
    frequencies a naive upscale of the network output would lose)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([90 + 60 * x / w, 110 + 50 * y / h, 140 - 40 * x / w], -1)
    mid = 25 * (np.sin(x / 9.0) * np.cos(y / 13.0))[..., None]
    fine = rng.normal(0, 14, (h, w, 1)) + rng.normal(0, 4, (h, w, 3))
    img = np.clip(base + mid + fine, 0, 255)
    if deep:
        return np.clip(img * 257 + rng.uniform(-100, 100, img.shape), 0, 65535).astype(np.uint16)
    return img.astype(np.uint8)


def disk_mask(h: int, w: int, cx: float, cy: float, r: float) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    cv2.circle(m, (int(cx), int(cy)), int(r), 1.0, -1)
    return m


def lo_pair(full: np.ndarray, mask: np.ndarray, lo_hw=(96, 128), shift=SHIFT):
    """(lo_src, lo_result): the network's view and a 'network output' that colour-shifts the
    masked region (soft at the low-res mask edge, like a real region edit)."""
    full8 = full if full.dtype == np.uint8 else ((full.astype(np.uint32) + 128) // 257).astype(np.uint8)
    lo_src = cv2.resize(full8, lo_hw[::-1], interpolation=cv2.INTER_AREA)
    lo_m = cv2.resize(mask, lo_hw[::-1], interpolation=cv2.INTER_AREA)[..., None]
    lo_res = np.clip(lo_src + shift * lo_m, 0, 255).astype(np.uint8)
    return lo_src, lo_res


def laplacian_energy(img: np.ndarray, where: np.ndarray) -> float:
    lap = cv2.Laplacian(img.astype(np.float32), cv2.CV_32F, ksize=1)
    return float((lap[where] ** 2).mean())


def erode(mask: np.ndarray, px: int) -> np.ndarray:
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.erode((mask > 0.5).astype(np.uint8), k).astype(bool)


def dilate(mask: np.ndarray, px: int) -> np.ndarray:
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * px + 1, 2 * px + 1))
    return cv2.dilate((mask > 0).astype(np.uint8), k).astype(bool)


def seam_score(out: np.ndarray, src: np.ndarray, mask: np.ndarray) -> float:
    """Edge the edit adds along the mask border: mean |grad G(out - src)| over a 3-px band around
    the border, G a Gaussian (sigma 1) that removes pixel-level texture differences (so a blurry
    paste cannot hide its step behind lost detail, as it can in a plain excess-gradient score)."""
    band = dilate(mask, 3) & ~erode(mask, 3)
    d = cv2.GaussianBlur(out.astype(np.float32) - src.astype(np.float32), (0, 0), 1.0)
    gx = cv2.Sobel(d, cv2.CV_32F, 1, 0, ksize=3) / 8
    gy = cv2.Sobel(d, cv2.CV_32F, 0, 1, ksize=3) / 8
    return float(np.sqrt(gx**2 + gy**2).sum(axis=2)[band].mean())


def excess_gradient(out: np.ndarray, src: np.ndarray, mask: np.ndarray) -> float:
    """mean |grad out| - mean |grad src| over the border band, in gray levels per pixel."""
    band = dilate(mask, 3) & ~erode(mask, 3)

    def grad(a):
        a = a.astype(np.float32)
        return (np.abs(cv2.Sobel(a, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(a, cv2.CV_32F, 0, 1))) / 8

    return float(grad(out)[band].mean() - grad(src)[band].mean())


@pytest.fixture(scope="module")
def scene():
    h, w = 480, 640
    full = textured(h, w)
    mask = disk_mask(h, w, 330, 230, 140)
    lo_src, lo_res = lo_pair(full, mask)
    return full, mask, lo_src, lo_res


# ---------------------------------------------------------------------------------------------


def test_bit_exact_outside_feathered_mask(scene):
    full, mask, lo_src, lo_res = scene
    fp = auto_feather_px(full.shape, lo_src.shape)
    assert fp == 10  # two low-res pixels at 5x
    out = upsample_edit(full, lo_src, lo_res, mask)
    m = feather_mask(mask, fp, guide=full)  # the default feather follows the photo
    assert out.dtype == np.uint8 and out.shape == full.shape
    np.testing.assert_array_equal(out[m == 0], full[m == 0])
    assert (m == 0).sum() > 0.5 * m.size
    # ... and only pixels near the mask may change at all.
    changed = (out != full).any(axis=2)
    assert not (changed & ~dilate(mask, feather_reach(fp, True) + 1)).any()
    assert changed[erode(mask, fp)].mean() > 0.95


def test_inside_feathering_never_touches_outside(scene):
    full, mask, lo_src, lo_res = scene
    out = upsample_edit(full, lo_src, lo_res, mask, inside=True)
    outside = mask == 0
    np.testing.assert_array_equal(out[outside], full[outside])


def test_detail_kept_and_colour_reproduced(scene):
    full, mask, lo_src, lo_res = scene
    out = upsample_edit(full, lo_src, lo_res, mask)
    core = erode(mask, 25)  # away from the feathered border
    e_in, e_out = laplacian_energy(full, core), laplacian_energy(out, core)
    assert e_out >= 0.8 * e_in, (e_out, e_in)
    naive = cv2.resize(lo_res, full.shape[1::-1], interpolation=cv2.INTER_CUBIC)
    assert laplacian_energy(naive, core) < 0.2 * e_in  # what a plain upscale would keep
    # The colour shift of the low-res result is reproduced at full resolution.
    lo_core = cv2.resize(core.astype(np.uint8), lo_src.shape[1::-1], interpolation=cv2.INTER_NEAREST).astype(bool)
    target = lo_res[lo_core].reshape(-1, 3).mean(0)
    got = out[core].reshape(-1, 3).mean(0)
    assert np.abs(got - target).max() < 2.0, (got, target)
    shift = out[core].astype(float).mean(0) - full[core].astype(float).mean(0)
    assert np.abs(shift - SHIFT).max() < 2.0, shift
    # Per pixel, the result is the source plus the shift (detail aligned, not just energy).
    diff = out[core].astype(float) - full[core].astype(float)
    assert np.abs(diff - SHIFT).mean() < 2.5


def test_seams_lower_than_hard_paste(scene):
    full, mask, lo_src, lo_res = scene
    out = upsample_edit(full, lo_src, lo_res, mask)
    up = cv2.resize(lo_res, full.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    hard = np.where(mask[..., None] > 0.5, up, full)
    s_ours, s_hard = seam_score(out, full, mask), seam_score(hard, full, mask)
    assert s_ours < 0.5 * s_hard, (s_ours, s_hard)

    # The plain excess-gradient score (as tcp_core.eval.metrics defines seams) sees no new edge either.
    assert excess_gradient(out, full, mask) < 1.0


def test_identity_edit_changes_nothing_much(scene):
    full, mask, lo_src, _ = scene
    out = upsample_edit(full, lo_src, lo_src, np.ones(mask.shape, np.float32))
    assert np.abs(out.astype(int) - full).max() <= 2
    assert np.abs(out.astype(int) - full).mean() < 0.3


def test_empty_mask_returns_copy(scene):
    full, mask, lo_src, lo_res = scene
    out = upsample_edit(full, lo_src, lo_res, np.zeros(mask.shape, np.float32))
    np.testing.assert_array_equal(out, full)
    assert out is not full


def test_mid_resolution_path_matches_exact(scene):
    full, mask, lo_src, lo_res = scene
    exact = upsample_edit(full, lo_src, lo_res, mask, max_mid_pixels=10**9)
    mid = upsample_edit(full, lo_src, lo_res, mask, max_mid_pixels=20_000)
    m = feather_mask(mask, auto_feather_px(full.shape, lo_src.shape), guide=full)
    np.testing.assert_array_equal(mid[m == 0], full[m == 0])
    d = mid.astype(float) - exact
    assert np.sqrt((d**2).mean()) < 1.5
    single = upsample_edit(full, lo_src, lo_res, mask, threads=1, strip_rows=37)
    np.testing.assert_array_equal(single, exact)  # strips and threads do not change the result


def test_in_place_writes_the_same_pixels_into_the_source(scene):
    """in_place=True (apply_regions' own copy of the photo, a crop view of it) gives the very pixels of
    a new array, without copying the crop, and leaves the pixels outside the crop alone."""
    full, mask, lo_src, lo_res = scene
    want = upsample_edit(full, lo_src, lo_res, mask)
    big = np.pad(full, ((7, 5), (11, 3), (0, 0)), mode="reflect")
    view = big[7:-5, 11:-3]  # a strided view, as apply_regions passes its crop
    before = big.copy()
    got = upsample_edit(view, lo_src, lo_res, mask, in_place=True)
    assert got is view
    np.testing.assert_array_equal(view, want)
    border = np.ones(big.shape[:2], bool)
    border[7:-5, 11:-3] = False
    np.testing.assert_array_equal(big[border], before[border])
    same = full.copy()
    out = upsample_edit(same, lo_src, lo_res, np.zeros(mask.shape, np.float32), in_place=True)
    assert out is same
    np.testing.assert_array_equal(same, full)


def test_mid_grid_sampled_in_row_strips_equals_one_pass():
    """_Plan samples the mid-resolution grid in strips of rows (small temporaries): the same values
    as sampling it in one pass."""
    from tcp_core.editing.fullres import _warp_to

    rng = np.random.default_rng(5)
    lo = rng.normal(size=(24, 40, 4)).astype(np.float32)
    box, out_hw = (37, 11, 1500, 901), (611, 1003)
    whole = _warp_to(lo, (24, 40), (960, 1600), box, out_hw)
    parts = [_warp_to(lo, (24, 40), (960, 1600), box, out_hw, rows=(r, min(611, r + 64))) for r in range(0, 611, 64)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_16bit_in_16bit_out():
    h, w = 240, 320
    full = textured(h, w, deep=True)
    mask = disk_mask(h, w, 160, 120, 70)
    lo_src, lo_res = lo_pair(full, mask, lo_hw=(48, 64))
    out = upsample_edit(full, lo_src, lo_res, mask)
    assert out.dtype == np.uint16
    m = feather_mask(mask, auto_feather_px(full.shape, lo_src.shape), guide=full)
    np.testing.assert_array_equal(out[m == 0], full[m == 0])
    core = erode(mask, 15)
    shift = (out[core].astype(float) - full[core].astype(float)).mean(0) / 257
    assert np.abs(shift - SHIFT).max() < 2.5, shift
    # 16-bit precision is kept: the output is not quantised to 257-steps.
    assert len(np.unique(out[core][:, 0] % 257)) > 50


def test_local_transform_fits_a_spatially_varying_colour_map():
    lo = textured(64, 96, seed=3)
    x = np.linspace(0, 1, 96, dtype=np.float32)[None, :, None]
    s = lo.astype(np.float32) / 255
    mixed = s @ np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7]], np.float32).T
    dst = np.clip((mixed * (0.8 + 0.4 * x) + 0.05) * 255, 0, 255).astype(np.uint8)
    T = fit_local_color_transform(lo, dst)
    pred = T.apply_lo(lo) * 255
    assert np.abs(pred - dst).mean() < 2.0
    # Full-res application of the same model: 2x upsampled source, compare with the map applied there.
    full = cv2.resize(lo, (192, 128), interpolation=cv2.INTER_LINEAR)
    got = apply_local_color_transform(full, T)
    fs = full.astype(np.float32) / 255
    xf = np.linspace(0, 1, 192, dtype=np.float32)[None, :, None]
    fm = fs @ np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7]], np.float32).T
    want = np.clip((fm * (0.8 + 0.4 * xf) + 0.05) * 255, 0, 255)
    assert np.abs(got - want).mean() < 3.0


def test_feather_mask_properties():
    m = np.zeros((100, 120), np.float32)
    m[30:70, 40:80] = 1
    f = feather_mask(m, 9)
    assert f.dtype == np.float32 and f.min() >= 0 and f.max() <= 1
    square = cv2.dilate(m, np.ones((21, 21), np.uint8)) > 0  # box filters: a square support
    assert (f[~square] == 0).all()  # support within the radius (+1 for rounding)
    assert (f[erode(m, 10)] == 1).all()  # the interior is exactly 1
    assert 0.3 < f[50, 40] < 0.7  # half-way at the border
    fi = feather_mask(m, 9, inside=True)
    assert (fi <= m).all() and (fi[m == 0] == 0).all()
    np.testing.assert_array_equal(feather_mask(m, 0), m)
    assert (feather_mask(np.zeros((5, 5)), 3) == 0).all()
    full = feather_mask(np.ones((50, 60), np.uint8) * 255, 7)
    assert (full == 1).all()  # the image border does not fade a full mask
    b = feather_mask(m > 0.5, 4)
    assert b.shape == m.shape


def test_region_crop_box():
    m = np.zeros((400, 600), np.float32)
    assert region_crop_box(m) is None
    m[100:140, 200:260] = 1
    x0, y0, x1, y1 = region_crop_box(m, margin=0.25, min_size=64)
    assert x0 <= 200 - 15 and x1 >= 260 + 15 and y0 <= 100 - 15 and y1 >= 140 + 15
    assert 0 <= x0 < x1 <= 600 and 0 <= y0 < y1 <= 400
    assert max(x1 - x0, y1 - y0) <= 2 * min(x1 - x0, y1 - y0)
    # tiny region: at least min_size; near the corner: clamped into the image
    t = np.zeros((400, 600), np.float32)
    t[2:4, 595:598] = 1
    x0, y0, x1, y1 = region_crop_box(t, min_size=64)
    assert (x1 - x0, y1 - y0) == (64, 64) and x1 == 600 and y0 == 0
    # a thin horizontal stroke gets enough height to respect the 2:1 aspect limit
    s = np.zeros((400, 600), np.float32)
    s[200:203, 50:550] = 1
    x0, y0, x1, y1 = region_crop_box(s)
    assert (x1 - x0) <= 2 * (y1 - y0) + 1
    # whole image
    assert region_crop_box(np.ones((40, 50))) == (0, 0, 50, 40)
    assert mask_bbox(s) == (50, 200, 550, 203)


def test_input_validation(scene):
    full, mask, lo_src, lo_res = scene
    with pytest.raises(ValueError, match="mask"):
        upsample_edit(full, lo_src, lo_res, mask[:-1])
    with pytest.raises(ValueError, match="same"):
        upsample_edit(full, lo_src, lo_res[:-1], mask)
    with pytest.raises(ValueError, match="uint8"):
        upsample_edit(full.astype(np.float32), lo_src, lo_res, mask)


def test_colour_smoothing_trades_network_blotches_for_photo_texture(scene):
    """A network output that shifts the region's colour but adds blotches of its own (an
    undertrained model's texture): a larger smoothing radius follows the blotches less and keeps
    the clean colour shift, and every radius still carries the shift itself."""
    full, mask, lo_src, _ = scene
    rng = np.random.default_rng(4)
    h, w = lo_src.shape[:2]
    blotch = cv2.resize(rng.normal(0, 30, (h // 8, w // 8, 3)).astype(np.float32), (w, h),
                        interpolation=cv2.INTER_CUBIC)
    lo_m = cv2.resize(mask, (w, h), interpolation=cv2.INTER_AREA)[..., None]
    lo_res = np.clip(lo_src + (SHIFT + blotch) * lo_m, 0, 255).astype(np.uint8)
    clean = np.clip(full.astype(np.float32) + SHIFT, 0, 255)
    core = erode(mask, 40)
    dev, shift = {}, {}
    levels = (0, 3, DEFAULT_SMOOTHING, 16)
    for s in levels:
        out = upsample_edit(full, lo_src, lo_res, mask, 0, smoothing=s).astype(np.float32)
        dev[s] = float(np.abs(out - clean)[core].mean())
        shift[s] = (out - full.astype(np.float32))[core].mean(axis=0)
    assert [dev[s] for s in levels] == sorted(dev.values(), reverse=True) and len(set(dev.values())) == 4, dev
    for r, s in shift.items():
        assert np.abs(s - SHIFT).max() < 8, (r, s)
    # outside the mask nothing moves, whatever the radius
    out = upsample_edit(full, lo_src, lo_res, mask, 0, smoothing=MAX_SMOOTHING)
    assert np.array_equal(out[mask == 0], full[mask == 0])


@pytest.mark.parametrize("bad", [-1, MAX_SMOOTHING + 1, float("nan"), True, "6"])
def test_colour_smoothing_is_validated(scene, bad):
    full, mask, lo_src, lo_res = scene
    with pytest.raises(ValueError, match="colour smoothing must be a number between 0 and 32"):
        upsample_edit(full, lo_src, lo_res, mask, smoothing=bad)
    with pytest.raises(ValueError, match="radius must be an integer"):
        fit_local_color_transform(lo_src, lo_res, radius=-1)


def test_colour_smoothing_scales_with_the_network_resolution():
    from tcp_core.editing.fullres import smoothing_radius

    assert smoothing_radius(6, (128, 192, 3)) == 6  # levels are pixels of a 128 px network image
    assert smoothing_radius(6, (256, 384)) == 12 and smoothing_radius(6, (32, 48)) == 2
    assert smoothing_radius(0, (512, 512)) == 0


@settings(max_examples=30, deadline=None)
@given(
    h=st.integers(8, 80),
    w=st.integers(8, 80),
    seed=st.integers(0, 10_000),
    feather=st.one_of(st.none(), st.integers(0, 12)),
    soft=st.booleans(),
)
def test_untouched_where_mask_is_zero_property(h, w, seed, feather, soft):
    rng = np.random.default_rng(seed)
    full = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.float32)
    for _ in range(rng.integers(0, 3)):
        y, x = rng.integers(0, h), rng.integers(0, w)
        mask[y : y + rng.integers(1, h), x : x + rng.integers(1, w)] = rng.uniform(0.2, 1) if soft else 1
    lh, lw = max(2, h // 3), max(2, w // 3)
    lo_src = cv2.resize(full, (lw, lh), interpolation=cv2.INTER_AREA)
    lo_res = rng.integers(0, 256, (lh, lw, 3), dtype=np.uint8)  # an arbitrary (even wild) network output
    out = upsample_edit(full, lo_src, lo_res, mask, feather)
    fp = feather if feather is not None else auto_feather_px(full.shape, lo_src.shape)
    m = feather_mask(mask, fp, guide=full)
    np.testing.assert_array_equal(out[m == 0], full[m == 0])


def test_guided_feather_follows_the_photo():
    """The photo-guided feather: where the mask's edge runs along an edge of the photo it stays sharp (full
    strength up to the edge inside, nothing across it); where the photo is smooth it fades over about twice
    the scaled radius; inside=True never reaches beyond the mask. A guide of another size is refused."""
    from tcp_core.editing.masks import GUIDED_FEATHER_SCALE

    h, w, r = 80, 120, 4
    mask = np.zeros((h, w), np.float32)
    mask[:, :60] = 1.0
    edge = np.full((h, w, 3), 40, np.uint8)
    edge[:, :60] = 220  # the photo has an edge where the mask has one
    flat = np.full((h, w, 3), 128, np.uint8)
    for inside in (False, True):
        sharp = feather_mask(mask, r, inside=inside, guide=edge)
        soft = feather_mask(mask, r, inside=inside, guide=flat)
        assert sharp[40, 59] > 0.95 and sharp[40, 60] < 0.05  # as sharp as the photo's edge
        R = round(r * GUIDED_FEATHER_SCALE["inside" if inside else "across"])
        row = soft[40]
        assert (np.diff(row) <= 1e-6).all()  # a monotone fade ...
        assert row[60 - 2 * R - 1] == 1.0 and 0.0 < row[59] < 0.9  # ... over the smooth part
        if inside:
            assert (soft <= mask).all() and (sharp <= mask).all() and row[59] < 0.3
        else:
            assert row[60] > 0 and row[60 + 2 * R + 1] == 0.0
    for guide in (edge.astype(np.uint16) * 257,):  # 16-bit photos feather alike
        np.testing.assert_allclose(feather_mask(mask, r, guide=guide), feather_mask(mask, r, guide=edge), atol=1e-4)
    with pytest.raises(ValueError, match="guide"):
        feather_mask(mask, r, guide=edge[:-1])


def test_guided_feather_follows_an_edge_of_colour_alone():
    """A blue sky against grey rock of the same brightness: a luma guide cannot see that edge (the edit would fade
    out over the sky next to the rock and leave a rim of the old colour); the colour guide keeps the feather at
    full strength up to it."""
    h, w = 60, 100
    mask = np.zeros((h, w), np.float32)
    mask[:, :50] = 1.0
    photo = np.empty((h, w, 3), np.uint8)
    photo[:, :50] = (70, 110, 200)  # blue: luma about 105
    photo[:, 50:] = (105, 105, 105)  # grey, the same luma
    inside = feather_mask(mask, 4, inside=True, guide=photo)
    assert inside[30, 48] > 0.9 and inside[30, 45:50].min() > 0.85
    flat = feather_mask(mask, 4, inside=True, guide=np.full_like(photo, 105))
    assert flat[30, 48] < 0.3  # (where the photo is smooth it does fade out)


def test_guided_feather_fits_on_a_bounded_number_of_pixels(monkeypatch):
    """A small feather on a huge photo: the guided filter's coefficients are fitted on at most GUIDED_FIT_PIXELS
    (memory and time stay bounded), and the feather still follows the photo's edge and stays inside the mask."""
    import tcp_core.editing.masks as masks_mod

    h, w = 80, 120
    mask = np.zeros((h, w), np.float32)
    mask[:, :60] = 1.0
    photo = np.full((h, w, 3), 40, np.uint8)
    photo[:, :60] = (90, 140, 230)
    seen = []
    orig = masks_mod.cv2.resize

    def spy(src, dsize, *a, **k):
        seen.append(dsize)
        return orig(src, dsize, *a, **k)

    monkeypatch.setattr(masks_mod, "GUIDED_FIT_PIXELS", 2000)
    monkeypatch.setattr(masks_mod.cv2, "resize", spy)
    f = feather_mask(mask, 2, inside=True, guide=photo)
    assert seen and min(dw * dh for dw, dh in seen) <= 2000  # fitted on a subsampled copy
    assert (f <= mask).all() and f[40, 58] > 0.8 and f[40, :50].min() == 1.0


def test_edit_extent_is_the_feather_the_export_blends_with():
    """`masks.edit_extent` (the editor's outlines): the export changes no pixel it leaves at 0 and every pixel it puts
    clearly above 0; with the feather inside, nothing outside the mask."""
    import dataclasses

    from tcp_core.editing.apply import apply_regions
    from tcp_core.editing.export_config import ExportConfig
    from tcp_core.editing.inference import TCPModel, size_multiple, working_size
    from tcp_core.editing.masks import edit_extent
    from tcp_core.editing.regions import RegionEdit

    model = TCPModel.from_config("tiny")
    cfg = model.config

    def ws(h, w):
        return working_size(h, w, cfg.resolution, size_multiple(cfg))

    rng = np.random.default_rng(0)
    H, W = 120, 160
    sky = np.broadcast_to((np.arange(H) < 50)[:, None, None], (H, W, 3))
    photo = np.where(sky, np.array([90, 140, 220]), rng.normal((120, 90, 60), 18, (H, W, 3))).clip(0, 255)
    photo = photo.astype(np.uint8)
    mask = np.zeros((H, W), np.float32)
    mask[:50, 20:140] = 1.0
    style = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    for edge in ("across", "inside"):
        e = edit_extent(mask, photo, ws, inside=edge == "inside")
        assert e.shape == (H, W) and e.dtype == np.float32 and 0 <= e.min() and e.max() == 1.0
        out = apply_regions(model, photo, [RegionEdit(style, mask, 1.0)],
                            dataclasses.replace(ExportConfig.resolve(None), edge=edge))
        changed = (out != photo).any(-1)
        assert not (changed & (e == 0)).any()
        assert changed[e > 0.05].all()
        if edge == "inside":
            assert not e[mask == 0].any()
        else:
            assert e[mask == 0].any()
    assert not edit_extent(np.zeros((H, W), np.float32), photo, ws).any()
