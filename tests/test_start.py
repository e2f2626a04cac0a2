"""Starting the editor from a fresh clone (issue #15 items 1-3 and 10): the system-library check,
the start script's fast path, and help texts that speak to the user."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tcp_editor import syscheck
from tcp_editor.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]

LDD_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f)
"""


def test_parse_ldd_lists_each_missing_library_once():
    assert syscheck.parse_ldd(LDD_MISSING) == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert syscheck.parse_ldd("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


@pytest.mark.parametrize("soname,package", [
    ("libxcb-cursor.so.0", "libxcb-cursor0"), ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"), ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"), ("libEGL.so.1", "libegl1"),
    ("libfontconfig.so.1", "libfontconfig1"), ("libdbus-1.so.3", "libdbus-1-3"),
    ("libglib-2.0.so.0", "libglib2.0-0"), ("libX11-xcb.so.1", "libx11-xcb1")])
def test_debian_package_names(soname, package):
    assert syscheck.debian_package(soname) == package


def _linux_xcb(monkeypatch):
    monkeypatch.setattr(syscheck.sys, "platform", "linux")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv(syscheck.SKIP_ENV, raising=False)
    monkeypatch.setenv("DISPLAY", ":99")


def test_missing_xcb_libraries_give_the_install_command(monkeypatch):
    _linux_xcb(monkeypatch)
    monkeypatch.setattr(syscheck, "missing_qt_libraries", lambda plugin=None: syscheck.parse_ldd(LDD_MISSING))
    msg = syscheck.qt_startup_problem()
    assert msg is not None
    assert re.search(r"apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1\n", msg), msg
    # the check only concerns the X11 plugin
    for platform in ("offscreen", "wayland", "minimal"):
        monkeypatch.setenv("QT_QPA_PLATFORM", platform)
        assert syscheck.qt_startup_problem() is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert syscheck.qt_startup_problem() is not None
    monkeypatch.setattr(syscheck.sys, "platform", "darwin")
    assert syscheck.qt_startup_problem() is None


def test_no_display_is_explained(monkeypatch):
    _linux_xcb(monkeypatch)
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setattr(syscheck, "missing_qt_libraries", lambda plugin=None: [])
    assert "no display" in syscheck.qt_startup_problem()


def test_the_real_ldd_check_on_this_machine(monkeypatch):
    """ldd on PySide6's real xcb plugin: a simulated missing library is reported together with
    whatever this machine really lacks, and the check is cheap."""
    if not sys.platform.startswith("linux") or syscheck.platform_plugin("xcb") is None:
        pytest.skip("Linux with PySide6's xcb plugin only")
    monkeypatch.setenv(syscheck.SIMULATE_ENV, "libxcb-cursor.so.0")
    t0 = time.perf_counter()
    missing = syscheck.missing_qt_libraries()
    assert time.perf_counter() - t0 < 2.0
    assert missing[0] == "libxcb-cursor.so.0"


def test_cli_prints_the_command_instead_of_qt_abort(tmp_path):
    """`tcp-editor` (what scripts/run.sh starts) on a machine without a Qt library: one clear
    message and exit code 1, not Qt's abort (exit 134) and a core dump."""
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update({"DISPLAY": ":99", syscheck.SIMULATE_ENV: "libxcb-cursor.so.0,libxcb-icccm.so.4"})
    out = subprocess.run([sys.executable, "-m", "tcp_editor"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 1, out.stderr[-2000:]
    assert "apt-get install libxcb-cursor0 libxcb-icccm4" in out.stderr
    assert "Traceback" not in out.stderr and "core dumped" not in out.stderr


def test_import_error_names_the_package():
    e = ImportError("libEGL.so.1: cannot open shared object file: No such file or directory")
    assert "apt-get install libegl1" in syscheck.import_error_message(e)


def test_help_shows_the_editor_options(capsys):
    assert cli_main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: tcp-editor")
    for opt in ("--weights", "--device", "photo", "--train", "apply"):
        assert opt in out
    assert "Heavy modules" not in out  # not the module docstring
    assert cli_main(["photo.jpg", "--help"]) == 0
    assert "--weights" in capsys.readouterr().out


def test_train_help_says_what_options_do_with_the_jargon_in_parentheses():
    from tcp_core.training.cli import build_parser

    for action in build_parser()._actions:
        text = action.help or ""
        outside = re.sub(r"\([^()]*(\([^()]*\)[^()]*)*\)", "", text)  # drop (nested) parentheses
        for jargon in ("L_CC", "L_CA", "Eq.", "lambda", "EMA", "Adam"):
            assert jargon not in outside, f"{action.option_strings}: {text!r}"
