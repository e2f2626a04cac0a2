"""Checkpoints: safetensors round trip, and clear refusals for everything else."""

import json
import pickle
import struct

import pytest
import torch
from safetensors.torch import save_file

from tcp_core.base.config import model_preset
from tcp_core.networks.checkpoint import STATE_FORMAT, CheckpointError, load_net, read_metadata, save_model


def test_round_trip_fp32_is_bit_exact(tiny_net, tmp_path):
    p = tmp_path / "m.safetensors"
    save_model(p, tiny_net, fp16=False)
    loaded = load_net(p)
    assert loaded.config == tiny_net.config
    for (k, a), (k2, b) in zip(tiny_net.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b), k
    meta = read_metadata(p)
    assert meta["format"] == "tcp-editor" and meta["format_version"] == "1"
    assert json.loads(meta["model_config"])["name"] == "tiny"


def test_fp16_export_is_half_of_the_weights(tiny_net, tmp_path):
    p = tmp_path / "m16.safetensors"
    save_model(p, tiny_net, fp16=True)
    loaded = load_net(p)
    for k, v in tiny_net.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v.half().float()), k
    p32 = tmp_path / "m32.safetensors"
    save_model(p32, tiny_net, fp16=False)
    assert p.stat().st_size < 0.6 * p32.stat().st_size


def test_save_is_atomic_no_temp_left(tiny_net, tmp_path):
    save_model(tmp_path / "a.safetensors", tiny_net)
    assert [x.name for x in tmp_path.iterdir()] == ["a.safetensors"]


def _expect(path, match):
    with pytest.raises(CheckpointError, match=match):
        load_net(path)


def test_refuses_torch_pickle_zip(tiny_net, tmp_path):
    p = tmp_path / "model.pt"
    torch.save(tiny_net.state_dict(), p)
    _expect(p, "pickle")


def test_refuses_raw_pickle(tmp_path):
    p = tmp_path / "evil.safetensors"
    p.write_bytes(pickle.dumps({"a": 1}))
    _expect(p, "pickle")


def test_refuses_empty_missing_and_folder(tmp_path):
    (tmp_path / "empty.safetensors").write_bytes(b"")
    _expect(tmp_path / "empty.safetensors", "empty")
    _expect(tmp_path / "nope.safetensors", "not found")
    _expect(tmp_path, "folder")


def test_refuses_truncated(tiny_net, tmp_path):
    p = tmp_path / "m.safetensors"
    save_model(p, tiny_net)
    data = p.read_bytes()
    (tmp_path / "t1.safetensors").write_bytes(data[: len(data) // 2])
    _expect(tmp_path / "t1.safetensors", "truncated")
    (tmp_path / "t2.safetensors").write_bytes(data[:5])
    _expect(tmp_path / "t2.safetensors", "truncated")
    (tmp_path / "t3.safetensors").write_bytes(struct.pack("<Q", 10**12) + b"{}")
    _expect(tmp_path / "t3.safetensors", "not a valid safetensors")


def test_refuses_garbage_header(tmp_path):
    p = tmp_path / "g.safetensors"
    p.write_bytes(struct.pack("<Q", 6) + b"\xff\xfe{{{{" + b"\0" * 10)
    _expect(p, "not a valid safetensors")


def test_refuses_malformed_header(tmp_path):
    for i, header in enumerate((b"[]", b'{"a": 1}', b'{"w": {"data_offsets": "x"}}')):
        p = tmp_path / f"m{i}.safetensors"
        p.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
        _expect(p, "malformed header")


def test_refuses_foreign_safetensors(tmp_path):
    p = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3)}, str(p), metadata={"format": "pt"})
    _expect(p, "not a TCP Editor model")
    q = tmp_path / "nometa.safetensors"
    save_file({"weight": torch.zeros(3)}, str(q))
    _expect(q, "not a TCP Editor model")


def test_a_training_state_given_as_a_model_says_how_to_get_the_model(tmp_path):
    # a training state or stage hand-off (what `--init` takes) is a TCP Editor file, not another program's
    p = tmp_path / "handoff.safetensors"
    save_file({"net/w": torch.zeros(3)}, str(p), metadata={"format": STATE_FORMAT, "step": "10"})
    with pytest.raises(CheckpointError) as e:
        load_net(p)
    msg = str(e.value)
    assert "training state or stage hand-off, not a model" in msg and "another program" not in msg
    assert "model-ema.safetensors" in msg and f"scripts/handoff_state.py {p} --model" in msg


def test_refuses_wrong_version(tiny_net, tmp_path):
    p = tmp_path / "v2.safetensors"
    save_model(p, tiny_net, extra={"format_version": "99"})
    _expect(p, "version")


def _save_state(path, sd, cfg_json):
    save_file({k: v.contiguous() for k, v in sd.items()}, str(path), metadata={
        "format": "tcp-editor", "format_version": "1", "model_config": cfg_json})


def test_refuses_wrong_shapes_missing_and_nan(tiny_net, tmp_path):
    cfg_json = tiny_net.config.to_json()
    sd = {k: v.clone() for k, v in tiny_net.state_dict().items()}
    k0 = next(iter(sd))
    bad = dict(sd)
    bad[k0] = torch.zeros(1, 2, 3)
    _save_state(tmp_path / "shape.safetensors", bad, cfg_json)
    _expect(tmp_path / "shape.safetensors", "shape")
    missing = dict(sd)
    missing.pop(k0)
    _save_state(tmp_path / "missing.safetensors", missing, cfg_json)
    _expect(tmp_path / "missing.safetensors", "missing 1 tensors")
    nan = dict(sd)
    nan[k0] = torch.full_like(sd[k0], float("nan"))
    _save_state(tmp_path / "nan.safetensors", nan, cfg_json)
    _expect(tmp_path / "nan.safetensors", "NaN")
    ints = dict(sd)
    ints[k0] = sd[k0].to(torch.int32)
    _save_state(tmp_path / "int.safetensors", ints, cfg_json)
    _expect(tmp_path / "int.safetensors", "dtype")


def test_refuses_another_models_config(tiny_net, tmp_path):
    """A demo128 config with tiny tensors: every shape mismatches."""
    p = tmp_path / "mismatch.safetensors"
    _save_state(p, tiny_net.state_dict(), model_preset("demo128").to_json())
    _expect(p, "does not match its model config")
    q = tmp_path / "badcfg.safetensors"
    _save_state(q, tiny_net.state_dict(), '{"resolution": 100}')
    _expect(q, "invalid model_config")


def test_no_pickle_loading_in_the_code_base():
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    risky = ("torch" + ".load(", "pickle" + ".load")  # spelled apart so this file does not match itself
    for path in list((root / "tcp_core").rglob("*.py")) + list((root / "tcp_editor").rglob("*.py")):
        text = path.read_text()
        for line in text.splitlines():
            if any(r in line for r in risky):
                assert "weights_only=True" in line, f"{path}: {line.strip()}"
