"""The numpy API on a seeded tiny model."""

import numpy as np
import pytest
import torch

from tcp_core.editing.inference import working_size
from tcp_core.editing.regions import RegionEdit


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:60, 0:80]
    a = np.stack([xx * 3, yy * 4, (xx + yy) * 2], -1).clip(0, 255).astype(np.uint8)
    b = rng.integers(0, 255, (50, 50, 3), dtype=np.uint8)
    return a, b


def test_working_size_keeps_aspect_and_multiples():
    assert working_size(480, 640, 128, 8) == (128, 168)
    assert working_size(640, 480, 128, 8) == (168, 128)
    assert working_size(100, 1000, 128, 8) == (128, 256)  # long side capped at 2x
    assert working_size(128, 128, 128, 8) == (128, 128)


def test_outputs_have_content_size(tiny_model, images):
    a, b = images
    for out in (tiny_model.reconstruct(a), tiny_model.swap(a, b), tiny_model.region_edit(a, b, np.ones(a.shape[:2]))):
        assert out.shape == a.shape and out.dtype == np.uint8


def test_zero_mask_equals_reconstruction_and_one_mask_is_not(tiny_model, images):
    a, b = images
    rec = tiny_model.reconstruct(a)
    assert np.array_equal(tiny_model.region_edit(a, b, np.zeros(a.shape[:2], np.float32)), rec)
    assert not np.array_equal(tiny_model.region_edit(a, b, np.ones(a.shape[:2], np.float32)), rec)


def test_strength_zero_is_reconstruction_path(tiny_model, images):
    a, b = images
    s0 = tiny_model.swap(a, b, strength=0.0)
    s1 = tiny_model.swap(a, b, strength=1.0)
    assert np.array_equal(s0, tiny_model.swap(a, a, strength=1.0)) or not np.array_equal(s0, s1)


def test_own_style_edit_is_the_strength_zero_edit_and_cached(tiny_model, images):
    a, b = images
    m = np.zeros(a.shape[:2], np.float32)
    m[10:40, 20:60] = 1
    own = tiny_model.own_style_edit(a, m)
    assert np.array_equal(own, tiny_model.region_edit(a, b, m, strength=0.0))  # independent of the style
    assert np.array_equal(own, tiny_model.region_edit(a, images[0][::-1].copy(), m, strength=0.0))
    n = len(tiny_model._own)
    assert np.array_equal(tiny_model.own_style_edit(a, m), own) and len(tiny_model._own) == n
    with pytest.raises(ValueError, match="mask size"):
        tiny_model.own_style_edit(a, m[:-1])


def test_deterministic(tiny_model, images):
    a, b = images
    m = np.zeros(a.shape[:2], np.float32)
    m[10:40, 20:60] = 1
    x = tiny_model.region_edit(a, b, m)
    tiny_model.clear_cache()
    assert np.array_equal(x, tiny_model.region_edit(a, b, m))


def test_mask_dtypes(tiny_model, images):
    a, b = images
    m = np.zeros(a.shape[:2], np.float32)
    m[:, :40] = 1
    ref = tiny_model.region_edit(a, b, m)
    assert np.array_equal(tiny_model.region_edit(a, b, (m * 255).astype(np.uint8)), ref)
    assert np.array_equal(tiny_model.region_edit(a, b, m.astype(bool)), ref)


def test_successive_edits(tiny_model, images):
    a, b = images
    m1 = np.zeros(a.shape[:2], np.float32)
    m1[:, :40] = 1
    m2 = 1 - m1
    one = tiny_model.edit_regions(a, [RegionEdit(b, m1)])
    two = tiny_model.edit_regions(a, [RegionEdit(b, m1), RegionEdit(a[::-1].copy(), m2, 0.5)])
    assert np.array_equal(one, tiny_model.region_edit(a, b, m1))
    assert two.shape == a.shape and not np.array_equal(one, two)


