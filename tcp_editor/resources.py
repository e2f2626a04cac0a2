"""Where bundled resources (style photos) live: the installed package or the checkout."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_STYLE_EXTS = (".jpg", ".jpeg", ".png", ".webp")


def resource_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent
    dirs = [here / "resources"]
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        dirs.append(Path(meipass) / "resources")
    dirs.append(here.parent / "resources")  # checkout
    dirs.append(Path(sys.prefix) / "share" / "tcp-editor" / "resources")
    env = os.environ.get("TCP_EDITOR_RESOURCES")
    if env:
        dirs.insert(0, Path(env))
    return dirs


def styles_dir() -> Path | None:
    for d in resource_dirs():
        if (d / "styles").is_dir():
            return d / "styles"
    return None


def bundled_styles() -> list[str]:
    d = styles_dir()
    if d is None:
        return []
    return sorted(str(p) for p in d.iterdir() if p.suffix.lower() in _STYLE_EXTS)


def icon_path() -> Path | None:
    """The application icon (resources/icon.png), or None when the resources are missing."""
    for d in resource_dirs():
        if (d / "icon.png").is_file():
            return d / "icon.png"
    return None
