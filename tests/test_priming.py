"""Colour priming (`tcp_core.colour.priming`), the export's `pre_transfer` (`apply --pre-transfer`) and the
trainer's primed swaps (`--swap-prime`)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_apply import FakeModel, disk, files, photo_of, run, textured  # noqa: F401 - `files` is a fixture

from tcp_core.base.constants import DEFAULT_PRIMING_CAP
from tcp_core.colour.priming import lab_moments, prime_region, reinhard_lab
from tcp_core.editing.apply import apply_regions
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.regions import RegionEdit


def lab(img):
    return cv2.cvtColor(img.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def test_lab_moments_weighted_mean_and_std():
    x = np.zeros((2, 2, 3), np.float32)
    x[0, 0] = (10, 20, 30)
    x[1, 1] = (30, 40, 50)
    w = np.array([[1, 0], [0, 1]], np.float32)
    mu, sd = lab_moments(x, w)
    np.testing.assert_allclose(mu, [20, 30, 40])
    np.testing.assert_allclose(sd, [10, 10, 10])
    mu_all, _ = lab_moments(x)
    np.testing.assert_allclose(mu_all, [10, 15, 20])
    with pytest.raises(ValueError, match="no pixel"):
        lab_moments(x, np.zeros((2, 2)))


def test_reinhard_gives_the_region_the_references_lab_moments():
    src = textured(64, 80, seed=1)
    style = textured(50, 50, seed=9)[:, :, ::-1].copy()
    mask = disk(64, 80, 40, 32, 20).astype(np.float32)
    out = reinhard_lab(src, style, mask)
    mu_o, sd_o = lab_moments(lab(out), mask)
    mu_s, sd_s = lab_moments(lab(style))
    np.testing.assert_allclose(mu_o, mu_s, atol=1.5)  # (uint8 rounding, gamut clipping)
    np.testing.assert_allclose(sd_o, sd_s, rtol=0.15, atol=1.0)
    # a style part: the moments of that part only
    part = np.zeros(style.shape[:2], np.float32)
    part[:, :20] = 1
    mu_p, _ = lab_moments(lab(reinhard_lab(src, style, mask, part)), mask)
    np.testing.assert_allclose(mu_p, lab_moments(lab(style), part)[0], atol=1.5)


def test_the_spread_cap_keeps_a_flat_region_from_being_stretched():
    """A near-grey region under a colourful reference: Reinhard's spread ratio is large and stretches the region's
    faint variations into blotches; with max_spread each channel's spread grows at most that much, the means still
    move to the reference's. prime_region caps by default (DEFAULT_PRIMING_CAP) and refuses a cap <= 0."""
    rng = np.random.default_rng(4)
    src = np.clip(128 + rng.normal(0, 2, (48, 64, 3)), 0, 255).astype(np.uint8)  # a flat grey sky, a little noise
    style = textured(50, 50, seed=9)[:, :, ::-1].copy()
    mask = np.ones(src.shape[:2], np.float32)
    _, sd_c = lab_moments(lab(src), mask)
    mu_s, sd_s = lab_moments(lab(style))
    assert (sd_s / sd_c).max() > 5  # what the cap is for
    capped = reinhard_lab(src, style, mask, max_spread=2.0)
    mu_o, sd_o = lab_moments(lab(capped), mask)
    assert (sd_o <= 2.0 * sd_c + 0.6).all(), (sd_o, sd_c)  # (uint8 rounding)
    np.testing.assert_allclose(mu_o, mu_s, atol=1.5)
    free = reinhard_lab(src, style, mask)
    assert lab_moments(lab(free), mask)[1].max() > 2 * sd_o.max()
    by_default = prime_region(src, style, mask, 1.0)
    np.testing.assert_array_equal(by_default, prime_region(src, style, mask, 1.0, None, DEFAULT_PRIMING_CAP))
    assert (by_default != prime_region(src, style, mask, 1.0, None, None)).any()
    with pytest.raises(ValueError, match="spread cap"):
        prime_region(src, style, mask, 1.0, None, 0.0)


def test_prime_region_blends_inside_the_mask_only():
    src = textured(48, 64, seed=2)
    style = np.full((30, 30, 3), (200, 90, 40), np.uint8)
    mask = disk(48, 64, 32, 24, 14).astype(np.float32)
    assert prime_region(src, style, mask, 0.0) is src
    assert prime_region(src, style, np.zeros_like(mask), 1.0) is src
    full = prime_region(src, style, mask, 1.0)
    half = prime_region(src, style, mask, 0.5)
    outside = mask == 0
    np.testing.assert_array_equal(full[outside], src[outside])
    np.testing.assert_array_equal(half[outside], src[outside])
    inside = mask == 1
    np.testing.assert_array_equal(full[inside], reinhard_lab(src, style, mask)[inside])
    mid = (src.astype(float) + full) / 2
    assert np.abs(half[inside] - mid[inside]).max() <= 1.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        prime_region(src, style, mask, 1.5)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(amount=st.floats(0, 1), seed=st.integers(0, 50))
