"""Widening the content code (tcp_core.networks.widen): the model computes the same images, the
new channels can learn, and bad requests get clear errors."""

from __future__ import annotations

import pytest
import torch

from tcp_core.base.config import model_preset
from tcp_core.base.errors import UsageError
from tcp_core.networks.model import TCPNet
from tcp_core.networks.widen import CONV1_W, HC_W, SKIP_W, widen_content, widened_config


def _trained_like_net(seed: int = 0) -> TCPNet:
    """A tiny TCPNet with every parameter perturbed (biases and noise strengths too), so the test
    does not lean on zero-initialised parameters."""
    torch.manual_seed(seed)
    net = TCPNet(model_preset("tiny"))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net.eval()


def _rec_loss(net: TCPNet, img: torch.Tensor) -> torch.Tensor:
    codes = net.encode(img)
    return (net.decode(codes.content, codes.style, torch.Generator().manual_seed(0)) - img).abs().mean()


def _widened(net: TCPNet, channels: int, init: str = "copy") -> TCPNet:
    sd, cfg = widen_content(net.state_dict(), net.config, channels, init=init, seed=3)
    wide = TCPNet(cfg)
    wide.load_state_dict(sd)
    return wide.eval()


@pytest.mark.parametrize("init", ["zero", "copy"])
@pytest.mark.parametrize("factor", [2, 3])
def test_widened_model_computes_the_same_images(factor, init):
    net = _trained_like_net()
    c = net.config.content_channels
    wide = _widened(net, c * factor, init)
    assert wide.config.content_channels == c * factor
    torch.manual_seed(1)
    r = net.config.resolution
    a, b = torch.rand(2, 3, r, r) * 2 - 1, torch.rand(2, 3, r, r) * 2 - 1
    with torch.no_grad():
        ca, cb = net.encode(a), net.encode(b)
        wa, wb = wide.encode(a), wide.encode(b)
        if init == "zero":  # the old channels of C are unchanged, the new ones 0
            assert torch.allclose(wa.content[:, :c], ca.content, atol=1e-6)
            assert wa.content[:, c:].abs().max() == 0
        else:  # every channel is a copy of the old one, / sqrt(factor)
            for j in range(factor):
                assert torch.allclose(wa.content[:, j * c:(j + 1) * c], ca.content / factor ** 0.5, atol=1e-6)
        assert torch.allclose(wa.style, ca.style, atol=1e-6)
        # reconstruction and swap (Eq. 1-2), with the same noise
        for content, style, wcontent, wstyle in ((ca.content, ca.style, wa.content, wa.style),
                                                 (ca.content, cb.style, wa.content, wb.style)):
            x = net.decode(content, style, torch.Generator().manual_seed(7))
            y = wide.decode(wcontent, wstyle, torch.Generator().manual_seed(7))
            assert torch.allclose(x, y, atol=1e-5), (x - y).abs().max()


def test_zero_init_new_channels_get_gradients_and_grow():
    net = _trained_like_net()
    c = net.config.content_channels
    wide = _widened(net, c * 2, "zero").train()
    r = net.config.resolution
    img = torch.rand(2, 3, r, r) * 2 - 1
    params = dict(wide.named_parameters())
    opt = torch.optim.SGD(wide.parameters(), lr=0.5)

    _rec_loss(wide, img).backward()
    # H_c's new rows get a gradient through the skip's small new weights (x_new is still 0, so the
    # skip's own new weights do not, yet)
    assert params[HC_W].grad[c:].abs().sum() > 0, "the new content channels must be able to learn"
    opt.step()
    opt.zero_grad()
    with torch.no_grad():
        assert wide.encode(img).content[:, c:].abs().max() > 0  # after one step they carry signal
    _rec_loss(wide, img).backward()
    assert params[SKIP_W].grad[:, c:].abs().sum() > 0  # and G's new weights learn from it


def test_copy_init_new_weights_learn_at_once():
    net = _trained_like_net()
    c = net.config.content_channels
    wide = _widened(net, c * 2, "copy").train()
    r = net.config.resolution
    img = torch.rand(2, 3, r, r) * 2 - 1
    _rec_loss(wide, img).backward()
    params = dict(wide.named_parameters())
    assert params[SKIP_W].grad[:, c:].abs().sum() > 0
    assert params[CONV1_W].grad[:, c:].abs().sum() > 0


def test_widen_refuses_bad_requests():
    net = _trained_like_net()
    c = net.config.content_channels
    with pytest.raises(UsageError, match="multiple"):
        widened_config(net.config, c + 1)
    with pytest.raises(UsageError, match="multiple"):
        widened_config(net.config, c)
    sd = net.state_dict()
    del sd[HC_W]
    with pytest.raises(UsageError, match="missing"):
        widen_content(sd, net.config, 2 * c)
    with pytest.raises(UsageError, match="init"):
        widen_content(net.state_dict(), net.config, 2 * c, init="random")
    with pytest.raises(UsageError, match="rows"):
        widen_content(net.state_dict(), widened_config(net.config, 2 * c), 4 * c)
