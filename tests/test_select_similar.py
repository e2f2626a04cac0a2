"""Select similar (`tcp_core.editing.similar`, `TCPModel.similar_region`): one click selects the part of the photo an
artist means, along the photo's own edges, on the tolerance slider's scale."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from tcp_core.editing.similar import (
    CLICK_ALIKE,
    CLICK_COLOUR_SIGMA,
    SIMILAR_TRUNK,
    click_weights,
    photo_lab,
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


def test_the_same_click_gives_the_same_selection():
    """GrabCut's colour models start from OpenCV's global random generator: seeded per click, a click's selection
    does not depend on the clicks before it."""
    from PIL import Image

    photo = np.asarray(Image.open(Path(__file__).resolve().parents[1] / "resources" / "styles" / "evening_glow.jpg")
                       .convert("RGB"))  # a sunset sky with clouds: where GrabCut's start decides (unseeded: 3 of 4
    h, w = photo.shape[:2]  # generator states gave another selection)
    rng = np.random.default_rng(5)
    s = np.linspace(0.6, 0.0, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    s += cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), 8.0) * 0.3 - 0.15
    first = refine_selection(photo, s, int(w * 0.3), int(h * 0.1), 0.3)
    for k in range(3):
        cv2.setRNGSeed(7 * k + 8)  # (another state of the global generator)
        assert np.array_equal(first, refine_selection(photo, s, int(w * 0.3), int(h * 0.1), 0.3))


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


def test_click_weights_favour_the_clicked_spots_colour():
    def lab(rgb):
        return photo_lab(np.array([[rgb]], np.uint8))[0, 0]

    blue, brown = lab((90, 140, 220)), lab((120, 90, 60))
    cells = np.stack([np.stack([blue, (blue + brown) / 2, brown])] * 2)  # (2, 3, 3): blue, half-way, brown
    w = click_weights(cells, blue)
    assert w.shape == (2, 3) and w.dtype == np.float32
    assert w[0, 0] == pytest.approx(1.0) and w[0, 0] > w[0, 1] > w[0, 2] >= 0 and w[0, 2] < 1e-3
    # a varied spot (blue and white: a cloudy sky) lets cells of colours farther from its mean count more
    white = lab((235, 240, 245))
    varied = np.stack([blue, white, blue, white])
    wv = click_weights(cells, varied)
    mean = varied.mean(0)
    plain = np.exp(-((cells - mean) ** 2).sum(-1) / (2 * CLICK_COLOUR_SIGMA ** 2))
    assert wv[0, 0] > plain[0, 0] and wv[0, 1] > plain[0, 1]
    assert click_weights(cells, np.stack([blue] * 5)) == pytest.approx(w)  # a uniform spot: its colour's width


def _cells_photo(left_feature, right_feature, split=7):
    """A 16x16 photo, blue left of column `split` and brown from it on, with 4x4 feature cells: the cells of columns
    0 and 1 (pixels 0-7) carry `left_feature`, columns 2 and 3 `right_feature`; the photo's edge runs through cell 1."""
    img = np.zeros((16, 16, 3), np.uint8)
    img[:, :split] = (90, 140, 220)
    img[:, split:] = (120, 90, 60)
    f = np.zeros((4, 4, 4), np.float32)
    f[:, :, :2] = np.asarray(left_feature, np.float32)[:, None, None]
    f[:, :, 2:] = np.asarray(right_feature, np.float32)[:, None, None]
    return img, torch.from_numpy(f)


def test_a_click_near_an_edge_takes_its_own_side():
    """A click just left of the edge: its 3x3 cells reach into the brown side; only its own (blue) side's feature
    is the reference, where the plain mean of the cells would hold a third of the other side's."""
    from tcp_core.editing.inference import TCPModel

    img, f = _cells_photo((1, 0, 0, 0), (0, 1, 0, 0), split=6)
    ref = TCPModel._click_feature(img, f, 4, 8)  # cell column 1 (pixels 4-7) holds the edge; cells 0-2 around it
    assert ref.shape == (4,) and float(ref.norm()) == pytest.approx(1.0, abs=1e-5)
    assert float(ref[0]) > 0.99 and float(ref[1]) < 0.1
    plain = f[:, 1:4, 0:3].mean((1, 2))
    assert float(plain[1] / plain.norm()) > 0.4  # (what the plain mean would have been: a third of the other side)


def test_cells_as_alike_as_the_click_count_whatever_their_colour():
    """A cloud in a clicked sky: a cell of another colour whose feature is alike the click's counts fully."""
    from tcp_core.editing.inference import TCPModel

    a = np.array([1.0, 0, 0, 0])
    b = np.array([np.sqrt(0.8), np.sqrt(0.2), 0, 0])  # cos(a, b) = 0.89 >= CLICK_ALIKE
    assert a @ b >= CLICK_ALIKE
    img, f = _cells_photo(a, b, split=6)
    ref = TCPModel._click_feature(img, f, 5, 8)
    cells = f[:, 1:4, 0:3].reshape(4, -1)
    want = cells.mean(1) / cells.mean(1).norm()
    assert torch.allclose(ref, want, atol=1e-5)


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
