"""The import rules (tcp_editor GUI -> tcp_editor.services -> tcp_core -> torch, no Qt in tcp_core,
the tiers inside tcp_core, the torch-free modules) are declared once, as import-linter contracts in
pyproject.toml; this runs them. The same check from a shell: `lint-imports`."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    pytest.importorskip("importlinter", reason="import-linter is in the test extra: pip install -e '.[test]'")
    r = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                        "sys.exit(lint_imports(no_cache=True))"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
