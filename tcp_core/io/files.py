"""Files: printable paths, atomic writes (one file or several as one), file identity, image folders.

`atomic_write` / `atomic_write_all` write to a temporary name in the target directory, fsync and
rename over the target, so a crash or an encoder error never leaves a partial file; temp files of
killed writes are swept. Used for images (`tcp_core.io.saving`), checkpoints and logs alike.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from tcp_core.base.constants import IMAGE_EXTENSIONS
from tcp_core.base.errors import UserError

__all__ = [
    "STALE_TEMP_S",
    "ImageSaveError",
    "as_path",
    "atomic_write",
    "atomic_write_all",
    "display_path",
    "file_id",
    "iter_images",
    "remove_stale_temp_files",
    "same_file",
]

_UMASK = os.umask(0)
os.umask(_UMASK)


class ImageSaveError(UserError, ValueError):
    """An image could not be written. The message says which file, what is wrong, and what to do."""


def display_path(path: str | os.PathLike | bytes) -> str:
    """A printable form of any path, including names that are not valid UTF-8."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", "backslashreplace")


def as_path(path: str | os.PathLike | bytes) -> Path:
    if isinstance(path, bytes):
        return Path(os.fsdecode(path))
    return Path(path)


STALE_TEMP_S = 600.0  # a temp file untouched this long belongs to a killed write (sweeps in atomic_write)


def _temp_prefix(path: Path) -> str:
    return "." + os.fsencode(path.name)[:100].decode("utf-8", "ignore") + "."


def remove_stale_temp_files(path: str | os.PathLike | bytes, older_than_s: float = 60.0) -> list[Path]:
    """Delete the temp files that `atomic_write(path, ...)` calls left behind when the process was
    killed mid-write (`.NAME.XXXXXXXX.part` beside `path`: one token of letters, digits, _), if
    not modified for `older_than_s` (so a write in progress in another process is left alone).
    Returns the removed paths; errors are ignored. `atomic_write` calls it (STALE_TEMP_S) itself."""
    import re

    path = as_path(path)
    parent = path.parent if str(path.parent) else Path(".")
    pattern = re.compile(re.escape(_temp_prefix(path)) + r"[A-Za-z0-9_]+\.part")
    removed: list[Path] = []
    now = time.time()
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for p in entries:
        if pattern.fullmatch(p.name):
            try:
                if now - p.stat().st_mtime >= older_than_s and p.is_file():
                    p.unlink()
                    removed.append(p)
            except OSError:
                pass
    return removed


def atomic_write(path: str | os.PathLike | bytes, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file atomically: `write(f)` fills a temp file in the target's directory, which is
    fsync'ed and renamed over `path`. On any error the temp file is removed and `path` untouched.
    Temp files of earlier writes of `path` that were killed (untouched for STALE_TEMP_S) are removed."""
    return atomic_write_all([(path, write)], _encoder_errors=False)[0]


def atomic_write_all(
    items: Sequence[tuple[str | os.PathLike | bytes, Callable[[BinaryIO], None]]], *, _encoder_errors: bool = True
) -> list[Path]:
    """Write several files as one: every temp file is written and fsync'ed first, and only when all
    of them succeeded are they renamed into place, so a full disk or an encoder error leaves none of
    the targets changed ("nothing was written" is then true). Raises `ImageSaveError`."""
    done: list[tuple[str, Path]] = []  # (temp, final)
    try:
        for target, write in items:
            path = as_path(target)
            done.append((_write_temp(path, write, _encoder_errors), path))
    except BaseException:
        for tmp, _ in done:
            _unlink_quietly(tmp)
        raise
    committed: list[Path] = []
    for i, (tmp, path) in enumerate(done):
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode) if path.exists() else (0o666 & ~_UMASK)
            os.chmod(tmp, mode)
        except OSError:
            pass
        try:
            os.replace(tmp, path)
        except OSError as e:
            for t, _ in done[i:]:
                _unlink_quietly(t)
            wrote = "; nothing was written"
            if committed:
                wrote = f"; written: {', '.join(display_path(p) for p in committed)}"
            raise ImageSaveError(f"Cannot save '{display_path(path)}': {e.strerror or e}{wrote}.") from e
        committed.append(path)
    for parent in {p.parent if str(p.parent) else Path(".") for p in committed}:
        _fsync_dir(parent)
    return committed


def _unlink_quietly(p: str) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def _fsync_dir(parent: Path) -> None:
    if hasattr(os, "O_DIRECTORY"):
        try:
            dfd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass


def _write_temp(path: Path, write: Callable[[BinaryIO], None], encoder_errors: bool) -> str:
    """`write` into a new fsync'ed temp file beside `path`; returns its name (removed on any error)."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ImageSaveError(
            f"Cannot save '{display_path(path)}': the folder '{display_path(parent)}' does not exist. "
            "Create it first or choose another output path."
        )
    remove_stale_temp_files(path, STALE_TEMP_S)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".part", dir=parent)
    except OSError as e:
        raise ImageSaveError(
            f"Cannot save '{display_path(path)}': cannot create a file in '{display_path(parent)}' "
            f"({e.strerror}). Check the folder's permissions and free space."
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as e:
        _unlink_quietly(tmp)
        if isinstance(e, ImageSaveError):
            raise
        if isinstance(e, OSError):
            raise ImageSaveError(
                f"Cannot save '{display_path(path)}': {e.strerror or e}. "
                "Check free disk space and permissions; nothing was written."
            ) from e
        if encoder_errors and isinstance(e, Exception):  # ValueError, KeyError... from an encoder
            fmt = getattr(write, "format", None) or "image"
            raise ImageSaveError(
                f"Cannot save '{display_path(path)}': the {fmt} encoder failed ({e}). Nothing was written."
            ) from e
        raise
    return tmp


def file_id(p: str | os.PathLike) -> tuple[int, int] | None:
    """(device, inode) of an existing file, None otherwise: the same for every link and spelling of it."""
    try:
        st = os.stat(p)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def same_file(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
    except OSError:
        pass
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def iter_images(dirs: str | os.PathLike | Iterable[str | os.PathLike], recursive: bool = True) -> Iterator[Path]:
    """Image files (by extension, case-insensitive) in `dirs`, sorted; hidden files are skipped.

    A path that is itself an image file is yielded as is.
    """
    if isinstance(dirs, (str, bytes, os.PathLike)):
        dirs = [dirs]
    found: set[Path] = set()
    for d in dirs:
        d = as_path(d)
        if d.is_file():
            if d.suffix.lower() in IMAGE_EXTENSIONS:
                found.add(d)
            continue
        if not d.is_dir():
            continue
        if recursive:
            for root, subdirs, files in os.walk(d):
                subdirs[:] = [s for s in subdirs if not s.startswith(".")]
                for name in files:
                    if not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                        found.add(Path(root) / name)
        else:
            for p in d.iterdir():
                if not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file():
                    found.add(p)
    yield from sorted(found, key=lambda p: (os.fsencode(p).lower(), os.fsencode(p)))