def test_interpolation_endpoints(tiny_model, images):
    a, b = images
    strip = tiny_model.interpolate(a, b, what="style", steps=4)
    assert len(strip) == 4
    assert np.array_equal(strip[0], tiny_model.reconstruct(a))
    assert np.array_equal(strip[-1], tiny_model.swap(a, b))
    content = tiny_model.interpolate(a, b, what="content", steps=3)
    assert np.array_equal(content[0], strip[0])
    with pytest.raises(ValueError):
        tiny_model.interpolate(a, b, what="colour")


def test_content_similarity(tiny_model, images):
    a, _ = images
    sim = tiny_model.content_similarity(a, 30, 20)
    assert sim.shape == a.shape[:2] and sim.dtype == np.float32
    assert 0.0 <= sim.min() and sim.max() <= 1.0 + 1e-6
    assert sim[20, 30] > 0.9
    with pytest.raises(ValueError, match="outside"):
        tiny_model.content_similarity(a, 500, 5)


def test_bad_inputs_are_clear_errors(tiny_model, images):
    a, b = images
    with pytest.raises(ValueError, match="does not match the photo size"):
        tiny_model.region_edit(a, b, np.ones((10, 10), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        tiny_model.region_edit(a, b, np.full(a.shape[:2], np.nan, np.float32))
    with pytest.raises(ValueError, match="HxWx3"):
        tiny_model.swap(np.zeros((4, 4, 5), np.uint8), b)
    with pytest.raises(TypeError):
        tiny_model.swap("photo.jpg", b)


def test_accepts_gray_rgba_and_16bit(tiny_model, images):
    a, b = images
    gray = a[:, :, 0]
    rgba = np.dstack([a, np.full(a.shape[:2], 255, np.uint8)])
    a16 = a.astype(np.uint16) * 257
    assert tiny_model.swap(gray, b).shape == a.shape
    assert np.array_equal(tiny_model.swap(rgba, b), tiny_model.swap(a, b))
    assert np.array_equal(tiny_model.swap(a16, b), tiny_model.swap(a, b))


def test_device_selection():
    from tcp_core.networks.device import pick_device

    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            pick_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")


def test_strength_key_frames_exact_on_the_grid_and_linear_between(images):
    """keyframe_step (slider-drag previews): exact at multiples of the step; between them E(I_g)
    is the linear blend of the two neighbouring exact key frames (checked against Eq. 5-6 by hand).
    In fp32: the math is what is checked; in bf16 (the default where the CPU has AVX512_BF16) the
    by-hand path rounds differently (up to 3 gray levels)."""
    from tcp_core.editing.inference import TCPModel
    from tcp_core.networks.model import blend_styles

    tiny_model = TCPModel.from_config("tiny", device="cpu", seed=0, precision="fp32")

    a, b = images
    m = np.zeros(a.shape[:2], np.float32)
    m[10:50, 15:70] = 1
    for t in (0.0, 0.25, 0.5, 1.0):
        assert np.array_equal(tiny_model.region_edit(a, b, m, t, keyframe_step=0.25),
                              tiny_model.region_edit(a, b, m, t))
    approx = tiny_model.region_edit(a, b, m, 0.6, keyframe_step=0.25)
    # by hand: e_g(0.6) = lerp(E(G(C_A, S(0.5))), E(G(C_A, S(0.75))), 0.4), then Eq. 5-6
    size = tiny_model._work_size(a.shape[:2])
    with torch.no_grad():
        ca, _, _ = tiny_model._encode_image(a, size)
        cb, _, _ = tiny_model._encode_image(b)
        net = tiny_model.net
        e = [net.E(net.swap(ca, blend_styles(ca.style, cb.style, t), tiny_model._noise())) for t in (0.5, 0.75)]
        e_mix = e[0] + 0.4 * (e[1] - e[0])
        mt = tiny_model._mask_tensor(m, a.shape[:2], size)
        ref = tiny_model._to_image(net.region_edit(ca, e_mix, mt, tiny_model._noise()).clamp(-1, 1), a.shape[:2])
    assert np.abs(approx.astype(int) - ref.astype(int)).max() <= 1
    exact = tiny_model.region_edit(a, b, m, 0.6)
    assert not np.array_equal(approx, exact) or np.array_equal(
        tiny_model.region_edit(a, b, m, 0.5), tiny_model.region_edit(a, b, m, 0.75))