def test_prime_region_moves_the_region_mean_towards_the_reference(amount, seed):
    """Property: the region's Lab mean moves along the way to the reference's, by about `amount` of it."""
    src = textured(32, 32, seed=seed)
    style = textured(24, 24, seed=seed + 100)[:, :, ::-1].copy()
    mask = disk(32, 32, 16, 16, 10).astype(np.float32)
    out = prime_region(src, style, mask, amount)
    mu_src, mu_ref = lab_moments(lab(src), mask)[0], lab_moments(lab(style))[0]
    mu_out = lab_moments(lab(out), mask)[0]
    gap = np.linalg.norm(mu_ref - mu_src)
    assert np.linalg.norm(mu_out - mu_src) <= amount * gap + 2.0
    assert np.linalg.norm(mu_ref - mu_out) <= (1 - amount) * gap + 2.0


@pytest.mark.parametrize("swap_interior", [True, False])
def test_apply_pre_transfer_primes_what_fills_the_region_and_measures_against_the_photo(swap_interior):
    """With swap_interior (the default) the global swap that fills the region's inside edits the primed photo
    and the region edit at the border the photo itself; without it the region edit is primed. The reference
    edits (strength 0) always see the photo, and nothing outside the feathered mask changes."""
    h, w = 96, 128
    rgb = textured(h, w, seed=4)
    style = np.full((40, 40, 3), (230, 120, 30), np.uint8)
    mask = disk(h, w, 64, 48, 30)
    outs = {}
    for a in (0.0, 0.5):
        model = FakeModel()
        outs[a] = apply_regions(model, photo_of(rgb), [RegionEdit(style, mask, 1.0)],
                                ExportConfig(priming=a, interior="guided" if swap_interior else "off"))
        regions = [c for c in model.calls if c[0] == "region"]
        edit, ref = regions[0], regions[-1]  # the styled edit, then the strength-0 reference
        assert edit[4] == 1.0 and ref[4] == 0.0
        lo_photo = ref[1]
        edit_primed = not np.array_equal(edit[1], lo_photo)
        assert edit_primed == (a > 0 and not swap_interior)
        swaps = [c for c in model.calls if c[0] == "swap" and c[4] == 1.0]
        if swap_interior:
            assert len(swaps) == 1 and (not np.array_equal(swaps[0][1], lo_photo)) == (a > 0)
            assert all(np.array_equal(c[1], lo_photo) for c in model.calls if c[0] == "swap" and c[4] == 0.0)
        else:
            assert not swaps
    inside = mask > 0
    target = np.array([230, 120, 30], float)
    d = {a: np.abs(o[inside].astype(float).mean(0) - target).sum() for a, o in outs.items()}
    assert d[0.5] < d[0.0] - 15, d  # closer to the reference's colour
    outside = ~disk(h, w, 64, 48, 40).astype(bool)
    np.testing.assert_array_equal(outs[0.5][outside], rgb[outside])


def test_a_regions_own_priming_replaces_the_edits():
    """RegionEdit.pre_transfer (0..1, checked) primes that region by its own amount; None takes apply_regions'
    pre_transfer. Two regions, the edit's priming 0: the one with its own priming 1 moves to the reference's
    colour, the other stays the network's edit of the photo."""
    h, w = 96, 160
    rgb = textured(h, w, seed=4)
    style = np.full((40, 40, 3), (230, 120, 30), np.uint8)
    left, right = disk(h, w, 40, 48, 26), disk(h, w, 120, 48, 26)
    both = [RegionEdit(style, left, 1.0, None, 1.0), RegionEdit(style, right, 1.0)]
    out = apply_regions(FakeModel(), photo_of(rgb), both, ExportConfig(priming=0.0))
    plain = apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(style, left, 1.0), RegionEdit(style, right, 1.0)],
                          ExportConfig(priming=0.0))
    target = np.array([230, 120, 30], float)
    gap = {k: np.abs(o[m > 0].astype(float).mean(0) - target).sum()
           for k, (o, m) in {"own": (out, left), "plain": (plain, left)}.items()}
    assert gap["own"] < gap["plain"] - 30, gap
    np.testing.assert_array_equal(out[right > 0], plain[right > 0])  # None: the edit's own 0
    same = apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(style, left, 1.0, None, 1.0)],
                         ExportConfig(priming=0.0))
    np.testing.assert_array_equal(same, apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(style, left, 1.0)],
                                                      ExportConfig(priming=1.0)))
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="colour priming must be between 0 and 1"):
            RegionEdit(style, left, 1.0, None, bad)


