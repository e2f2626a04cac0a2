"""The suite is isolated (issues #15 item 12, #17 item 14): two copies can run at once on one machine
and neither writes into the checkout nor into shared fixed paths or the user's own settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
_SEEN: dict[str, str] = {}


def _inside(path: str | Path, folder: str | Path) -> bool:
    p, f = os.path.realpath(path), os.path.realpath(folder)
    return p == f or p.startswith(f + os.sep)


def test_hypothesis_writes_nothing_into_the_checkout():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis.configuration import storage_directory

    home = storage_directory(intent_to_write=False).home_directory
    assert not _inside(home, ROOT), f"hypothesis would write into the checkout: {home}"
    assert hypothesis.settings().database is None, "no example database: runs are reproducible"
    assert hypothesis.settings().derandomize


def test_hypothesis_run_leaves_the_checkout_untouched(tmp_path):
    """A real @given test in a subprocess, from the checkout as the working directory: no
    `.hypothesis/` appears there (pytest runs this file's conftest, as the suite does)."""
    pytest.importorskip("hypothesis")
    before = (ROOT / ".hypothesis").exists()
    test = tmp_path / "test_h.py"
    test.write_text("from hypothesis import given, strategies as st\n"
                    "@given(st.integers())\n"
                    "def test_x(x):\n    assert x == x\n")
    (tmp_path / "conftest.py").write_text((TESTS / "conftest.py").read_text())
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    if not before:
        assert not (ROOT / ".hypothesis").exists(), "the run created .hypothesis/ in the checkout"


@pytest.mark.parametrize("n", [1, 2])
def test_each_test_has_its_own_settings_and_data(n, tmp_path_factory):
    """The editor's QSettings, autosave folder and recent files live in a per-test directory of
    this run's temporary folder: never the user's ~/.config, never a fixed path another run shares."""
    pytest.importorskip("PySide6")
    from PySide6.QtCore import QSettings

    from tcp_editor.main_window import default_autosave_dir

    base = tmp_path_factory.getbasetemp()
    cfg = QSettings().fileName()
    for what, path in (("settings", cfg), ("autosave", default_autosave_dir()),
                       ("XDG_CONFIG_HOME", os.environ["XDG_CONFIG_HOME"]),
                       ("XDG_DATA_HOME", os.environ["XDG_DATA_HOME"])):
        assert _inside(path, base), f"{what} {path} is outside this run's temp folder {base}"
    for other_n, other in _SEEN.items():
        assert other != cfg, f"test {n} shares its settings file with test {other_n}"
    _SEEN[str(n)] = cfg
    QSettings().setValue("probe", n)  # written where only this test looks


def test_no_test_names_a_fixed_shared_path():
    """Fixed paths under /tmp (e.g. the old /tmp/tcp-editor-test-cfg) are shared by concurrent runs."""
    pat = re.compile(r"""["'](/tmp/[^"']*|/var/tmp/[^"']*)["']""")
    offenders = []
    for path in sorted(TESTS.glob("*.py")):
        for i, line in enumerate(path.read_text().splitlines(), 1):
            for m in pat.finditer(line):
                if "set_photo(" in line:  # a document's path label, never opened or written
                    continue
                offenders.append(f"{path.name}:{i}: {m.group(1)}")
    assert not offenders, "\n".join(offenders)
