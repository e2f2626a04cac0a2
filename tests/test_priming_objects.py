"""`apply --priming-objects keep` (`prime_region(objects="keep")`, `priming.object_weight`): colour priming leaves
what a textured region holds that is not its material as it is (a grey rock in a green meadow does not turn cyan
under an autumn reference), reads the region's colour moments without it, and in a smooth region (a sky, fog)
primes everything, because there the odd pixels are clouds and the sun."""

from __future__ import annotations

import numpy as np
import pytest
from test_apply import FakeModel, files, photo_of, run  # noqa: F401 - `files` is a fixture

from tcp_core.base.constants import DEFAULT_PRIMING_OBJECTS, PRIMING_OBJECTS
from tcp_core.colour.priming import _lab, object_weight, prime_region
from tcp_core.editing.apply import apply_regions
from tcp_core.editing.export_config import ExportConfig, ExportSettingError
from tcp_core.editing.regions import RegionEdit

H, W = 96, 128
ROCK = (slice(40, 56), slice(56, 76))  # a grey rock in the meadow


def meadow(seed=0):
    """Green grass with some texture (the region's material), a grey rock in it."""
    rng = np.random.default_rng(seed)
    img = np.clip(rng.normal((70, 120, 40), 8, (H, W, 3)), 0, 255)
    img[ROCK] = (150, 150, 150)
    return img.astype(np.uint8)


def autumn():
    rng = np.random.default_rng(1)
    return np.clip(rng.normal((200, 120, 40), 15, (H, W, 3)), 0, 255).astype(np.uint8)


def test_object_weight_finds_the_rock_not_the_grass():
    m = np.ones((H, W), np.float32)
    m[:, :8] = 0
    o = object_weight(meadow(), m)
    assert o.dtype == np.float32 and o.shape == (H, W) and 0 <= o.min() and o.max() <= 1
    assert o[44:52, 60:72].min() > 0.99  # the rock's inside
    grass = np.ones((H, W), bool)
    grass[36:60, 52:80] = False
    assert o[grass].mean() < 0.01 and o[:, :8].max() == 0  # the grass, and nothing outside the region
    assert not object_weight(meadow(), np.zeros((H, W))).any()


def test_a_smooth_gradient_and_plain_texture_hold_no_object():
    y = np.linspace(0, 1, H)[:, None, None]
    sky = np.broadcast_to(np.array([250, 170, 90]) * (1 - y) + np.array([80, 120, 220]) * y, (H, W, 3))
    assert object_weight(sky.astype(np.uint8), np.ones((H, W))).max() < 0.01  # a dusk gradient is one material
    grass = meadow()
    grass[ROCK] = grass[:16, :20]  # the rock gone: grass throughout
    assert object_weight(grass, np.ones((H, W))).mean() < 0.005


def test_keep_leaves_the_rock_and_primes_the_grass_as_before():
    src, ref, m = meadow(), autumn(), np.ones((H, W), np.float32)
    keep = prime_region(src, ref, m, 1.0, objects="keep")
    prime = prime_region(src, ref, m, 1.0, objects="prime")
    rock = (slice(44, 52), slice(60, 72))
    assert np.abs(keep[rock].astype(int) - src[rock]).max() <= 1  # the rock keeps its grey ...
    assert np.abs(prime[rock].astype(int) - src[rock]).mean() > 30  # ... which Reinhard's transfer moves
    ab = lambda img, where: _lab(img)[where].reshape(-1, 3).mean(0)[1:]  # noqa: E731 - mean (a, b)
    grass = (slice(0, 30), slice(0, W))
    # the grass reaches the reference's colour, closer than with the rock in its moments
    assert np.linalg.norm(ab(keep, grass) - ab(ref, grass)) < 3
    assert np.linalg.norm(ab(keep, grass) - ab(ref, grass)) < np.linalg.norm(ab(prime, grass) - ab(ref, grass))
    assert DEFAULT_PRIMING_OBJECTS == "prime" and PRIMING_OBJECTS == ("prime", "keep")
    assert prime_region(src, ref, m, 0.0, objects="keep") is src
    with pytest.raises(ValueError, match="objects"):
        prime_region(src, ref, m, 0.5, objects="rocks")


def test_the_export_keeps_objects_in_textured_regions_only(monkeypatch):
    import tcp_core.editing.apply as core_apply

    def primed(photo, objects, textured):
        # (the FakeModel's 32 px working size averages any texture away: whether the region counts as textured is
        # `_smooth_region`'s, tested in test_priming_part)
        monkeypatch.setattr(core_apply, "_smooth_region", lambda lo_src, lo_mask: not textured)
        model = FakeModel()
        apply_regions(model, photo_of(photo), [RegionEdit(autumn(), np.ones((H, W), np.float32), 1.0)],
                      ExportConfig(priming=1.0, priming_objects=objects))
        s = [c[1] for c in model.calls if c[0] == "swap" and c[4] == 1.0]
        assert len(s) == 1
        return s[0].astype(int)

    keep, prime = primed(meadow(), "keep", True), primed(meadow(), "prime", True)
    h, w = keep.shape[:2]
    centre = (slice(int(h * 0.49), int(h * 0.54)), slice(int(w * 0.5), int(w * 0.56)))  # inside the rock
    assert np.abs(keep[centre] - 150).max() <= 3 and np.abs(prime[centre] - 150).mean() > 30
    assert np.array_equal(primed(meadow(), "keep", False), prime)  # a smooth region: its odd pixels are primed too
    with pytest.raises(ExportSettingError, match="priming_objects"):
        ExportConfig(priming_objects="rocks")


def test_cli_priming_objects(files, capsys):  # noqa: F811 (fixture)
    from tcp_core.editing import cli as apply_cli

    for mode in PRIMING_OBJECTS:
        rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--priming-objects",
                       mode, "-o", files.dir / f"{mode}.png"], capsys, model=FakeModel())
        assert rc == 0, err
        assert (files.dir / f"{mode}.png").exists()
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--priming-objects", "rocks",
                   "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    assert rc == 2 and "--priming-objects" in err and not (files.dir / "bad.png").exists()
    args = apply_cli._build_parser().parse_args(["apply", "x.png", "--style", "s.png", "--mask", "m.png", "-o",
                                                 "o.png", "--priming-objects", "keep"])
    assert apply_cli.export_config(args) == ExportConfig(priming_objects="keep")
