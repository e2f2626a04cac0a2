"""One resolver for every place a model can come from.

- `None`, "" or "default": the bundled default in `weights/` (checkout, installed data files,
  or a PyInstaller bundle).
- a local path to a `.safetensors` file.
- `hf://OWNER/REPO/PATH/FILE.safetensors[@REVISION]`: through huggingface_hub and its cache.
  Offline (HF_HUB_OFFLINE=1, or no network) a cached file loads; an uncached one is a clear
  error telling the user how to get it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tcp_core.base.errors import UsageError, UserError

DEFAULT_WEIGHTS_NAME = "tcp-demo128.safetensors"
BASELINE_WEIGHTS_NAME = "swapae-demo128.safetensors"


class WeightsNotFound(UserError, FileNotFoundError):
    pass


@dataclass(frozen=True)
class HubSpec:
    repo_id: str
    filename: str
    revision: str | None = None


def weights_dirs() -> list[Path]:
    """Where bundled weights are looked for, in order."""
    dirs = []
    env = os.environ.get("TCP_EDITOR_WEIGHTS_DIR")
    if env:
        dirs.append(Path(env))
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        dirs.append(Path(meipass) / "weights")
    dirs.append(Path(__file__).resolve().parents[2] / "weights")  # checkout / editable install
    dirs.append(Path(sys.prefix) / "share" / "tcp-editor" / "weights")  # installed data files
    return dirs


def default_weights_path(name: str = DEFAULT_WEIGHTS_NAME) -> Path:
    for d in weights_dirs():
        p = d / name
        if p.is_file():
            return p
    raise WeightsNotFound(
        f"the bundled model {name} was not found (looked in: {', '.join(str(d) for d in weights_dirs())}). "
        "Reinstall TCP Editor, or pass --weights PATH_OR_hf://OWNER/REPO/FILE.safetensors")


def parse_hf_spec(spec: str) -> HubSpec:
    if not spec.startswith("hf://"):
        raise UsageError(f"not a hub spec: {spec!r}")
    rest = spec[len("hf://"):]
    revision = None
    if "@" in rest:
        rest, revision = rest.rsplit("@", 1)
        if not revision:
            raise UsageError(f"empty revision in {spec!r}")
    parts = [p for p in rest.split("/") if p]
    if len(parts) < 3:
        raise UsageError(f"a hub spec needs hf://OWNER/REPO/FILE.safetensors[@REVISION], got {spec!r}")
    filename = "/".join(parts[2:])
    if not filename.endswith(".safetensors"):
        raise UsageError(f"only .safetensors files are loaded from the hub, got {filename!r}")
    return HubSpec(repo_id=f"{parts[0]}/{parts[1]}", filename=filename, revision=revision)


def resolve_weights(spec: str | os.PathLike | None = None, *, cache_dir: str | os.PathLike | None = None) -> Path:
    """Turn a weights spec into a local file path (downloading through the HF cache if allowed)."""
    if spec is None or str(spec) in ("", "default"):
        return default_weights_path()
    if str(spec) == "baseline":
        return default_weights_path(BASELINE_WEIGHTS_NAME)
    s = str(spec)
    if s.startswith("hf://"):
        return _resolve_hub(parse_hf_spec(s), cache_dir)
    p = Path(s).expanduser()
    if not p.exists():
        raise WeightsNotFound(f"weights file not found: {p}")
    return p


def _resolve_hub(hs: HubSpec, cache_dir) -> Path:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    where = f"hf://{hs.repo_id}/{hs.filename}" + (f"@{hs.revision}" if hs.revision else "")
    try:
        return Path(hf_hub_download(
            repo_id=hs.repo_id, filename=hs.filename, revision=hs.revision,
            cache_dir=cache_dir, local_files_only=offline,
        ))
    except LocalEntryNotFoundError:
        raise WeightsNotFound(
            f"{where} is not in the local Hugging Face cache and the hub cannot be reached "
            f"({'HF_HUB_OFFLINE is set' if offline else 'no network'}). On a machine with internet, run "
            f"`hf download {hs.repo_id} {hs.filename}` (or unset HF_HUB_OFFLINE), or pass a local file "
            "with --weights PATH.") from None
    except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as e:
        raise WeightsNotFound(f"{where} does not exist on the hub: {type(e).__name__}") from None
