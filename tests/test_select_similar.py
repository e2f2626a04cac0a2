"""Select similar (`tcp_core.editing.similar`, `TCPModel.similar_region`): one click selects the part of the photo an
artist means, along the photo's own edges, on the tolerance slider's scale."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tcp_core.editing.similar import (
    SIMILAR_TRUNK,
    refine_selection,
    similarity_to_slider,
    trunk_threshold,
)
from tcp_editor.mask_ops import SIMILAR_TOLERANCE_DEFAULT, similar_threshold, threshold_similarity

H, W = 120, 160
SKYLINE = 50 + (12 * np.sin(np.arange(W) / 9.0)).astype(int)  # the row where the mountain starts, per column


def mountain_photo(seed=0):
    """A smooth blue sky above a textured brown mountain with a wavy skyline."""
    rng = np.random.default_rng(seed)
    y = np.arange(H)[:, None, None]
    sky = np.array([90, 140, 220]) + np.array([40, 30, 10]) * y / H
    rock = np.clip(rng.normal((120, 90, 60), 18, (H, W, 3)), 0, 255)
    below = np.arange(H)[:, None] >= SKYLINE[None, :]
    return np.where(below[..., None], rock, sky).astype(np.uint8), ~below


def coarse_similarity(sky):
    """What features on a coarse grid say: high over the sky, low over the rock, and a blurred skyline that runs
    about 10 px into the mountain (thresholded as it is, the selection would take a band of rock)."""
    s = np.where(sky, 0.6, 0.22).astype(np.float32)
    return cv2.GaussianBlur(s, (0, 0), 8.0)


def test_the_map_is_on_the_sliders_scale():
    for t in (0.0, 0.1, 0.3, 0.6, 1.0):
        assert similarity_to_slider(np.float32(trunk_threshold(t))) == pytest.approx(1 - 0.5 * t * t, abs=1e-5)
        assert similar_threshold(100 * t) == pytest.approx(1 - 0.5 * t * t)
    r = np.linspace(-0.5, 1.0, 301, dtype=np.float32)
    phi = similarity_to_slider(r)
    assert np.all(np.diff(phi) >= 0) and phi.min() >= 0 and phi.max() == 1.0
    assert similarity_to_slider(np.float32(SIMILAR_TRUNK[0] + 0.1)) == 1.0
    assert trunk_threshold(2.0) == trunk_threshold(1.0) and trunk_threshold(-1) == trunk_threshold(0)


def test_one_click_in_the_sky_selects_the_sky_along_the_skyline():
    photo, sky = mountain_photo()
    s = coarse_similarity(sky)
    t = SIMILAR_TOLERANCE_DEFAULT / 100
    raw = s >= trunk_threshold(t)
    assert (raw & ~sky).sum() > 5 * W  # the coarse map alone takes a band of rock under the skyline
    sel = threshold_similarity(refine_selection(photo, s, 80, 10, t), similar_threshold(100 * t)) > 0.5
    wrong = sel ^ sky
    assert wrong.sum() < 0.01 * sky.size, wrong.sum()  # the cut follows the photo's edge
    assert sel[10, 80] and not sel[H - 5, 5]


def test_tolerance_after_the_click_grows_and_shrinks_the_selection():
    photo, sky = mountain_photo()
    m = refine_selection(photo, coarse_similarity(sky), 80, 10, 0.3)
    assert m.dtype == np.float32 and m.shape == (H, W) and 0 <= m.min() and m.max() <= 1 and m[10, 80] == 1
    sizes = [(threshold_similarity(m, similar_threshold(t)) > 0.5).sum() for t in (0, 10, 30, 60, 100)]
    assert sizes == sorted(sizes) and sizes[-1] > sizes[2] >= sizes[0] > 0


def test_plain_photos_and_the_clicked_pixel():
    flat = np.full((40, 60, 3), 128, np.uint8)
    m = refine_selection(flat, np.ones((40, 60), np.float32), 5, 5, 0.3)  # all alike: all of it, no GrabCut
    assert (threshold_similarity(m, similar_threshold(30)) == 1).all()
    m = refine_selection(flat, np.zeros((40, 60), np.float32), 30, 20, 0.3)  # nothing alike: the click still is
    sel = threshold_similarity(m, similar_threshold(30)) > 0.5
    assert sel[20, 30] and sel.sum() < 0.05 * sel.size
    with pytest.raises(AssertionError):
        refine_selection(flat, np.ones((40, 60), np.float32), 60, 5, 0.3)


def test_the_model_selects_with_its_features(tiny_model):
    photo, sky = mountain_photo()
    m = tiny_model.similar_region(photo, 80, 10, 0.3)
    assert m.dtype == np.float32 and m.shape == (H, W) and 0 <= m.min() and m.max() <= 1 and m[10, 80] == 1
    with pytest.raises(ValueError, match="outside"):
        tiny_model.similar_region(photo, W, 10)


def test_stray_specks_go_and_small_parts_as_alike_as_the_click_stay():
    photo, sky = mountain_photo()
    s = coarse_similarity(sky)
    speck, twin = (slice(90, 96), slice(20, 26)), (slice(90, 96), slice(120, 126))
    s[speck] = 0.36  # only just above T(30 %) = 0.32: a stray bit of rock the colour of the sky
    s[twin] = 0.6  # as alike as the sky: a patch of sky seen through the rock, say
    photo[speck] = photo[twin] = photo[5, 5]
    m = refine_selection(photo, s, 80, 10, 0.3)
    sel = threshold_similarity(m, similar_threshold(30)) > 0
    assert not sel[speck].any() and sel[twin].all() and sel[10, 80]


@pytest.mark.slow
def test_the_bundled_model_selects_a_references_sky_from_one_click():
    """`pytest -m slow tests/test_select_similar.py`: with the bundled weights, one click in the evening-glow gallery
    photo's sky takes its sky and none of the lake and boats below (session 40: all of the top fifth, half of the
    next, nothing below 40 %)."""
    from PIL import Image

    from tcp_core.editing.inference import load_model

    root = Path(__file__).resolve().parents[1]
    img = np.asarray(Image.open(root / "resources" / "styles" / "evening_glow.jpg").convert("RGB"))
    h, w = img.shape[:2]
    model = load_model("default", device="cpu")
    sel = threshold_similarity(model.similar_region(img, int(w * 0.3), int(h * 0.1), 0.3), similar_threshold(30)) > 0.5
    assert sel[: h // 5].mean() > 0.9 and sel[int(h * 0.6):].mean() < 0.02
