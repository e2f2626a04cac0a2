"""Training data: photo files (`photos`: scan, decode, random crops), the trainer's pipeline
(`stream`: PhotoStore -> make_batch -> BatchFeeder), the demo data builder (`demo`) and its
command line (`cli`: `tcp-editor data demo`).

Names are imported lazily so that `tcp_core.data.demo` (standard library only) does not pull in
torch when the CLI builds the demo data.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PhotoStore", "make_batch", "BatchFeeder", "scan_images", "random_crop", "build_demo_data"]

_LAZY = {
    "PhotoStore": "stream",
    "make_batch": "stream",
    "BatchFeeder": "stream",
    "scan_images": "photos",
    "random_crop": "photos",
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
