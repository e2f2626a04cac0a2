"""Before the window opens: are the system libraries Qt needs on this machine there?

On Linux the PySide6 wheels bring Qt itself, but Qt's X11 platform plugin (xcb) links against
system libraries that a minimal Debian/Ubuntu install lacks (libxcb-cursor0, libxcb-icccm4,
libxcb-keysyms1, ...). Without them Qt aborts with "Could not load the Qt platform plugin xcb"
and a core dump. `missing_qt_libraries()` asks the dynamic loader (`ldd` on the plugin, about
20 ms) which ones are missing, and `qt_startup_problem()` turns that into a message that names
the packages and the command that installs them. macOS and Windows need nothing: the wheels are
self-contained there.

No Qt import here: this runs before PySide6 is loaded (a missing library can already break
`import PySide6.QtGui`).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Debian/Ubuntu package names where the soname rule in `debian_package` does not give them.
_PACKAGE_OVERRIDES = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libgio-2.0.so.0": "libglib2.0-0",
    "libxcb-util.so.1": "libxcb-util1",
    "libX11.so.6": "libx11-6",
    "libGLX.so.0": "libglx0",
}
# Simulates missing libraries (comma-separated sonames), to check the message on a machine that
# has them all: `TCP_EDITOR_SIMULATE_MISSING_LIBS=libxcb-cursor.so.0 bash scripts/run.sh`.
SIMULATE_ENV = "TCP_EDITOR_SIMULATE_MISSING_LIBS"
SKIP_ENV = "TCP_EDITOR_SKIP_QT_CHECK"  # "1": start without the check


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships a library: libxcb-icccm.so.4 -> libxcb-icccm4,
    libxkbcommon-x11.so.0 -> libxkbcommon-x11-0, libEGL.so.1 -> libegl1."""
    if soname in _PACKAGE_OVERRIDES:
        return _PACKAGE_OVERRIDES[soname]
    base, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    base = base.lower()
    if not version:
        return base
    return f"{base}-{version}" if base[-1:].isdigit() else f"{base}{version}"


def platform_plugin(name: str = "xcb") -> Path | None:
    """Path of PySide6's Qt platform plugin `name` (without importing PySide6), or None."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        for sub in ("Qt/plugins/platforms", "plugins/platforms"):
            p = Path(root) / sub / f"libq{name}.so"
            if p.is_file():
                return p
    return None


def parse_ldd(output: str) -> list[str]:
    """The sonames `ldd` reports as "not found", in order, without duplicates."""
    missing: list[str] = []
    for line in output.splitlines():
        name, sep, rest = line.strip().partition("=>")
        if sep and rest.strip().startswith("not found"):
            name = name.strip()
            if name and name not in missing:
                missing.append(name)
    return missing


def missing_qt_libraries(plugin: Path | None = None) -> list[str]:
    """Sonames Qt's xcb plugin (and Qt's own libraries) need but the loader cannot find."""
    simulated = [s.strip() for s in os.environ.get(SIMULATE_ENV, "").split(",") if s.strip()]
    plugin = plugin or platform_plugin("xcb")
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return simulated
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return simulated
    return list(dict.fromkeys(simulated + parse_ldd(out)))


def _platform_wanted() -> str:
    """The Qt platform plugin Qt will try first: QT_QPA_PLATFORM's first entry, else the session's."""
    env = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if env:
        return env.split(";")[0].split(":")[0].strip().lower()
    if os.environ.get("WAYLAND_DISPLAY") and platform_plugin("wayland") is not None:
        return "wayland"  # Qt 6 prefers Wayland in a Wayland session (and falls back to xcb)
    return "xcb"


def install_command(packages: list[str]) -> str:
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get install {' '.join(packages)}"


def qt_startup_problem() -> str | None:
    """A message for the user when the editor window cannot start on this machine, else None.
    Linux with the xcb (X11) platform only; cheap (one `ldd`)."""
    if not sys.platform.startswith("linux") or os.environ.get(SKIP_ENV) == "1":
        return None
    if _platform_wanted() != "xcb":
        return None
    missing = missing_qt_libraries()
    if missing:
        packages = list(dict.fromkeys(debian_package(s) for s in missing))
        return ("TCP Editor cannot open its window: Qt's X11 platform plugin needs system libraries that "
                f"are not installed ({', '.join(missing)}).\n"
                f"On Debian/Ubuntu install them with:\n\n    {install_command(packages)}\n\n"
                "(Other distributions: the packages that provide these files, e.g. on Fedora "
                "xcb-util-cursor xcb-util-wm xcb-util-keysyms.) Headless use (apply, interpolate, --train) "
                "needs none of them.")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        return ("TCP Editor cannot open its window: there is no display (DISPLAY is not set). Run it in a "
                "desktop session, over `ssh -X`, or under a virtual display (`xvfb-run tcp-editor`); "
                "QT_QPA_PLATFORM=offscreen runs it without showing a window.")
    return None


def import_error_message(e: ImportError) -> str:
    """A message for `import PySide6.QtWidgets` failing on a missing system library."""
    import re

    text = str(e)
    m = re.search(r"(lib[\w.+-]+\.so(?:\.\d+)*): cannot open shared object file", text)
    if m:
        return (f"TCP Editor cannot start Qt: the system library {m.group(1)} is not installed.\n"
                f"On Debian/Ubuntu install it with:\n\n    {install_command([debian_package(m.group(1))])}\n")
    return (f"TCP Editor cannot start Qt ({text}). Reinstall it with `bash scripts/run.sh`, or "
            "`pip install PySide6-Essentials` in the environment that runs tcp-editor.")
