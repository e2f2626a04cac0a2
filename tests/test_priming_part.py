"""`apply --priming-part match` (`apply_regions(priming_part="match")`): priming reads the part of the reference that
matches the region (`TCPModel.match_style_part`), not the reference's rows at the region's place: a sky under a
mountain photo is primed towards that photo's sky, not its rock; the network still gets the whole reference."""

from __future__ import annotations

import numpy as np
import pytest
from test_apply import FakeModel, files, photo_of, run  # noqa: F401 - `files` is a fixture
from test_priming_rows import band_mask, flat, lab

from tcp_core.base.constants import PRIMING_PARTS
from tcp_core.editing.apply import apply_regions
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.regions import RegionEdit

SKY, ROCK = (90, 140, 230), (120, 90, 60)


class MatchingModel(FakeModel):
    """A FakeModel whose matched part of a reference is its blue pixels (its sky)."""

    def __init__(self) -> None:
        super().__init__()
        self.matched = 0

    def match_style_part(self, content, mask, style):
        self.matched += 1
        s = style.astype(np.int32)
        return ((s[..., 2] > s[..., 0] + 40).astype(np.float32))


def mountain_photo(h=60, w=60):
    """Sky in the top third, rock below: a sky region at the top half of a photo reads rock in its lower rows."""
    ref = np.empty((h, w, 3), np.uint8)
    ref[:] = ROCK
    ref[: h // 3] = SKY
    return ref


def primed_b(priming_part, strength=1.0, ref=None):
    h, w = 96, 128
    photo = flat(h, w, (200, 160, 150))  # a pinkish dusk sky
    mask = band_mask(h, w, 0, 48, 0, w)  # the top half: the reference's top half is sky, then rock
    model = MatchingModel()
    apply_regions(model, photo_of(photo), [RegionEdit(mountain_photo() if ref is None else ref, mask, strength)],
                  ExportConfig(priming=1.0, priming_part=priming_part))
    s = [c for c in model.calls if c[0] == "swap" and c[4] == strength]
    assert len(s) == 1
    primed = s[0][1]
    rows = slice(int(primed.shape[0] * 0.35), int(primed.shape[0] * 0.45))  # the region's lower rows
    return lab(primed)[rows, 4:-4, 2].mean(), model  # Lab b*: blue is negative, rock's brown positive


def test_match_primes_the_lower_rows_of_a_sky_towards_the_references_sky_not_its_rock():
    b_place, m_place = primed_b("place")
    b_match, m_match = primed_b("match")
    assert m_place.matched == 0 and m_match.matched == 1
    sky_b = lab(np.array([[SKY]], np.uint8))[0, 0, 2]
    assert b_match < sky_b + 10 < b_place, (b_match, b_place, sky_b)


def test_match_is_not_asked_when_nothing_is_primed_and_parts_are_checked():
    h, w = 96, 128
    model = MatchingModel()
    apply_regions(model, photo_of(flat(h, w)), [RegionEdit(mountain_photo(), band_mask(h, w, 0, 48, 0, w), 0.0)],
                  ExportConfig(priming=1.0, priming_part="match"))
    apply_regions(model, photo_of(flat(h, w)), [RegionEdit(mountain_photo(), band_mask(h, w, 0, 48, 0, w), 1.0)],
                  ExportConfig(priming=0.0, priming_part="match"))
    assert model.matched == 0
    assert PRIMING_PARTS == ("place", "match", "auto")
    with pytest.raises(ValueError, match="priming_part"):
        apply_regions(FakeModel(), photo_of(flat(32, 32)), [RegionEdit(flat(32, 32), np.ones((32, 32)), 1.0)],
                      ExportConfig(priming_part="sky"))


def test_cli_priming_part(files, capsys):  # noqa: F811 (fixture)
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--priming-part", "match",
                   "-o", files.dir / "match.png"], capsys, model=MatchingModel())
    assert rc == 0, err
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--priming-part", "sky",
                   "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    assert rc == 2 and "--priming-part" in err and not (files.dir / "bad.png").exists()


def test_auto_matches_a_smooth_region_but_not_a_textured_one(monkeypatch):
    from test_apply import textured

    import tcp_core.editing.apply as core_apply

    h, w = 128, 192  # a working size: photo_flatness's scales are pixels of a 128 px image
    mask = band_mask(h, w, 0, 64, 0, w)
    assert core_apply._smooth_region(flat(h, w, (200, 160, 150)), mask)
    assert not core_apply._smooth_region(textured(h, w, seed=3), mask)
    for smooth, expect in ((True, 1), (False, 0)):
        monkeypatch.setattr(core_apply, "_smooth_region", lambda lo_src, lo_mask, s=smooth: s)
        model = MatchingModel()
        apply_regions(model, photo_of(flat(96, 128)), [RegionEdit(mountain_photo(), band_mask(96, 128, 0, 48, 0, 128),
                                                                  1.0)], ExportConfig(priming=1.0, priming_part="auto"))
        assert model.matched == expect
