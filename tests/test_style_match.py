"""The automatic style part (`tcp_core.editing.matching`): which part of a reference matches a region."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tcp_core.editing.cli import main
from tcp_core.editing.inference import TCPModel, working_size
from tcp_core.editing.matching import (
    MatchConfig,
    match_histogram,
    part_from_histogram,
    unit_features,
    upsample_part,
)


def _two_textures(h, w, seed, top_first=True):
    """A photo of two halves that look nothing alike: smooth blue noise above, coarse green-brown
    blocks below (or the other way round)."""
    rng = np.random.default_rng(seed)
    sky = np.clip(np.array([90, 140, 220]) + rng.normal(0, 6, (h // 2, w, 3)), 0, 255)
    blocks = rng.integers(0, 2, (h // 2 // 4 + 1, w // 4 + 1, 1))
    ground = np.where(np.kron(blocks, np.ones((4, 4, 1)))[: h // 2, :w] > 0, [60, 120, 30], [120, 80, 40])
    ground = ground + rng.normal(0, 10, ground.shape)
    halves = [sky, ground] if top_first else [ground, sky]
    return np.clip(np.concatenate(halves, 0), 0, 255).astype(np.uint8)


def test_match_histogram_is_a_distribution_that_finds_each_location_itself():
    torch.manual_seed(0)
    f = F.normalize(torch.randn(1, 16, 5, 7), dim=1)
    m = torch.zeros(1, 1, 5, 7)
    m[..., 1, 2] = 1.0
    h = match_histogram(f, m, f, tau=0.01)
    assert h.shape == (5, 7) and bool((h >= 0).all()) and abs(float(h.sum()) - 1) < 1e-5
    assert int(h.argmax()) == 1 * 7 + 2 and float(h[1, 2]) > 0.99
    hot = match_histogram(f, torch.ones(1, 1, 5, 7), f, tau=100.0)  # a hot softmax: every location alike
    assert torch.allclose(hot, torch.full((5, 7), 1 / 35), atol=2e-3)
    with pytest.raises(ValueError, match="empty"):
        match_histogram(f, torch.zeros(1, 1, 5, 7), f, tau=0.05)


def test_part_holds_the_mass_and_at_least_the_minimum_area():
    h = np.zeros((10, 10), np.float32)
    h[:5, :5] = 1.0  # a quarter of the grid holds all the matches
    part = part_from_histogram(h, mass=0.9, min_area=0.05)
    assert set(np.unique(part)) == {0.0, 1.0}
    assert part[:4, :4].all() and not part[7:, 7:].any()  # the matched block, not the far corner
    assert 0.2 <= part.mean() <= 0.36
    assert part_from_histogram(h, mass=0.9, min_area=0.8).mean() >= 0.8  # never below min_area
    assert part_from_histogram(np.ones((10, 10)), mass=0.6, min_area=0.1).mean() == pytest.approx(0.6, abs=0.02)
    soft = upsample_part(part, (100, 120), feather=0.05)
    assert soft.shape == (100, 120) and soft.dtype == np.float32 and 0 <= soft.min() and soft.max() <= 1
    assert soft[5, 5] > 0.95 and soft[95, 115] < 0.05


def test_unit_features_and_the_match_grid():
    f = unit_features([torch.randn(1, 4, 8, 8), torch.randn(1, 6, 4, 4)], (8, 8))
    assert f.shape == (1, 10, 8, 8) and torch.allclose(f.norm(dim=1), torch.ones(1, 8, 8), atol=1e-5)
    assert working_size(600, 800, 224, 16) == (224, 304) and working_size(800, 200, 64, 16) == (128, 64)
    for bad in ({"size": 100}, {"tau": 0}, {"mass": 0}, {"min_area": 1.5}, {"feather": -1}):
        with pytest.raises(ValueError):
            MatchConfig(**bad)


def test_the_sky_of_a_region_finds_the_sky_of_the_reference():
    m = TCPModel.from_config("tiny", seed=1)
    photo = _two_textures(96, 128, 1, top_first=True)  # sky above
    ref = _two_textures(80, 120, 2, top_first=False)  # sky below
    sky = np.zeros((96, 128), np.float32)
    sky[:40] = 1.0
    part = m.match_style_part(photo, sky, ref, MatchConfig(size=64, feather=0.0))
    assert part.shape == (80, 120) and part.dtype == np.float32
    # the part holds 60 % of the matches: 60 % of the reference's sky, none of its ground
    assert 0.45 < part[44:].mean() < 0.75 and part[:36].mean() < 0.05
    whole = m.match_style_part(photo, sky, ref, MatchConfig(size=64, feather=0.0, mass=0.97))
    assert whole[44:].mean() > 0.85 and whole[:36].mean() < 0.1
    ground = 1 - sky
    ground[40:48] = 0
    part_g = m.match_style_part(photo, ground, ref, MatchConfig(size=64, feather=0.0))
    assert part_g[:36].mean() > 0.45 and part_g[44:].mean() < 0.05
    with pytest.raises(ValueError, match="region is empty"):
        m.match_style_part(photo, np.zeros_like(sky), ref)
    with pytest.raises(ValueError, match="does not match"):
        m.match_style_part(photo, np.ones((10, 10), np.float32), ref)


def test_apply_style_mask_auto(tmp_path, capsys):
    photo, style = tmp_path / "photo.png", tmp_path / "style.png"
    Image.fromarray(_two_textures(96, 128, 3)).save(photo)
    Image.fromarray(_two_textures(80, 120, 4, top_first=False)).save(style)
    mask = tmp_path / "mask.png"
    mk = np.zeros((96, 128), np.uint8)
    mk[:40] = 255
    Image.fromarray(mk).save(mask)
    base = ["apply", str(photo), "--style", str(style), "--mask", str(mask), "--preset", "tiny"]
    assert main([*base, "-o", str(tmp_path / "a.png")]) == 0
    assert main([*base, "--style-mask", "auto", "-o", str(tmp_path / "b.png"), "--timings"]) == 0
    assert "match" in capsys.readouterr().err
    a, b = (np.asarray(Image.open(tmp_path / f"{n}.png")) for n in "ab")
    assert not np.array_equal(a, b)
    both = [*base, "--style", str(style), "--mask", str(mask)]
    assert main([*both, "--style-mask", "auto", "-o", str(tmp_path / "c.png")]) == 0  # one 'auto' for both
    assert main([*both, "--style-mask", "auto", "--style-mask", "none", "-o", str(tmp_path / "d.png")]) == 0
    capsys.readouterr()
    assert main(["apply", str(photo), "--style", str(style), "--global", "--preset", "tiny", "--style-mask", "auto",
                 "-o", str(tmp_path / "e.png")]) == 2
    assert "--global" in capsys.readouterr().err
    empty = tmp_path / "empty.png"
    Image.fromarray(np.zeros((96, 128), np.uint8)).save(empty)
    assert main(["apply", str(photo), "--style", str(style), "--mask", str(empty), "--preset", "tiny",
                 "--style-mask", "auto", "-o", str(tmp_path / "f.png")]) == 0  # nothing to match: no crash
