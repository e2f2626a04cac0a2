"""What the `apply` and `interpolate` commands (`tcp_core.editing.cli`) share: one-line errors, the
model (injected, loaded, or loaded in the background), and the input files no output may ever be
written onto."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tcp_core.base.errors import UsageError, UserError
from tcp_core.base.openmp import short_openmp_waits
from tcp_core.editing.regions import EditModel
from tcp_core.io.imageio import display_path, file_id

__all__ = ["PROG", "Inputs", "err", "model_in_background", "model_or_usage", "weights_file"]

PROG = "tcp-editor"


def err(msg: str) -> None:
    sys.stderr.write(msg.replace("\n", " ") + "\n")
    sys.stderr.flush()


def model_or_usage(args, model: EditModel | None) -> EditModel:
    if model is not None:
        return model
    # torch's CPU threads (OpenMP) spin for milliseconds between the network's steps, on a shared
    # machine through the time their partner waits for a core (tcp_core.base.openmp). Read when
    # torch loads OpenMP; the user's own setting wins.
    short_openmp_waits()
    try:
        from tcp_core.editing.inference import load_model

        return load_model(args.weights, args.device, getattr(args, "precision", "auto"), preset=args.preset)
    except ImportError as e:
        raise UsageError(f"{PROG}: error: the model code is not available ({e})") from None
    except UserError as e:  # weights not found, bad checkpoint, device unavailable...
        raise UsageError(f"{PROG}: error: cannot load the model: {e}") from None


def model_in_background(args, model: EditModel | None) -> Callable[[], EditModel]:
    """Start `model_or_usage(args, model)` on a background thread and return a function that waits
    for it: the model, or its error (the same `UsageError`) raised in the caller's thread.

    Importing torch and reading the weights take about 2 s of CPU; meanwhile the caller decodes the
    photo, style and masks (PIL's decoders and numpy release the GIL). An injected model is returned
    as is, without a thread."""
    if model is not None:
        return lambda: model
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tcp-model-load")
    future = pool.submit(model_or_usage, args, None)
    pool.shutdown(wait=False)  # the thread ends after this one job (and is joined at exit)
    return future.result


class Inputs:
    """The files a command reads (photos, style references, masks, weights), so that no output
    (a result, a batch result, a derived GIF/WebP) is ever written onto one of them: by path,
    through a symlink, a hard link or another spelling of the name (compared by device and inode)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[int, int], tuple[str, Path]] = {}

    def add(self, role: str, path: str | os.PathLike | None) -> None:
        if path is None:
            return
        p = Path(path)
        fid = file_id(p)
        if fid is not None and p.is_file():
            self._ids.setdefault(fid, (role, p))

    def files(self) -> list[Path]:
        return [p for _role, p in self._ids.values()]

    def hit(self, out: Path) -> tuple[str, Path] | None:
        """(role, input path) when writing `out` would replace one of the inputs, else None."""
        fid = file_id(out)
        return self._ids.get(fid) if fid is not None else None

    def refuse(self, cmd: str, outs: Sequence[Path]) -> None:
        for out in outs:
            hit = self.hit(out)
            if hit is not None:
                role, src = hit
                same = "" if os.path.abspath(src) == os.path.abspath(out) else f" ('{display_path(src)}')"
                raise UsageError(
                    f"{PROG} {cmd}: error: refusing to write '{display_path(out)}': it is the {role}{same}, an "
                    "input of this command; choose another output name so the inputs stay intact")


def weights_file(spec: str | None) -> str | None:
    """The local weights file of --weights, if it names one (not hf:// or default)."""
    if not spec or "://" in spec:
        return None
    return spec if os.path.isfile(spec) else None
