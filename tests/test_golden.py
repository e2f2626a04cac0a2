"""Golden slices of the shipped weights: region_edit (Eq. 5-6) and the export path pinned to within
one gray level, so a refactor that changes a pixel is caught. After shipping new weights, rewrite
the expected values with `python3 tests/data/golden/make_golden.py`."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent / "data" / "golden"
_spec = importlib.util.spec_from_file_location("make_golden", HERE / "make_golden.py")
make_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_golden)

GOLDEN = json.loads((HERE / "golden.json").read_text())


@pytest.fixture(scope="module")
def outputs():
    if make_golden.weights_sha256() != GOLDEN["weights_sha256"]:
        pytest.fail(f"{GOLDEN['weights']} changed since golden.json was written: if the new weights are "
                    "intended, run `python3 tests/data/golden/make_golden.py` and commit golden.json")
    return make_golden.slices(make_golden.compute())


@pytest.mark.parametrize("name", ["region_edit", "apply_regions"])
def test_golden_slice(outputs, name):
    want, got = GOLDEN[name], outputs[name]
    assert got["shape"] == want["shape"]
    diff = np.abs(np.asarray(got["values"]) - np.asarray(want["values"]))
    assert diff.max() <= 1, f"{name}: {int((diff > 1).sum())} sampled values off by up to {diff.max()} gray levels"
    np.testing.assert_allclose(got["mean"], want["mean"], atol=0.25)
