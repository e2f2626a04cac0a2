"""scripts/seam_parts.py: a seam score split into new edges on flat parts of the border and edges the photo had."""
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from tcp_core.eval.metrics.image import seam, seam_flat

_spec = importlib.util.spec_from_file_location(
    "seam_parts", Path(__file__).resolve().parents[1] / "scripts" / "seam_parts.py")
seam_parts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(seam_parts)


def _scene():
    # dark left half, grey right half; the mask is the right half, so its border follows the photo's edge
    c = np.zeros((64, 96, 3), np.uint8)
    c[:, :48] = 40
    c[:, 48:] = 120
    m = np.zeros((64, 96), np.float32)
    m[:, 48:] = 1.0
    return c, m


def test_an_edge_made_stronger_is_seam_edge_not_seam_flat():
    c, m = _scene()
    r = c.copy()
    r[:, 48:] = 200  # the region brightened evenly: the followed edge gains contrast, nothing new
    p = seam_parts.parts(r, c, m)
    assert set(p) == set(seam_parts.COLUMNS)
    assert p["seam"] == pytest.approx(seam(r, c, m)) and p["seam"] > 5
    assert p["seam_flat"] == pytest.approx(seam_flat(r, c, m)) == pytest.approx(0.0, abs=1e-9)
    assert p["seam_edge"] > p["seam"]  # the band's whole increase sits on its edge part
    assert 0.3 < p["flat share"] < 1.0
    # the edges on the border gain contrast; flat parts away from it do not change
    assert p["grad x border"] > 1.5
    assert p["flat change ring in"] == pytest.approx(0.0) and p["flat change ring out"] == pytest.approx(0.0)


def test_a_hard_paste_on_a_flat_part_is_a_new_edge():
    c = np.full((64, 96, 3), 100, np.uint8)
    m = np.zeros((64, 96), np.float32)
    m[16:48, 24:72] = 1.0
    r = c.copy()
    r[16:48, 24:72] = 180
    p = seam_parts.parts(r, c, m)
    assert p["flat share"] == pytest.approx(1.0)
    assert p["seam_flat"] == pytest.approx(p["seam"]) and p["seam_flat"] > 10
    assert math.isnan(p["seam_edge"])
