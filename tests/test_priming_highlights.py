"""Clipped highlights in colour priming (`prime_region(highlights=...)`, `apply --priming-highlights`): a white sun in
an orange sky is not painted the reference's opposite colour (Reinhard's transfer reads the white disk as "less orange
than its row" and made it blue under a grey storm reference); a blown-out sky is primed as before."""

from __future__ import annotations

import numpy as np
import pytest
from test_apply import FakeModel, files, run  # noqa: F401 - `files` is a fixture

from tcp_core.base.constants import DEFAULT_PRIMING_HIGHLIGHTS, HIGHLIGHT_SHARE, PRIMING_HIGHLIGHTS
from tcp_core.colour.priming import highlight_keep, prime_region

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


def test_the_sun_stays_white_and_the_sky_is_primed():
    src, ref, m = sunset_with_sun(), storm(), np.ones((H, W), np.float32)
    keep = prime_region(src, ref, m, 1.0, highlights="keep").astype(int)
    prime = prime_region(src, ref, m, 1.0, highlights="prime").astype(int)
    sun = (H // 2, W // 2)
    assert keep[sun].tolist() == [255, 255, 255]
    assert prime[sun][2] - prime[sun][0] > 40  # primed, the white disk turns blue
    sky = (5, 5)
    assert np.array_equal(keep[sky], prime[sky]) and abs(keep[sky][0] - 230) > 50  # the sky is primed alike
    assert DEFAULT_PRIMING_HIGHLIGHTS == "keep" and PRIMING_HIGHLIGHTS == ("keep", "prime")


def test_a_blown_out_sky_is_primed_like_any_other():
    src = np.full((H, W, 3), 253, np.uint8)
    src[H // 2:] = (60, 90, 40)  # a meadow below a white sky
    m = np.zeros((H, W), np.float32)
    m[: H // 2] = 1  # the sky region: clipped throughout
    assert not highlight_keep(src, m).any()
    keep = prime_region(src, storm(), m, 1.0, highlights="keep")
    assert np.array_equal(keep, prime_region(src, storm(), m, 1.0, highlights="prime"))
    assert np.abs(keep[: H // 2].astype(int) - 253).mean() > 40


@pytest.mark.parametrize("radius,kept", [(6, 1.0), (40, 0.0)])
def test_highlight_keep_fades_with_the_clipped_share_of_the_region(radius, kept):
    src = sunset_with_sun(radius)
    m = np.ones((H, W), np.float32)
    k = highlight_keep(src, m)
    share = (src.min(2) >= 250).mean()
    assert (share < HIGHLIGHT_SHARE[0]) == (kept == 1.0)
    assert k[H // 2, W // 2] == pytest.approx(kept)
    assert k[2, 2] == 0.0  # the orange sky is never a highlight
    mid = sunset_with_sun(6)
    mid[H // 2, W // 2] = 242  # half way up the ramp from 235 to 250
    assert 0.3 < highlight_keep(mid, m)[H // 2, W // 2] < 0.7


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
                      pre_transfer=1.0, priming_highlights=mode)
        primed = [c[1] for c in model.calls if c[0] == "swap" and c[4] == 1.0]
        assert len(primed) == 1
        p = primed[0].astype(int)
        sun[mode] = p[p.shape[0] // 2, p.shape[1] // 2]
    assert sun["keep"].min() >= 245 and sun["prime"][2] - sun["prime"][0] > 40, sun
    with pytest.raises(ValueError, match="priming_highlights"):
        apply_regions(FakeModel(), photo_of(sunset_with_sun()), [RegionEdit(storm(), sky, 1.0)],
                      priming_highlights="white")
