"""The export's detail gain cap (`fullres.cap_gain`, `fit_local_color_transform(max_gain=...)`, `apply
--detail-gain`): the full-resolution colour transform may move a smooth sky far in colour, but it does not stretch
the photo's own noise into grain; local means still follow the network."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_apply import FakeModel, files, run  # noqa: F401 - `files` is a fixture

from tcp_core.editing.fullres import cap_gain, fit_local_color_transform, upsample_edit


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.3, 3.0))
def test_cap_gain_bounds_every_row_and_keeps_small_rows(seed, g):
    A = np.random.default_rng(seed).normal(0, 1.5, (4, 5, 3, 3))
    C = cap_gain(A, g)
    norms = np.linalg.norm(C, axis=-1)
    assert (norms <= g + 1e-9).all()
    small = np.linalg.norm(A, axis=-1) <= g
    np.testing.assert_allclose(C[small], A[small])  # rows within the cap are left alone
    big = ~small  # rows above it keep their direction
    cos = (C * A).sum(-1)[big] / (np.linalg.norm(C, axis=-1)[big] * np.linalg.norm(A, axis=-1)[big])
    np.testing.assert_allclose(cos, 1.0, atol=1e-9)


def noisy_sky(h, w, seed=0, noise=3.0):
    """A sky whose three channels shade slowly and independently (so a local fit sees a full-rank colour map), with
    sensor noise on top."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32) / min(h, w)
    shade = np.stack([np.sin(6 * x), np.cos(5 * y), np.sin(4 * (x + y) + 1)], -1)
    sky = np.array([80, 120, 170], np.float32) + 25 * shade
    return np.clip(sky + rng.normal(0, noise, (h, w, 3)) + 0.5, 0, 255).astype(np.uint8)


def grain(img):
    x = img.astype(np.float32)
    return float((x - cv2.GaussianBlur(x, (0, 0), 2)).std())


def test_a_capped_transform_keeps_the_means_but_not_the_stretched_noise():
    """The network turned a blue sky peach and stretched its spread (a gain of 2 per channel): without a
    cap the photo's noise grows with it; with the cap at 1.25 it grows at most that much, and the sky is as peach."""
    H, W, h, w = 384, 576, 96, 144
    photo = noisy_sky(H, W)
    lo_src = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
    peach = np.array([200, 150, 120], np.float32)
    x = lo_src.astype(np.float32)
    lo_res = np.clip(peach + 2.0 * (x - x.mean((0, 1))) + 0.5, 0, 255).astype(np.uint8)
    assert lo_res.min() > 0 and lo_res.max() < 255
    mask = np.ones((H, W), np.float32)
    outs = {g: upsample_edit(photo, lo_src, lo_res, mask, 0, detail_gain=g) for g in (None, 1.25)}
    g0 = grain(photo)
    assert grain(outs[None]) > 1.7 * g0, (grain(outs[None]), g0)
    assert grain(outs[1.25]) < 1.35 * g0, (grain(outs[1.25]), g0)
    for out in outs.values():  # both as peach on average
        assert np.abs(out.reshape(-1, 3).mean(0) - peach).max() < 12


def test_the_cap_is_exact_for_transforms_below_it_and_validated():
    rng = np.random.default_rng(1)
    src = rng.integers(0, 256, (40, 60, 3)).astype(np.uint8)
    dst = np.clip(src.astype(np.float32) * 0.8 + 20, 0, 255).astype(np.uint8)  # a gain of 0.8: within any cap >= 1
    a = fit_local_color_transform(src, dst, radius=3)
    b = fit_local_color_transform(src, dst, radius=3, max_gain=1.5)
    np.testing.assert_allclose(a.apply_lo(src), b.apply_lo(src), atol=2e-3)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="max_gain"):
            fit_local_color_transform(src, dst, radius=3, max_gain=bad)


def test_cli_detail_gain(files, capsys):  # noqa: F811 (fixture)
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--detail-gain", "1.25",
                   "-o", files.dir / "gain.png"], capsys, model=FakeModel())
    assert rc == 0, err
    rc, err = run(["apply", files.content, "--style", files.style, "--mask", files.mask, "--detail-gain", "-1",
                   "-o", files.dir / "bad.png"], capsys, model=FakeModel())
    assert rc == 2 and "--detail-gain" in err and not (files.dir / "bad.png").exists()
