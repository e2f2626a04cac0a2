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


def test_training_masks_kinds():
    from tcp_core.base.config import CA_MASKS
    from tcp_core.training.masks import CA_MASK_KINDS, training_masks

    assert CA_MASKS == CA_MASK_KINDS
    img, sky = _two_region_photo(64, 64, 24)
    batch = np.stack([img] * 6)
    regions = training_masks("regions", batch, np.random.default_rng(0))
    assert regions.shape == (6, 1, 64, 64) and regions.dtype == np.float32
    for m in regions[:, 0]:  # every region mask follows the horizon
        frac = (m * sky).sum() / max(m.sum(), 1)
        assert frac > 0.97 or frac < 0.03
    strokes = training_masks("strokes", batch, np.random.default_rng(0))
    crossing = [0.03 < (m * sky).sum() / max(m.sum(), 1) < 0.97 for m in strokes[:, 0]]
    assert any(crossing)  # strokes ignore the photo
    mixed = training_masks("mixed", np.stack([img] * 16), np.random.default_rng(1))
    follows = [not (0.03 < (m * sky).sum() / max(m.sum(), 1) < 0.97) for m in mixed[:, 0]]
    assert 0 < sum(follows) < 16
    with pytest.raises(ValueError):
        training_masks("blobs", batch, np.random.default_rng(0))


def test_trainer_region_masks_step_is_finite():
    import torch

    from tcp_core.base.config import TrainConfig, model_preset
    from tcp_core.base.errors import UsageError
    from tcp_core.training.trainer import Trainer

    with pytest.raises(UsageError, match="ca_masks"):
        TrainConfig(preset="tiny", ca_masks="blobs")
    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2, ca_masks="regions")
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"))
    torch.manual_seed(0)
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    stats = tr.g_step(real, tcp=True)
    ca = float(stats["ca"].detach())
    assert np.isfinite(ca) and ca > 0
    m = tr._ca_masks(real)
    assert m.shape == (4, 1, 32, 32) and set(np.unique(m)) <= {0.0, 1.0}


def _artist_pairs_script():
    import importlib.util
    from pathlib import Path
    spec = importlib.util.spec_from_file_location(
        "make_artist_pairs", Path(__file__).resolve().parents[1] / "scripts" / "make_artist_pairs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_artist_mask_takes_the_whole_sky_with_its_cloud_and_drops_islands():
    """scripts/make_artist_pairs.py: seed boxes snapped by GrabCut give the whole region, as an
    artist selects "the sky": the horizon followed, a white cloud inside it filled in, and a patch
    of sky colour below the horizon (a puddle) not taken."""
    img, sky = _two_region_photo(h=192, w=256, split=80)
    img[20:40, 60:110] = (245, 245, 245)  # a cloud: not the sky's colour, but inside the sky
    img[150:165, 180:210] = (90, 140, 220)  # a puddle: the sky's colour, in the field
    m = _artist_pairs_script().artist_mask(img, [(0.0, 0.0, 1.0, 0.1)], [(0.0, 0.7, 1.0, 0.75)])
    assert m.shape == sky.shape and m.dtype == np.uint8 and set(np.unique(m)) <= {0, 1}
    iou = (m.astype(bool) & sky).sum() / (m.astype(bool) | sky).sum()
    assert iou > 0.95, iou
    assert m[20:40, 60:110].all()
    assert not m[150:165, 180:210].any()
