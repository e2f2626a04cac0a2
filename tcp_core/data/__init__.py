"""Training data: folder scan + random-crop data set (`dataset`), and the demo data builder (`demo`).

Names are imported lazily so that `tcp_core.data.demo` (standard library only) does not pull in
torch when the CLI builds the demo data.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PhotoDataset", "make_loader", "scan_images", "IMAGE_EXTENSIONS", "build_demo_data"]

_LAZY = {
    "PhotoDataset": "dataset",
    "make_loader": "dataset",
    "scan_images": "dataset",
    "IMAGE_EXTENSIONS": "dataset",
    "build_demo_data": "demo",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'tcp_core.data' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
