"""scripts/ssd_parts.py: SSD split by where the sampled locations lie (inside / border / outside)."""
import importlib.util
from pathlib import Path

import numpy as np

from tcp_core.eval.metrics import features as F

_spec = importlib.util.spec_from_file_location(
    "ssd_parts", Path(__file__).resolve().parents[1] / "scripts" / "ssd_parts.py")
ssd_parts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ssd_parts)


def test_shares_sum_to_the_ssd_and_each_is_non_negative():
    rng = np.random.default_rng(3)
    fx, fy = rng.normal(size=(64, 16)), rng.normal(size=(64, 16))
    dx, dy = F.self_similarity(fx), F.self_similarity(fy)
    part = rng.integers(0, 3, size=64)
    shares = ssd_parts.ssd_shares(dx, dy, part)
    assert shares.shape == (3,) and (shares >= 0).all()
    assert np.isclose(shares.sum(), F.ssd_from_matrices(dx, dy))
    # a location whose column is unchanged contributes nothing to its group
    fy2 = fx.copy()
    assert np.allclose(ssd_parts.ssd_shares(dx, F.self_similarity(fy2), part), 0.0)


def test_location_parts_inside_border_outside():
    mask = np.zeros((64, 64), np.float32)
    mask[16:48, 16:48] = 1.0
    idx = np.array([[32, 32], [16, 16], [47, 30], [50, 30], [2, 2], [60, 60]])
    parts = ssd_parts.location_parts(mask, idx, band=4)
    assert parts.tolist() == [0, 1, 1, 1, 2, 2]
