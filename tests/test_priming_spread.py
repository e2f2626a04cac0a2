"""What colour priming's spread ratio stretches (`prime_region(spread=...)`, `priming.scaled_spread`): "all" of a
region's variation about its mean (or row means), or only its "detail", so a smooth sky's slow shading is never
stretched into a blotch by a busy reference."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_apply import FakeModel, files, photo_of, run  # noqa: F401 - `files` is a fixture
from test_priming_rows import BLUE, ORANGE, lab

from tcp_core.base.constants import DEFAULT_PRIMING_SPREAD, PRIMING_SPREADS, SPREAD_DETAIL_REF_PX
from tcp_core.colour.priming import prime_region, scaled_spread
from tcp_core.editing.apply import apply_regions, priming_options
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.regions import RegionEdit


def shaded_sky(h=96, w=144):
    """A smooth sky: blue at the top to orange at the bottom, a little darker on the left (slow shading, no
    detail)."""
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :, None]
    sky = (1 - t) * np.array(BLUE, np.float32) + t * np.array(ORANGE, np.float32) + 12 * x
    return np.clip(sky + 0.5, 0, 255).astype(np.uint8)


def busy_reference(h=96, w=144, seed=3):
    """Dark and light patches a few pixels across (storm clouds, rock and snow): a large spread of fine detail."""
    rng = np.random.default_rng(seed)
    noise = cv2.resize(rng.uniform(0, 255, (h // 4, w // 4)).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_NEAREST)
    return np.clip(np.repeat(noise[:, :, None], 3, 2) * np.array([0.8, 0.85, 1.0], np.float32), 0, 255).astype(
        np.uint8)


def left_right(img, mask):
    """How much darker the left quarter of the region is than its right quarter (Lab L*, mean over the rows)."""
    L = lab(img)[:, :, 0]
    cols = np.flatnonzero(mask.any(0))
    q = max(1, len(cols) // 4)
    return float(L[:, cols[-q:]].mean() - L[:, cols[:q]].mean())


def test_scaled_spread_all_is_the_plain_ratio_and_detail_agrees_when_nothing_grows():
    rng = np.random.default_rng(0)
    resid = rng.normal(0, 5, (40, 60, 3)).astype(np.float32)
    ratio = np.array([2.0, 1.5, 0.5])
    np.testing.assert_allclose(scaled_spread(resid, ratio, None, "all"), resid * ratio, rtol=1e-6)
    shrink = np.array([0.7, 0.4, 1.0])  # no channel grows: detail or not, every scale shrinks alike
    np.testing.assert_allclose(scaled_spread(resid, shrink, None, "detail"), resid * shrink, atol=1e-4)
    with pytest.raises(ValueError, match="spread"):
        scaled_spread(resid, ratio, None, "coarse")


def test_detail_spread_stretches_fine_detail_but_not_slow_shading():
    h, w = 128, 192
    ratio = np.array([2.0, 2.0, 2.0])
    x = np.linspace(-1, 1, w, dtype=np.float32)[None, :, None]
    slow = np.broadcast_to(10 * x, (h, w, 3)).astype(np.float32)  # a ramp across the whole width
    yy, xx = np.mgrid[0:h, 0:w]
    fine = np.repeat((((yy + xx) % 2) * 2.0 - 1.0)[:, :, None], 3, 2).astype(np.float32)  # a 1 px checkerboard
    out_slow = scaled_spread(slow, ratio, None, "detail")
    out_fine = scaled_spread(fine, ratio, None, "detail")
    core = (slice(20, -20), slice(40, -40))  # away from the image border
    assert np.abs(out_slow - slow)[core].max() < 0.2  # the slow ramp is not stretched
    np.testing.assert_allclose(out_fine[core], 2 * fine[core], atol=0.05)  # the fine detail is
    assert SPREAD_DETAIL_REF_PX > 1


@pytest.mark.parametrize("profile", ["rows", "global"])
def test_a_busy_reference_no_longer_doubles_a_skys_shading(profile):
    """The dusk-sky blotch of docs/training/s38: a smooth sky, slightly darker on its left, primed towards a busy
    reference. "all" stretches the left-to-right shading by the capped ratio (2); "detail" leaves it as it was."""
    sky, ref = shaded_sky(), busy_reference()
    mask = np.ones(sky.shape[:2], np.float32)
    before = left_right(sky, mask)
    assert before > 5
    shade = {s: left_right(prime_region(sky, ref, mask, 1.0, profile=profile, spread=s), mask)
             for s in PRIMING_SPREADS}
    assert shade["all"] > 1.6 * before, (shade, before)
    assert abs(shade["detail"] - before) < 0.25 * before, (shade, before)


def test_apply_regions_threads_the_spread_to_the_primed_swap():
    sky, ref = shaded_sky(), busy_reference(60, 60)
    mask = np.zeros(sky.shape[:2], np.float32)
    mask[:, 8:-8] = 1
    shade = {}
    for spread in PRIMING_SPREADS:
        model = FakeModel()
        apply_regions(model, photo_of(sky), [RegionEdit(ref, mask, 1.0)],
                      ExportConfig(priming=1.0, priming_spread=spread))
        s = [c for c in model.calls if c[0] == "swap" and c[4] == 1.0]
        assert len(s) == 1
        lo = s[0][1]
        shade[spread] = left_right(lo, np.pad(np.ones((lo.shape[0], lo.shape[1] - 8)), ((0, 0), (4, 4))))
    assert shade["all"] > 1.4 * shade["detail"], shade
    assert priming_options("rows", mask, None)["spread"] == DEFAULT_PRIMING_SPREAD
    with pytest.raises(ValueError, match="priming_spread"):
        apply_regions(FakeModel(), photo_of(sky), [RegionEdit(ref, mask, 1.0)], ExportConfig(priming_spread="coarse"))


def test_cli_priming_spread(files, capsys):  # noqa: F811 (fixture)
    from tcp_core.io.imageio import load_image

    outs = []
    for s in PRIMING_SPREADS:
        out = files.dir / f"spread_{s}.png"
        rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--pre-transfer", "1",
                       "--priming-spread", s, "-o", out], capsys, model=FakeModel())
        assert rc == 0, err
        outs.append(load_image(out).rgb)
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--priming-spread", "coarse",
                   "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    assert rc == 2 and "--priming-spread" in err and not (files.dir / "bad.png").exists()


def test_the_reinhard_baseline_stays_reinhards_own():
    """The evaluation's `reinhard` method is the classical transfer: the whole spread stretched, whatever priming's
    default is."""
    from tcp_core.colour.priming import reinhard_lab
    from tcp_core.eval.evaluate import reinhard_transfer

    sky, ref = shaded_sky(), busy_reference()
    mask = np.ones(sky.shape[:2], np.float32)
    np.testing.assert_array_equal(reinhard_transfer(sky, ref, mask > 0), reinhard_lab(sky, ref, mask, spread="all"))
    assert left_right(reinhard_transfer(sky, ref, mask > 0), mask) > 1.6 * left_right(sky, mask)
