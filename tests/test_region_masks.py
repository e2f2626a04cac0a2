"""region_mask: eval masks that follow a photo's content (a sky, a field), as a user brushes them."""

import numpy as np
import pytest

from tcp_core.training.masks import region_mask


def _two_region_photo(h=96, w=128, split=40, seed=0):
    """A noisy blue 'sky' above a noisy green 'field' with a slightly wavy horizon."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.float32)
    horizon = split + np.round(3 * np.sin(np.arange(w) / 9)).astype(int)
    rows = np.arange(h)[:, None]
    sky = rows < horizon[None, :]
    img[sky] = (90, 140, 220)
    img[~sky] = (60, 150, 50)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), sky


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_region_mask_follows_the_content_boundary(seed):
    img, sky = _two_region_photo()
    m = region_mask(img, np.random.default_rng(seed), min_coverage=0.2, max_coverage=0.8)
    assert m.shape == sky.shape and m.dtype == np.float32
    assert set(np.unique(m)) <= {0.0, 1.0}
    # the mask is the sky or the field (or a large part of one), never a stroke across the horizon
    inside_sky = (m * sky).sum() / m.sum()
    assert inside_sky > 0.97 or inside_sky < 0.03, inside_sky
    assert 0.2 <= m.mean() <= 0.8


def test_region_mask_is_reproducible_and_in_range():
    img, _ = _two_region_photo(seed=5)
    a = region_mask(img, np.random.default_rng(11), 0.1, 0.6)
    b = region_mask(img, np.random.default_rng(11), 0.1, 0.6)
    np.testing.assert_array_equal(a, b)
    assert 0.1 <= a.mean() <= 0.6


def test_region_mask_has_no_holes_or_specks():
    img, sky = _two_region_photo()
    img[10:14, 60:64] = (250, 250, 250)  # a small white cloud inside the sky
    checked = 0
    for seed in range(4):
        m = region_mask(img, np.random.default_rng(seed), 0.2, 0.8)
        ring = m[8:16, 58:66].copy()
        ring[2:6, 2:6] = 1
        if ring.all():  # the mask surrounds the cloud: the cloud is filled in, not left as a hole
            assert m[10:14, 60:64].all()
        checked += bool(ring.all())
    assert checked, "no seed picked a region around the cloud"


def test_region_mask_rejects_non_rgb_input():
    with pytest.raises(AssertionError):
        region_mask(np.zeros((32, 32), np.uint8), np.random.default_rng(0))
