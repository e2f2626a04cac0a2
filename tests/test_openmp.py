"""Short OpenMP waits for the editor and the commands (tcp_core.base.openmp): what is set, that the
user's own setting wins, that libgomp really reads it, and that the editor's worker sets it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tcp_core.base.openmp import SPIN_COUNT, short_openmp_waits


def test_sets_a_short_spin_and_passive_elsewhere():
    env: dict[str, str] = {"PATH": "/bin"}
    short_openmp_waits(env)
    assert env == {"PATH": "/bin", "GOMP_SPINCOUNT": str(SPIN_COUNT), "OMP_WAIT_POLICY": "PASSIVE"}
    short_openmp_waits(env)  # idempotent
    assert env["GOMP_SPINCOUNT"] == str(SPIN_COUNT)


@pytest.mark.parametrize("own", [{"OMP_WAIT_POLICY": "active"}, {"GOMP_SPINCOUNT": "300000"}])
def test_the_users_own_setting_wins(own):
    env = dict(own)
    short_openmp_waits(env)
    assert env == own


def test_libgomp_reads_the_spin_count():
    """In a fresh process, set before torch loads: OpenMP's own report shows the short spin."""
    code = ("from tcp_core.base.openmp import short_openmp_waits; short_openmp_waits(); import torch; "
            "torch.set_num_threads(2); torch.ones(512, 512).sum()")
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["OMP_DISPLAY_ENV"] = "VERBOSE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    report = out.stdout + out.stderr
    if "GOMP_SPINCOUNT" not in report:
        pytest.skip("torch's OpenMP runtime is not libgomp (it gets OMP_WAIT_POLICY=PASSIVE)")
    assert f"GOMP_SPINCOUNT = '{SPIN_COUNT}'" in report
    assert "OMP_WAIT_POLICY = 'PASSIVE'" in report


def test_editor_worker_asks_for_short_waits_before_torch(monkeypatch):
    from tcp_editor.services.inference import InferenceWorker

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    import torch

    worker = InferenceWorker(torch_threads=torch.get_num_threads())  # leaves the test process's threads
    worker._niced = True  # and its priority as they are
    worker._setup_torch()
    assert os.environ["GOMP_SPINCOUNT"] == str(SPIN_COUNT)
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
