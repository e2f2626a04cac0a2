"""The PyInstaller bundle: `scripts/build_bundle.sh` builds dist/tcp-editor from editor.spec and
smoke-tests the bundled program (--version, apply, a bad photo, --train, the GUI offscreen).

Slow (a build takes minutes and ~1 GB of disk): `bash scripts/test.sh -m slow -k bundle`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32" or shutil.which("bash") is None, reason="the build script is bash")
def test_build_bundle_and_smoke_test():
    env = dict(os.environ, PYTHON=sys.executable)
    p = subprocess.run(["bash", str(ROOT / "scripts" / "build_bundle.sh")], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=3600)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out[-6000:]
    assert "bundle smoke tests passed" in out, out[-6000:]
    for step in ("ok  --version", "ok  apply:", "ok  apply on a truncated photo", "ok  --train", "ok  GUI"):
        assert step in out, f"{step!r} missing:\n{out[-6000:]}"
    m = re.search(r"bundle: .*: (\d+) MiB in (\d+) files, built in (\d+) s", out)
    assert m, out[-3000:]
    print(f"bundle: {m.group(1)} MiB, {m.group(2)} files, built in {m.group(3)} s")
    internal = ROOT / "dist" / "tcp-editor" / "_internal"
    assert (internal / "resources" / "styles").is_dir()
    if (ROOT / "weights" / "tcp-demo128.safetensors").is_file():
        assert (internal / "weights" / "tcp-demo128.safetensors").is_file()
