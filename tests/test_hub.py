"""Weights resolution: bundled default, local files, and the Hugging Face Hub path against a
local cache (no network)."""

import os

import pytest

from tcp_core.editing.inference import TCPModel
from tcp_core.io import hub


def test_parse_hf_spec():
    s = hub.parse_hf_spec("hf://owner/repo/sub/dir/model.safetensors@v1.2")
    assert (s.repo_id, s.filename, s.revision) == ("owner/repo", "sub/dir/model.safetensors", "v1.2")
    assert hub.parse_hf_spec("hf://o/r/m.safetensors").revision is None
    with pytest.raises(ValueError, match="OWNER/REPO/FILE"):
        hub.parse_hf_spec("hf://owner/model.safetensors")
    with pytest.raises(ValueError, match="only .safetensors"):
        hub.parse_hf_spec("hf://o/r/pytorch_model.bin")


def test_local_path(tiny_weights):
    assert hub.resolve_weights(str(tiny_weights)) == tiny_weights
    with pytest.raises(hub.WeightsNotFound, match="not found"):
        hub.resolve_weights("/nonexistent/x.safetensors")


def test_bundled_default_via_env(tiny_weights, monkeypatch):
    monkeypatch.setenv("TCP_EDITOR_WEIGHTS_DIR", str(tiny_weights.parent))
    monkeypatch.setattr(hub, "DEFAULT_WEIGHTS_NAME", tiny_weights.name)
    assert hub.default_weights_path(tiny_weights.name) == tiny_weights


def _fake_hub_cache(cache, repo_id, filename, src, commit="0123456789abcdef0123456789abcdef01234567", ref="main"):
    """The on-disk layout huggingface_hub itself writes: refs/<ref> -> snapshots/<commit>/<file>."""
    folder = cache / ("models--" + repo_id.replace("/", "--"))
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "refs" / ref).write_text(commit)
    target = folder / "snapshots" / commit / filename
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(src.read_bytes())
    return target


def test_hub_offline_cached_file_loads(tiny_weights, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _fake_hub_cache(tmp_path, "tcp-editor/demo", "tcp.safetensors", tiny_weights)
    path = hub.resolve_weights("hf://tcp-editor/demo/tcp.safetensors", cache_dir=tmp_path)
    assert path.read_bytes() == tiny_weights.read_bytes()
    # and through the public API with the default cache location
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_CACHE", str(tmp_path))  # read by hf_hub_download at call time
    m = TCPModel.from_pretrained("hf://tcp-editor/demo/tcp.safetensors", device="cpu")
    assert m.config.name == "tiny"


def test_hub_revision_from_cache(tiny_weights, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    _fake_hub_cache(tmp_path, "o/r", "m.safetensors", tiny_weights, commit="f" * 40, ref="v1")
    p = hub.resolve_weights("hf://o/r/m.safetensors@v1", cache_dir=tmp_path)
    assert p.is_file()


def test_hub_offline_uncached_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(hub.WeightsNotFound, match="not in the local Hugging Face cache") as e:
        hub.resolve_weights("hf://nobody/nothing/m.safetensors", cache_dir=tmp_path)
    assert "hf download nobody/nothing m.safetensors" in str(e.value)
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_the_bundled_model_is_found_in_a_checkout(monkeypatch):
    """No environment override: a checkout / editable install finds weights/ at the repository root."""
    from pathlib import Path

    monkeypatch.delenv("TCP_EDITOR_WEIGHTS_DIR", raising=False)
    root = Path(__file__).resolve().parent.parent
    assert hub.default_weights_path() == root / "weights" / "tcp-demo128.safetensors"
