"""Clipped highlights in colour priming (`prime_region(highlights=...)`, `apply --priming-highlights`): a white sun in
an orange sky is not painted the reference's opposite colour (Reinhard's transfer reads the white disk as "less orange
than its row" and made it blue under a grey storm reference); with "neutral" its chroma difference counts as none, so
it takes the reference's colour at its row and keeps its brightness; a blown-out sky is primed as before."""

from __future__ import annotations

import numpy as np
import pytest
from test_apply import FakeModel, files, run  # noqa: F401 - `files` is a fixture

from tcp_core.base.constants import DEFAULT_PRIMING_HIGHLIGHTS, PRIMING_HIGHLIGHTS
from tcp_core.colour.priming import _lab, clipped_highlights, prime_region
from tcp_core.editing.export_config import ExportConfig

H, W = 64, 96


def sunset_with_sun(radius=6):
    """An orange sky with a clipped white sun disk in the middle."""
    img = np.empty((H, W, 3), np.uint8)
    img[:] = (230, 140, 70)
    yy, xx = np.mgrid[:H, :W]
    img[(yy - H // 2) ** 2 + (xx - W // 2) ** 2 <= radius ** 2] = 255
    return img


def storm():
    """A grey-blue reference with some spread."""
    rng = np.random.default_rng(0)
    return np.clip(rng.normal((90, 100, 120), 12, (H, W, 3)), 0, 255).astype(np.uint8)


def test_the_sun_takes_the_references_colour_not_its_opposite():
    src, ref, m = sunset_with_sun(), storm(), np.ones((H, W), np.float32)
    neutral = prime_region(src, ref, m, 1.0, highlights="neutral")
    plain = prime_region(src, ref, m, 1.0, highlights="plain")
    sun = (H // 2, W // 2)
    ab = lambda img: _lab(img)[sun][1:]  # noqa: E731 - the sun's (a, b) chroma
    ref_ab = _lab(ref).reshape(-1, 3).mean(0)[1:]
    assert np.linalg.norm(ab(plain) - ref_ab) > 25  # Reinhard paints it far off the reference (blue)
    assert np.linalg.norm(ab(neutral) - ref_ab) < 6  # neutral: the reference's own colour ...
    assert _lab(neutral)[sun][0] > _lab(neutral)[5, 5][0] + 20  # ... and still brighter than the sky around it
    sky = (5, 5)
    assert np.array_equal(neutral[sky], plain[sky]) and abs(int(neutral[sky][0]) - 230) > 50  # the sky alike
    assert DEFAULT_PRIMING_HIGHLIGHTS == "neutral" and PRIMING_HIGHLIGHTS == ("neutral", "plain")


def test_a_blown_out_sky_is_primed_as_before():
    src = np.full((H, W, 3), 253, np.uint8)
    src[H // 2:] = (60, 90, 40)  # a meadow below a white sky
    m = np.zeros((H, W), np.float32)
    m[: H // 2] = 1  # the sky region: clipped throughout, no chroma difference to begin with
    neutral = prime_region(src, storm(), m, 1.0, highlights="neutral").astype(int)
    assert np.abs(neutral - prime_region(src, storm(), m, 1.0, highlights="plain").astype(int)).max() <= 1
    assert np.abs(neutral[: H // 2] - 253).mean() > 40
    assert np.array_equal(neutral[H // 2:], src[H // 2:])


def test_clipped_highlights_ramp_with_the_smallest_channel():
    img = np.zeros((1, 5, 3), np.uint8)
    img[0, :, :] = [[255, 255, 255], [250, 255, 255], [242, 255, 255], [234, 255, 255], [255, 255, 200]]
    c = clipped_highlights(img)[0]
    assert c[0] == 1.0 and c[1] == 1.0 and 0.3 < c[2] < 0.7 and c[3] == 0.0 and c[4] == 0.0


def test_bad_highlights_and_the_cli(files, capsys):  # noqa: F811 (fixture)
    with pytest.raises(ValueError, match="highlights"):
        prime_region(sunset_with_sun(), storm(), np.ones((H, W)), 0.5, highlights="white")
    for mode in PRIMING_HIGHLIGHTS:
        rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--priming-highlights",
                       mode, "-o", files.dir / f"{mode}.png"], capsys, model=FakeModel())
        assert rc == 0, err
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--priming-highlights", "sun",
                   "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    assert rc == 2 and "--priming-highlights" in err and not (files.dir / "bad.png").exists()


def test_apply_regions_passes_the_highlights_on_to_the_primed_swap():
    from test_apply import photo_of

    from tcp_core.editing.apply import apply_regions
    from tcp_core.editing.regions import RegionEdit

    sun = {}
    sky = np.ones((H, W), np.float32)
    sky[-8:] = 0  # the sea below
    for mode in PRIMING_HIGHLIGHTS:
        model = FakeModel()
        apply_regions(model, photo_of(sunset_with_sun(8)), [RegionEdit(storm(), sky, 1.0)],
                      ExportConfig(priming=1.0, priming_highlights=mode))
        primed = [c[1] for c in model.calls if c[0] == "swap" and c[4] == 1.0]
        assert len(primed) == 1
        p = primed[0].astype(int)
        sun[mode] = p[p.shape[0] // 2, p.shape[1] // 2]
    blue = {k: v[2] - v[0] for k, v in sun.items()}  # the reference itself is 30 levels bluer than red
    assert blue["plain"] > 100 and abs(blue["neutral"] - 30) < 12, sun
    with pytest.raises(ValueError, match="priming_highlights"):
        apply_regions(FakeModel(), photo_of(sunset_with_sun()), [RegionEdit(storm(), sky, 1.0)],
                      ExportConfig(priming_highlights="white"))
