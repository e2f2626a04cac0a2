"""Imports flow one way: tcp_editor -> tcp_editor/services -> tcp_core -> torch.

tcp_core never loads Qt; GUI modules (everything in tcp_editor outside services/) never load
torch. Checked in fresh interpreters, so nothing imported by other tests hides a violation."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str, skip=()) -> list[str]:
    base = ROOT / package.replace(".", "/")
    names = []
    for info in pkgutil.walk_packages([str(base)], prefix=package + "."):
        if not any(info.name == s or info.name.startswith(s + ".") for s in skip):
            names.append(info.name)
    return [package, *names]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})


def test_tcp_core_never_loads_qt():
    mods = [m for m in _modules("tcp_core") if not m.endswith("__main__")]
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in mods) + (
        "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'PyQt', 'shiboken', 'tcp_editor')))\n"
        "assert not bad, bad\nprint('ok', len(sys.modules))")
    r = _run(code)
    assert r.returncode == 0, r.stderr[-2000:]


def test_gui_modules_never_load_torch():
    mods = [m for m in _modules("tcp_editor", skip=("tcp_editor.services", "tcp_editor.__main__"))]
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in mods) + (
        "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "assert not bad, bad[:5]\nprint('ok')")
    r = _run(code)
    assert r.returncode == 0, r.stderr[-2000:]


def test_static_import_direction():
    """Source-level check: tcp_core imports no Qt/GUI; GUI modules import no torch and reach
    tcp_core only through torch-free modules (the service layer does the rest)."""
    torch_free_core = {"tcp_core", "tcp_core.io.imageio", "tcp_core.editing.fullres", "tcp_core.base.config"}
    problems = []
    for path in ROOT.glob("tcp_*/**/*.py"):
        rel = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(), str(rel))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for n in names:
                if rel.parts[0] == "tcp_core" and n.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "tcp_editor"):
                    problems.append(f"{rel}: imports {n}")
                if rel.parts[0] == "tcp_editor" and rel.parts[1] != "services":
                    if n.split(".")[0] == "torch" or (n.startswith("tcp_core") and n not in torch_free_core):
                        problems.append(f"{rel}: imports {n} (only tcp_editor/services may)")
    assert not problems, "\n".join(problems)