def test_the_default_priming_is_in_range():
    from tcp_core.base.constants import DEFAULT_PRE_TRANSFER

    assert 0.0 <= DEFAULT_PRE_TRANSFER <= 1.0
    assert ExportConfig().priming == DEFAULT_PRE_TRANSFER  # what apply_regions takes without a config


def test_apply_pre_transfer_vanishes_at_strength_zero_and_is_range_checked(tiny_model):
    h, w = 80, 100
    rgb = textured(h, w, seed=3)
    mask = disk(h, w, 50, 40, 25)
    style = textured(48, 48, seed=8)[:, :, ::-1].copy()
    out = apply_regions(tiny_model, photo_of(rgb), [RegionEdit(style, mask, 0.0)], ExportConfig(priming=1.0))
    assert np.abs(out.astype(int) - rgb).max() <= 1
    with pytest.raises(ValueError, match="priming"):
        apply_regions(tiny_model, photo_of(rgb), [RegionEdit(style, mask, 1.0)], ExportConfig(priming=1.2))


def test_cli_pre_transfer(files, capsys):  # noqa: F811 (fixture)
    """`apply --pre-transfer` reaches the export (a different result) and is range-checked."""
    from tcp_core.io.imageio import load_image

    outs = []
    for a in ("0", "0.8"):
        out = files.dir / f"pre{a}.png"
        rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--pre-transfer", a,
                       "-o", out], capsys, model=FakeModel())
        assert rc == 0, err
        outs.append(load_image(out).rgb)
    assert (outs[0] != outs[1]).any()
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--pre-transfer", "2",
                   "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    assert rc == 2 and "--pre-transfer" in err and "between 0 and 1" in err and len(err.strip().splitlines()) == 1
    assert not (files.dir / "bad.png").exists()
    # one --pre-transfer per region: the second region's own amount reaches it
    two = []
    for a in ("0", "0.9"):
        out = files.dir / f"two{a}.png"
        rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask2, "--style", files.style,
                       "--mask", files.mask, "--pre-transfer", "0", "--pre-transfer", a, "-o", out], capsys,
                      model=FakeModel())
        assert rc == 0, err
        two.append(load_image(out).rgb)
    assert (two[0] != two[1]).any()
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--pre-transfer", "0",
                   "--pre-transfer", "1", "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    assert rc == 2 and "one --pre-transfer for all regions or one per region" in err
    assert not (files.dir / "bad.png").exists()
    # --priming-cap reaches the export; 0 is no cap; below 0 is refused
    capped = []
    for cap in ("1.2", "0"):
        out = files.dir / f"cap{cap}.png"
        rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--pre-transfer", "1",
                       "--priming-cap", cap, "-o", out], capsys, model=FakeModel())
        assert rc == 0, err
        capped.append(load_image(out).rgb)
    assert (capped[0] != capped[1]).any()
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--priming-cap", "-1",
                   "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    assert rc == 2 and "--priming-cap" in err and not (files.dir / "bad.png").exists()


def test_slider_drags_interpolate_the_primed_swap_between_cached_key_frames():
    """With keyframe_step (the editor's slider drags) the primed swap that fills the inside is asked only at
    multiples of the step and blended between them, so a drag does not prime and encode a new photo at every
    strength; without it (exports) the swap runs at the exact strength."""
    from tcp_core.editing.apply import _primed_swap

    rgb = textured(32, 32, seed=6)
    style = np.full((20, 20, 3), (220, 100, 40), np.uint8)
    m = disk(32, 32, 16, 16, 10).astype(np.float32)
    model = FakeModel()
    exact = {t: _primed_swap(model, rgb, style, m, 0.5, t, {}) for t in (0.5, 0.75)}
    assert [c[4] for c in model.calls] == [0.5, 0.75]
    model.calls.clear()
    mid = _primed_swap(model, rgb, style, m, 0.5, 0.6, {}, keyframe_step=0.25)
    assert sorted(c[4] for c in model.calls) == [0.5, 0.75]  # only key frames
    lo, hi = np.minimum(exact[0.5], exact[0.75]), np.maximum(exact[0.5], exact[0.75])
    assert ((mid >= lo.astype(int) - 1) & (mid <= hi.astype(int) + 1)).all()
    np.testing.assert_array_equal(_primed_swap(model, rgb, style, m, 0.5, 0.75, {}, keyframe_step=0.25), exact[0.75])
    model.calls.clear()
    _primed_swap(model, rgb, style, m, 0.0, 0.6, {}, keyframe_step=0.25)  # no priming: the exact strength
    assert [c[4] for c in model.calls] == [0.6]


