"""Style from part of the reference (masked pooling in H_s) and the even strength slider."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tcp_core.base.config import model_preset
from tcp_core.editing.cli import main
from tcp_core.editing.inference import TCPModel, strength_exponent_of
from tcp_core.networks.model import TCPNet


def _img(h, w, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 3 + seed * 20, yy * 2, (xx + yy) * 2], -1) % 256
    return (base + rng.integers(0, 40, base.shape)).clip(0, 255).astype(np.uint8)


def test_masked_pooling_with_a_full_mask_is_the_plain_style_code():
    torch.manual_seed(0)
    net = TCPNet(model_preset("tiny")).eval()
    x = torch.rand(2, 3, 64, 64) * 2 - 1  # H_s pools a 3x3 grid at this size
    with torch.no_grad():
        plain = net.encode(x).style
        full = net.encode(x, style_mask=torch.ones(2, 1, 64, 64)).style
        half = torch.zeros(2, 1, 64, 64)
        half[..., :32, :] = 1
        part = net.encode(x, style_mask=half).style
    assert torch.allclose(plain, full, atol=1e-6)
    assert not torch.allclose(plain, part, atol=1e-3)
    assert torch.allclose(part.norm(dim=1), torch.ones(2), atol=1e-5)  # still a unit style code


def test_style_mask_changes_the_edit_and_only_through_the_style_code():
    m = TCPModel.from_config("tiny", seed=2)
    photo, style = _img(40, 48, 1), _img(36, 36, 2)
    mask = np.zeros((40, 48), np.float32)
    mask[:20] = 1
    sm = np.zeros((36, 36), np.float32)
    sm[:, :12] = 1
    whole = m.region_edit(photo, style, mask)
    part = m.region_edit(photo, style, mask, style_mask=sm)
    assert not np.array_equal(whole, part)
    assert np.array_equal(whole, m.region_edit(photo, style, mask, style_mask=np.ones((36, 36), np.float32)))
    with pytest.raises(ValueError, match="style mask is empty"):
        m.region_edit(photo, style, mask, style_mask=np.zeros((36, 36), np.float32))
    with pytest.raises(ValueError):
        m.region_edit(photo, style, mask, style_mask=np.ones((10, 50), np.float32))


def test_apply_style_mask_cli(tmp_path, capsys):
    photo, style = tmp_path / "photo.png", tmp_path / "style.png"
    Image.fromarray(_img(60, 80, 3)).save(photo)
    Image.fromarray(_img(50, 50, 4)).save(style)
    mask, smask = tmp_path / "mask.png", tmp_path / "smask.png"
    mk = np.zeros((60, 80), np.uint8)
    mk[10:40, 10:60] = 255
    Image.fromarray(mk).save(mask)
    sm = np.zeros((50, 50), np.uint8)
    sm[:20] = 255
    Image.fromarray(sm).save(smask)
    base = ["apply", str(photo), "--style", str(style), "--mask", str(mask), "--preset", "tiny"]
    assert main([*base, "-o", str(tmp_path / "a.png")]) == 0
    assert main([*base, "--style-mask", str(smask), "-o", str(tmp_path / "b.png")]) == 0
    assert main([*base, "--style-mask", "none", "-o", str(tmp_path / "c.png")]) == 0
    a, b, c = (np.asarray(Image.open(tmp_path / f"{n}.png")) for n in "abc")
    assert not np.array_equal(a, b) and np.array_equal(a, c)
    capsys.readouterr()
    assert main([*base, "--style-mask", str(smask), "--style-mask", str(smask), "-o", str(tmp_path / "d.png")]) == 2
    assert "--style-mask" in capsys.readouterr().err
    assert main([*base, "--style-mask", str(tmp_path / "missing.png"), "-o", str(tmp_path / "e.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([*base, "--style-mask", str(smask), "-o", str(smask)]) == 2  # never overwrites an input
    assert np.array_equal(np.asarray(Image.open(smask)), sm)


def test_strength_exponent_maps_the_slider_to_the_code_weight():
    assert strength_exponent_of({}) == 1.0
    assert strength_exponent_of({"strength_exponent": "0.5"}) == 0.5
    assert strength_exponent_of({"strength_exponent": "nonsense"}) == 1.0
    assert strength_exponent_of({"strength_exponent": "1e9"}) == 1.0
    m = TCPModel.from_config("tiny", seed=3)
    m.strength_exponent = 0.5
    assert m.code_weight(0.0) == 0.0 and m.code_weight(1.0) == 1.0 and m.code_weight(0.25) == 0.5
    ws = [m.code_weight(t) for t in np.linspace(0, 1, 11)]
    assert all(b > a for a, b in zip(ws, ws[1:]))
    photo, style = _img(32, 32, 5), _img(32, 32, 6)
    mask = np.ones((32, 32), np.float32)
    lin = TCPModel.from_config("tiny", seed=3)
    assert np.array_equal(m.region_edit(photo, style, mask, 0.25), lin.region_edit(photo, style, mask, 0.5))


def test_strength_exponent_travels_in_the_weights(tmp_path):
    from tcp_core.networks.checkpoint import save_model

    torch.manual_seed(0)
    p = tmp_path / "m.safetensors"
    save_model(p, TCPNet(model_preset("tiny")), extra={"strength_exponent": "0.6"})
    assert TCPModel.from_pretrained(str(p), device="cpu").strength_exponent == 0.6