def test_primed_photos_prime_inside_a_mask_and_amount_zero_is_the_photo():
    """--swap-prime's inputs: the export's own priming on each pair, a random amount up to the maximum;
    at maximum 0 every photo comes back exactly as it was."""
    from tcp_core.training.primed import primed_photos

    g = torch.Generator().manual_seed(3)
    real = torch.rand(4, 3, 32, 32, generator=g) * 2 - 1
    refs = torch.rand(4, 3, 32, 32, generator=g) * 0.2 - 0.9  # dark references
    same = primed_photos(real, refs, "strokes", 0.0, np.random.default_rng(0))
    assert torch.equal(same, real)
    primed = primed_photos(real, refs, "regions", 1.0, np.random.default_rng(0))
    assert primed.shape == real.shape and not primed.requires_grad
    moved = (primed - real).abs().amax(dim=1)  # [N, H, W]
    assert float(moved.max()) > 0.05  # something was primed ...
    assert float((primed - real).mean()) < 0  # ... towards the dark references
    untouched = (moved < 1e-6).float().mean()
    assert 0.0 < float(untouched) < 1.0  # only inside the masks
    with pytest.raises(ValueError, match="between 0 and 1"):
        primed_photos(real, refs, "strokes", 1.5, np.random.default_rng(0))


@pytest.mark.parametrize("profile", ["rows", "global"])
def test_primed_photos_prime_as_the_export_primes(profile):
    """--swap-prime-profile: each training pair is primed exactly as the export primes that region with that
    profile (`priming_options`: the reference's rows at the region's place for "rows"), and the two profiles
    differ on a reference whose top and bottom differ."""
    from tcp_core.colour.priming import prime_region, region_rows
    from tcp_core.editing.apply import priming_options
    from tcp_core.training.masks import training_masks
    from tcp_core.training.primed import primed_photos, uint8_photos

    g = torch.Generator().manual_seed(5)
    real = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    refs = torch.rand(2, 3, 32, 32, generator=g) * 0.2
    refs[:, :, :16] -= 0.9  # a dark top, a light bottom
    primed = primed_photos(real, refs, "regions", 1.0, np.random.default_rng(7), profile)
    rng = np.random.default_rng(7)  # the same stream: the same masks, then the same amounts
    src, ref = uint8_photos(real), uint8_photos(refs)
    masks = training_masks("regions", src, rng)[:, 0]
    amounts = rng.uniform(0.0, 1.0, size=2)
    for i in range(2):
        want = prime_region(src[i], ref[i], masks[i], float(amounts[i]),
                            **priming_options(profile, masks[i], None)).astype(np.float32)
        got = uint8_photos(primed[i:i + 1])[0].astype(np.float32)
        assert np.abs(got - want).max() <= 1.0  # float32 round trip of the change
    other = primed_photos(real, refs, "regions", 1.0, np.random.default_rng(7),
                          "global" if profile == "rows" else "rows")
    assert not torch.allclose(primed, other)
    assert region_rows(np.zeros((4, 4))) is None
    assert region_rows(np.pad(np.ones((2, 4)), ((1, 1), (0, 0)))) == (0.25, 0.75)


def test_trainer_swap_prime_swaps_the_primed_photo():
    """With swap_prime the swap decodes the content code of the primed photo: another swap than without,
    from the same weights and random streams; the reconstruction is the same."""
    from tcp_core.base.config import TrainConfig, model_preset
    from tcp_core.base.errors import UsageError
    from tcp_core.training.trainer import Trainer

    real = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    fakes = {}
    for prime in (0.0, 1.0):
        tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2, reuse_fakes=True,
                           swap_prime=prime, ca_masks="regions")
        tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"), precision="fp32")
        stats = tr.g_step(real, tcp=True)
        assert all(math.isfinite(float(v.detach())) for v in stats.values())
        fakes[prime] = tr._fakes
    assert torch.allclose(fakes[0.0][:4], fakes[1.0][:4])  # reconstructions
    assert not torch.allclose(fakes[0.0][4:], fakes[1.0][4:])  # swaps
    with pytest.raises(UsageError, match="swap_prime"):
        TrainConfig(preset="tiny", swap_prime=2.0)
    with pytest.raises(UsageError, match="swap_prime_profile"):
        TrainConfig(preset="tiny", swap_prime=1.0, swap_prime_profile="columns")
