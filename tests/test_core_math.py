"""The paper's equations and the network parts, checked on the tiny preset."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tcp_core.base.config import MODEL_PRESETS, ModelConfig, TrainConfig, model_preset
from tcp_core.networks.compositing import composite_features, composite_pixels, resize_mask
from tcp_core.networks.cooccur import random_crops
from tcp_core.networks.layers import (
    Blur,
    DownResBlock,
    EqualConv2d,
    ModulatedConv2d,
    StyledConv,
    conv_lrelu,
    downsample2,
    lrelu,
)
from tcp_core.networks.model import Discriminators, TCPNet, blend_styles, count_parameters
from tcp_core.training import losses as L
from tcp_core.training.masks import free_form_mask, free_form_masks


def _gen(seed=0):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


@pytest.mark.parametrize("name", ["tiny", "demo128", "paper256"])
def test_shapes_every_preset(name):
    cfg = model_preset(name)
    # paper256 is checked on the meta device: same shape logic, no 60 GFLOP forward pass
    dev = torch.device("meta" if name == "paper256" else "cpu")
    with dev:
        net, dis = TCPNet(cfg), Discriminators(cfg)
    r = cfg.resolution
    x = torch.randn(2, 3, r, r, device=dev)
    with torch.no_grad():
        codes = net.encode(x)
        assert codes.e.shape == (2, cfg.feature_channels, cfg.feature_res, cfg.feature_res)
        assert codes.content.shape == (2, cfg.content_channels, cfg.feature_res, cfg.feature_res)
        assert codes.style.shape == (2, cfg.style_dim)
        assert cfg.feature_res >= 8  # Eq. 5 composites at e's grid: keep it fine enough
        out = net.decode(codes.content, codes.style)
        assert out.shape == x.shape
        assert dis.D(out).shape == (2,)
        crops = random_crops(out, cfg.dco_num_crops, cfg.dco_crop_size, cfg.dco_min_scale, cfg.dco_max_scale)
        assert crops.shape == (2, cfg.dco_num_crops, 3, cfg.dco_crop_size, cfg.dco_crop_size)
        assert dis.D_co(crops, crops).shape == (2, cfg.dco_num_crops)
    counts = {k: count_parameters(getattr(net, k)) for k in ("E", "H_c", "H_s", "G")}
    counts.update(D=count_parameters(dis.D), D_co=count_parameters(dis.D_co))
    print(f"{name} parameters: " + ", ".join(f"{k} {v / 1e6:.2f}M" for k, v in counts.items()))
    if name == "paper256":
        assert cfg.feature_channels == 512 and cfg.style_dim == 2048 and cfg.feature_res == 16
        assert 20e6 < counts["G"] < 40e6 and 20e6 < counts["E"] + counts["H_c"] + counts["H_s"] < 40e6


def test_codes_are_normalised(tiny_net):
    codes = tiny_net.encode(torch.randn(3, 3, 32, 32))
    assert torch.allclose(codes.content.norm(dim=1), torch.ones(3, 8, 8), atol=1e-5)
    assert torch.allclose(codes.style.norm(dim=1), torch.ones(3), atol=1e-5)


def test_non_square_inputs_work(tiny_net):
    codes = tiny_net.encode(torch.randn(1, 3, 32, 48))
    assert codes.content.shape[-2:] == (8, 12)
    assert tiny_net.decode(codes.content, codes.style).shape == (1, 3, 32, 48)


def test_eq5_all_zero_mask_gives_content_features_exactly(tiny_net):
    ia, ib = torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        ca, cb = tiny_net.encode(ia), tiny_net.encode(ib)
        i_g = tiny_net.swap(ca, cb.style, _gen())
        e_g = tiny_net.E(i_g)
        zero = torch.zeros(1, 1, 32, 32)
        assert torch.equal(composite_features(e_g, ca.e, zero), ca.e)
        # ... and so the same output as a plain reconstruction (same noise seed)
        out = tiny_net.region_edit(ca, e_g, zero, _gen(3))
        rec = tiny_net.decode(ca.content, ca.style, _gen(3))
        assert torch.equal(out, rec)


def test_eq5_all_one_mask_gives_transferred_features_exactly(tiny_net):
    ia, ib = torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        ca, cb = tiny_net.encode(ia), tiny_net.encode(ib)
        e_g = tiny_net.E(tiny_net.swap(ca, cb.style, _gen()))
        one = torch.ones(1, 1, 32, 32)
        assert torch.equal(composite_features(e_g, ca.e, one), e_g)
        out = tiny_net.region_edit(ca, e_g, one, _gen(1))
        h = tiny_net.heads(e_g)
        assert torch.equal(out, tiny_net.decode(h.content, h.style, _gen(1)))


def test_eq5_soft_mask_is_area_averaged():
    m = torch.zeros(1, 1, 32, 32)
    m[..., :16, :] = 1.0
    m[..., 16:17, :] = 0.5  # a soft row
    small = resize_mask(m, (8, 8))
    assert math.isclose(small.mean().item(), m.mean().item(), rel_tol=1e-6)
    ea, eg = torch.zeros(1, 4, 8, 8), torch.ones(1, 4, 8, 8)
    comp = composite_features(eg, ea, m)
    assert torch.allclose(comp[0, 0], small[0, 0])
    # non-integer factor falls back to area interpolation, still coverage-preserving
    assert math.isclose(resize_mask(m, (5, 5)).mean().item(), m.mean().item(), rel_tol=0.05)


def test_eq4_pixel_compositing():
    ig, ia = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)
    m = (torch.rand(1, 1, 8, 8) > 0.5).float()
    out = composite_pixels(ig, ia, m)
    assert torch.equal(out, torch.where(m.bool(), ig, ia))


def test_eq1_reconstruction_loss_is_l1():
    a, b = torch.zeros(2, 3, 4, 4), torch.full((2, 3, 4, 4), 0.25)
    assert L.reconstruction_loss(a, b).item() == pytest.approx(0.25)


def test_eq2_nonsaturating_and_logistic():
    x = torch.tensor([-2.0, 0.0, 3.0])
    assert L.g_nonsaturating(x).item() == pytest.approx(torch.log1p(torch.exp(-x)).mean().item(), rel=1e-6)
    assert L.d_logistic_real(x).item() == pytest.approx((-torch.log(torch.sigmoid(x))).mean().item(), rel=1e-5)
    assert L.d_logistic_fake(x).item() == pytest.approx((-torch.log(1 - torch.sigmoid(x))).mean().item(), rel=1e-5)


def test_r1_penalty_matches_analytic_gradient():
    w = torch.randn(3, 4, 4)
    x = torch.randn(5, 3, 4, 4, requires_grad=True)
    logits = (x * w).flatten(1).sum(1)
    assert L.r1_penalty(logits, x).item() == pytest.approx(w.pow(2).sum().item(), rel=1e-5)


def test_eq3_code_consistency():
    c = F.normalize(torch.randn(2, 4, 8, 8), dim=1)
    s = F.normalize(torch.randn(2, 32), dim=1)
    assert L.code_consistency_loss(c, c.clone(), s, s.clone(), lam=10.0).item() == 0.0
    c2, s2 = c + 0.1, s - 0.2
    expected = (c2 - c).abs().mean() + 3.0 * (s2 - s).abs().mean()
    assert L.code_consistency_loss(c2, c, s2, s, lam=3.0).item() == pytest.approx(expected.item(), rel=1e-6)


def test_eq7_content_alignment():
    ia, ig = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    m = torch.from_numpy(free_form_masks(2, 16, np.random.default_rng(0)))
    ih = m * ig + (1 - m) * ia  # a perfect region edit
    assert L.content_alignment_loss(ih, ig, ia, m).item() == pytest.approx(0.0, abs=1e-7)
    expected = F.l1_loss(ia * m, ig * m) + F.l1_loss(ia * (1 - m), ia * (1 - m))
    assert L.content_alignment_loss(ia, ig, ia, m).item() == pytest.approx(expected.item(), rel=1e-6)


def test_border_alignment_loss_reads_only_a_band_around_the_border():
    mask = torch.zeros(2, 1, 24, 24)
    mask[0, :, 8:16, 6:18] = 1.0  # an 8 x 12 box; image 1 has no region (no border)
    band = L.border_band(mask, 2)
    want = torch.zeros(24, 24)
    want[6:18, 4:20] = 1
    want[10:14, 8:16] = 0  # dilated (12 x 16) minus eroded (4 x 8)
    assert torch.equal(band[0, 0], want) and band[1].sum() == 0
    assert L.border_band(torch.ones(1, 1, 8, 8), 2).sum() == 0  # a full mask has no border either

    torch.manual_seed(0)
    i_g, i_a = torch.rand(2, 3, 24, 24), torch.rand(2, 3, 24, 24)
    target = i_g * mask + i_a * (1 - mask)
    assert float(L.border_alignment_loss(target, i_g, i_a, mask, width=2)) == 0.0
    i_h = (target + 0.5 * torch.rand(2, 3, 24, 24)).requires_grad_(True)
    loss = L.border_alignment_loss(i_h, i_g, i_a, mask, width=2)
    # the mean |error| over the band's pixels and channels
    err = (i_h - target).abs()[0][:, want.bool()]
    torch.testing.assert_close(loss, err.mean())
    loss.backward()
    assert (i_h.grad[0][:, ~want.bool()] == 0).all() and (i_h.grad[0][:, want.bool()] != 0).all()
    assert (i_h.grad[1] == 0).all()
    empty = torch.zeros(1, 1, 24, 24)
    assert float(L.border_alignment_loss(i_h[:1], i_g[:1], i_a[:1], empty)) == 0.0


def test_interior_alignment_loss_reads_only_the_mask_interior():
    mask = torch.zeros(2, 1, 24, 24)
    mask[0, :, 8:16, 6:18] = 1.0  # an 8 x 12 box; image 1 has no region
    want = torch.zeros(24, 24)
    want[10:14, 8:16] = 1  # eroded by 2: 4 x 8
    assert torch.equal(L.mask_interior(mask, 2)[0, 0], want) and L.mask_interior(mask, 2)[1].sum() == 0

    torch.manual_seed(0)
    i_g = torch.rand(2, 3, 24, 24)
    outside = torch.rand(2, 3, 24, 24)
    i_h = (i_g * want + outside * (1 - want)).requires_grad_(True)  # right inside, anything elsewhere
    assert float(L.interior_alignment_loss(i_h, i_g, mask, width=2)) == 0.0
    i_h2 = (i_g + 0.5 * torch.rand(2, 3, 24, 24)).requires_grad_(True)
    loss = L.interior_alignment_loss(i_h2, i_g, mask, width=2)
    err = (i_h2 - i_g).abs()[0][:, want.bool()]  # the mean |error| over the interior's pixels and channels
    torch.testing.assert_close(loss, err.mean())
    loss.backward()
    assert (i_h2.grad[0][:, ~want.bool()] == 0).all() and (i_h2.grad[0][:, want.bool()] != 0).all()
    assert (i_h2.grad[1] == 0).all()
    thin = torch.zeros(1, 1, 24, 24)
    thin[0, :, 10:13, :] = 1.0  # 3 px tall: no pixel is more than 2 px inside
    assert float(L.interior_alignment_loss(i_h2[:1], i_g[:1], thin, width=2)) == 0.0


def test_change_smoothness_loss_charges_steps_of_the_change_only_where_the_photo_is_smooth():
    torch.manual_seed(0)
    content = torch.zeros(1, 3, 16, 16)
    content[..., 8:] = 0.8  # one vertical edge in the photo at column 8
    shift = torch.tensor([0.3, -0.2, 0.1]).view(1, 3, 1, 1)
    assert float(L.change_smoothness_loss(content + shift, content)) < 1e-7  # a global shift: no blotch
    on_edge = content.clone()
    on_edge[..., 8:] += 0.4  # the change steps where the photo does
    flat = content.clone()
    flat[..., 4:] += 0.4  # the same step inside the flat left half: a blotch's border
    l_edge, l_flat = L.change_smoothness_loss(on_edge, content), L.change_smoothness_loss(flat, content)
    assert float(l_flat) > 20 * float(l_edge) and float(l_flat) > 0.01
    # the flat step, by hand: 16 rows x 1 column of |step| 0.4 x 3 channels, weight 1, over 16 x 15 places
    assert float(l_flat) == pytest.approx((16 * 1.2 / (16 * 15) + 0) / 2 + float(l_edge), rel=1e-4)
    x = flat.clone().requires_grad_(True)
    L.change_smoothness_loss(x, content).backward()
    assert x.grad[..., 3:5].abs().sum() > 0 and x.grad[..., 10:].abs().sum() == 0


def test_colour_stats_loss_is_reinhards_statistics_in_ycbcr():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(2, 3, 16, 16, generator=g) * 2 - 1
    # the statistics ignore where a pixel is: a shuffle of the reference's pixels matches it exactly
    shuffled = x.flatten(2)[:, :, torch.randperm(256, generator=g)].reshape(2, 3, 16, 16)
    assert float(L.colour_stats_loss(x, shuffled)) < 1e-6
    # flat images: only the means differ; Y/Cb/Cr of a pure gray step (0.2 on every channel) is (0.2, 0, 0)
    a, b = torch.zeros(1, 3, 4, 4), torch.full((1, 3, 8, 8), 0.2)
    assert float(L.colour_stats_loss(a, b)) == pytest.approx(0.2 / 6, abs=1e-6)
    # a pure red shift moves luma and both colour differences: |0.299| + |-0.168736| + |0.5| over 6
    red = torch.zeros(1, 3, 4, 4)
    red[:, 0] = 0.4
    assert float(L.colour_stats_loss(a, red)) == pytest.approx(0.4 * (0.299 + 0.168736 + 0.5) / 6, abs=1e-6)
    # contrast: doubling the deviation around the same mean costs the deviation difference
    y = x.mean((2, 3), keepdim=True) + 2 * (x - x.mean((2, 3), keepdim=True))
    assert float(L.colour_stats_loss(y, x)) > 0.05
    # differentiable towards the reference: a gradient step lowers it
    z = x.clone().requires_grad_(True)
    loss = L.colour_stats_loss(z, red.expand(2, 3, 4, 4) * 0.5 + 0.1)
    loss.backward()
    assert float(L.colour_stats_loss(z.detach() - 0.5 * z.grad, red.expand(2, 3, 4, 4) * 0.5 + 0.1)) < loss.item()


def test_region_colour_stats_loss_reads_only_the_mask():
    g = torch.Generator().manual_seed(4)
    x = torch.rand(3, 3, 16, 16, generator=g) * 2 - 1
    ref = torch.rand(3, 3, 12, 12, generator=g) * 2 - 1
    ones = torch.ones(3, 1, 16, 16)
    # a mask of ones is the whole-image colour loss
    whole = float(L.colour_stats_loss(x, ref))
    assert float(L.region_colour_stats_loss(x, ref, ones)) == pytest.approx(whole, rel=1e-5)
    m = torch.from_numpy(free_form_masks(3, 16, np.random.default_rng(1))).float()
    assert 0 < float(m.mean()) < 1
    # pixels outside the mask do not count: change them all and the loss stays
    y = x * m + (torch.rand(3, 3, 16, 16, generator=g) * 2 - 1) * (1 - m)
    inside_only = float(L.region_colour_stats_loss(x, ref, m))
    assert float(L.region_colour_stats_loss(y, ref, m)) == pytest.approx(inside_only, rel=1e-5)
    # 0 when the region holds a shuffle of the reference's pixels (a flat region vs a flat reference)
    flat = torch.zeros(1, 3, 8, 8)
    flat[:, 2] = 0.3
    half = torch.zeros(1, 1, 8, 8)
    half[..., :4] = 1
    img = torch.full((1, 3, 8, 8), -0.7) * (1 - half) + flat * half
    assert float(L.region_colour_stats_loss(img, flat, half)) < 2e-3  # only the 1e-5 inside the deviations
    assert float(L.colour_stats_loss(img, flat)) > 0.05  # the whole image does not match
    # an empty mask adds nothing; the gradient reaches only the pixels inside the mask
    assert float(L.region_colour_stats_loss(x[:1], ref[:1], torch.zeros(1, 1, 16, 16))) == 0.0
    z = x.clone().requires_grad_(True)
    L.region_colour_stats_loss(z, ref, m).backward()
    assert float((z.grad * (1 - m)).abs().max()) == 0.0 and float(z.grad.abs().sum()) > 0


def test_style_strength_blend_is_exact_at_ends():
    a, b = torch.randn(2, 8), torch.randn(2, 8)
    assert torch.equal(blend_styles(a, b, 0.0), a)
    assert torch.equal(blend_styles(a, b, 1.0), b)
    assert torch.allclose(blend_styles(a, b, 0.25), 0.75 * a + 0.25 * b)
    # past 1 (strength above 100 %) the code moves on along the same line, past the reference
    assert torch.allclose(blend_styles(a, b, 1.5), b + 0.5 * (b - a))


def test_modulated_conv_demodulation_is_style_independent_and_accepts_maps():
    torch.manual_seed(1)
    conv = ModulatedConv2d(4, 6, 3, style_dim=5)
    x, s = torch.randn(2, 4, 8, 8), torch.randn(2, 5)
    y = conv(x, s)
    # the style is RMS-normalised: scaling the affine output leaves the result unchanged
    with torch.no_grad():
        conv.affine.lin.weight.mul_(3.0)
        conv.affine.lin.bias.mul_(3.0)
    assert torch.allclose(conv(x, s), y, atol=1e-5)
    # a constant spatial style map equals the vector style
    smap = s[:, :, None, None].expand(2, 5, 3, 3)
    assert torch.allclose(conv(x, smap), y, atol=1e-5)
    # weights are normalised per output channel, independent of the style
    w = conv.weight * conv.scale
    wn = w * torch.rsqrt(w.pow(2).sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
    assert torch.allclose(wn.pow(2).sum(dim=(1, 2, 3)), torch.ones(6), atol=1e-5)


def test_folded_gains_compute_the_unfolded_layers():
    """The sqrt(2) activation gain and the residual 1/sqrt(2) are folded into conv weights, biases and
    noise (lrelu(g y) = g lrelu(y) for g > 0); each layer still computes the formula it stands for."""
    torch.manual_seed(0)
    x = torch.randn(2, 6, 16, 16)
    conv = EqualConv2d(6, 5, 3, padding=1, pad_mode="reflect")
    with torch.no_grad():
        conv.bias.normal_()
    for gain in (1.0, 0.5, 3.0):
        torch.testing.assert_close(conv_lrelu(conv, x, gain), lrelu(conv(x)) * gain, rtol=1e-5, atol=1e-5)
    assert (conv_lrelu(conv, x) < 0).any()  # the negative slope is exercised

    sc = StyledConv(6, 5, style_dim=4)
    with torch.no_grad():
        sc.bias.normal_()
        sc.noise.weight.fill_(0.7)
    style = torch.randn(2, 4)
    for gain in (1.0, 1 / math.sqrt(2)):
        got = sc(x, style, torch.Generator().manual_seed(3), gain=gain)
        y = sc.conv(x, style)  # modulated conv -> noise -> bias -> lrelu, unfolded
        noise = torch.randn((2, 1, 16, 16), generator=torch.Generator().manual_seed(3))
        want = lrelu(y + sc.noise.weight * noise + sc.bias) * gain
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)

    block = DownResBlock(6, 8)
    with torch.no_grad():
        for c in (block.conv1, block.conv2):
            c.bias.normal_()
    y = lrelu(block.conv2(block.blur(lrelu(block.conv1(x)))))
    want = (y + block.skip(downsample2(block.blur(x)))) / math.sqrt(2)
    torch.testing.assert_close(block(x), want, rtol=1e-5, atol=1e-5)
    assert isinstance(block.blur, Blur)


def test_spatial_style_map_changes_only_its_half(tiny_net):
    codes = tiny_net.encode(torch.randn(2, 3, 32, 32))
    s = codes.style
    smap = s[0][None, :, None, None].expand(1, -1, 8, 8).clone()
    smap[..., 4:] = s[1][None, :, None, None]
    with torch.no_grad():
        out = tiny_net.decode(codes.content[:1], smap, _gen())
        ref = tiny_net.decode(codes.content[:1], s[:1], _gen())
    diff = (out - ref).abs().mean(dim=(0, 1, 2))  # per column
    assert diff[:8].mean() < diff[24:].mean()


def test_style_blend_is_each_style_away_from_the_mask_border(tiny_net):
    """A StyleBlend (edit_style "map") renders the inside style where the mask is 1 and the outside
    style where it is 0, beyond the generator's reach of the border; between, it is neither."""
    from tcp_core.networks.layers import StyleBlend

    codes = tiny_net.encode(torch.randn(2, 3, 32, 32))
    content = codes.content[:1].repeat(1, 1, 1, 4)  # [1, C, 8, 32]: G is fully convolutional, 32 x 128 px out
    s_in, s_out = codes.style[:1], codes.style[1:]
    mask = torch.zeros(1, 1, 32, 128)
    mask[..., :64] = 1  # the left half, on the content grid's cell borders
    with torch.no_grad():
        out = tiny_net.decode(content, StyleBlend(s_in, s_out, mask), _gen())
        a = tiny_net.decode(content, s_in, _gen())
        b = tiny_net.decode(content, s_out, _gen())
    torch.testing.assert_close(out[..., :24], a[..., :24], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out[..., 104:], b[..., 104:], rtol=1e-5, atol=1e-5)
    border = out[..., 60:68]
    assert (border - a[..., 60:68]).abs().mean() > 1e-3 and (border - b[..., 60:68]).abs().mean() > 1e-3
    # a mask of ones or zeros everywhere is exactly one style
    with torch.no_grad():
        ones = tiny_net.decode(content, StyleBlend(s_in, s_out, torch.ones_like(mask)), _gen())
    torch.testing.assert_close(ones, a, rtol=1e-5, atol=1e-6)


def test_map_region_edit_keeps_eq5_content_and_reduces_to_the_photo_or_the_swap():
    """edit_style "map": G(H_c(e_hat), M * H_s(E(I_g)) + (1 - M) * S_A). An empty mask gives the photo's
    reconstruction and a full mask the swap's re-encoding, as Eq. 6 does; a half mask differs from Eq. 6
    and its outside half is closer to the reconstruction than Eq. 6's."""
    from dataclasses import replace

    from tcp_core.base.config import model_preset
    from tcp_core.networks.model import TCPNet

    torch.manual_seed(3)
    net_code = TCPNet(model_preset("tiny")).eval()
    net_map = TCPNet(replace(model_preset("tiny"), edit_style="map")).eval()
    net_map.load_state_dict(net_code.state_dict())
    with torch.no_grad():
        codes = net_map.encode(torch.rand(1, 3, 32, 32) * 2 - 1)
        e_g = net_map.E(torch.rand(1, 3, 32, 32) * 2 - 1)
        rec = net_map.decode(codes.content, codes.style, _gen())
        zero = net_map.region_edit(codes, e_g, torch.zeros(1, 1, 32, 32), _gen())
        full_map = net_map.region_edit(codes, e_g, torch.ones(1, 1, 32, 32), _gen())
        full_code = net_code.region_edit(codes, e_g, torch.ones(1, 1, 32, 32), _gen())
        half = torch.zeros(1, 1, 32, 32)
        half[..., :16] = 1
        h_map = net_map.region_edit(codes, e_g, half, _gen())
        h_code = net_code.region_edit(codes, e_g, half, _gen())
    torch.testing.assert_close(zero, rec, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(full_map, full_code, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(h_map, h_code, atol=1e-4)
    assert (h_map - rec)[..., 24:].abs().mean() < (h_code - rec)[..., 24:].abs().mean()


def test_edit_style_is_checked_and_old_configs_read_as_the_papers():
    import json

    from tcp_core.base.config import ModelConfig, model_preset
    from tcp_core.base.errors import UsageError

    raw = json.loads(model_preset("tiny").to_json())
    assert raw.pop("edit_style") == "code"
    assert ModelConfig.from_json(json.dumps(raw)).edit_style == "code"  # files from before the field
    raw["edit_style"] = "mapp"
    with pytest.raises(UsageError, match="edit_style must be one of code, map"):
        ModelConfig.from_json(json.dumps(raw))


def test_noise_is_reproducible_with_a_seed(tiny_net):
    codes = tiny_net.encode(torch.randn(1, 3, 32, 32))
    with torch.no_grad():
        for blk in tiny_net.G.blocks:  # make the noise visible
            blk.conv1.noise.weight.fill_(0.5)
        a = tiny_net.decode(codes.content, codes.style, _gen(5))
        b = tiny_net.decode(codes.content, codes.style, _gen(5))
        c = tiny_net.decode(codes.content, codes.style, _gen(6))
        for blk in tiny_net.G.blocks:
            blk.conv1.noise.weight.fill_(0.0)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_random_crops_geometry():
    img = torch.zeros(2, 3, 32, 32)
    img[:, 0] = torch.linspace(-1, 1, 32)[None, None, :]  # horizontal ramp in red
    crops = random_crops(img, 16, 8, 1 / 8, 1 / 4, generator=_gen())
    assert crops.shape == (2, 16, 3, 8, 8)
    assert torch.equal(crops[:, :, 1:], torch.zeros_like(crops[:, :, 1:]))
    # each crop spans at most 1/4 of the ramp (plus interpolation slack) and some are flipped
    span = crops[:, :, 0, 4, -1] - crops[:, :, 0, 4, 0]
    assert span.abs().max() <= 2 * 0.25 * 2 + 0.1
    assert (span < 0).any() and (span > 0).any()


def test_random_crops_within_a_mask_show_the_region():
    img = -torch.ones(3, 3, 32, 32)
    mask = torch.zeros(3, 1, 32, 32)
    img[0, :, 20:, 22:] = 1.0  # image 0: a region in the corner (centres near the border get moved in)
    mask[0, :, 20:, 22:] = 1.0
    img[1, :, 4:12, 10:30] = 1.0  # image 1: a band
    mask[1, :, 4:12, 10:30] = 1.0
    crops = random_crops(img, 64, 8, 1 / 16, 1 / 8, generator=_gen(), within=mask)
    assert crops.shape == (3, 64, 3, 8, 8)
    centre = crops[:2, :, 0, 3:5, 3:5].mean(dim=(-1, -2))  # [2, 64]
    assert bool((centre > 0.5).all())  # every crop of images 0-1 is centred in its region
    plain = random_crops(img, 64, 8, 1 / 16, 1 / 8, generator=_gen())[:2, :, 0, 3:5, 3:5].mean(dim=(-1, -2))
    assert float((plain > 0.5).float().mean()) < 0.5  # unmasked crops mostly miss these small regions
    # an empty region (image 2) falls back to crops anywhere
    assert torch.isfinite(crops[2]).all()


def test_free_form_masks():
    rng = np.random.default_rng(0)
    masks = [free_form_mask(64, rng) for _ in range(20)]
    cov = [m.mean() for m in masks]
    assert all(m.dtype == np.float32 and set(np.unique(m)) <= {0.0, 1.0} for m in masks)
    assert 0.05 <= min(cov) and max(cov) <= 0.7
    again = free_form_mask(64, np.random.default_rng(0))
    assert np.array_equal(again, masks[0])


def test_config_json_round_trip_and_validation():
    for cfg in MODEL_PRESETS.values():
        assert ModelConfig.from_json(cfg.to_json()) == cfg
    t = TrainConfig(batch_size=4, tcp_every=4)
    assert TrainConfig.from_json(t.to_json()) == t
    with pytest.raises(ValueError, match="power of two"):
        ModelConfig(resolution=100)
    with pytest.raises(ValueError, match="even"):
        TrainConfig(batch_size=3)
    with pytest.raises(ValueError, match="unknown model config fields"):
        ModelConfig.from_json('{"bogus": 1}')
    with pytest.raises(ValueError, match="unknown model preset"):
        model_preset("huge")


def test_golden_values_seeded_tiny_model():
    """Fixed seed, fixed input -> fixed output (guards against silent changes of the math)."""
    torch.manual_seed(1234)
    net = TCPNet(model_preset("tiny")).eval()
    x = torch.linspace(-1, 1, 3 * 32 * 32).reshape(1, 3, 32, 32)
    with torch.no_grad():
        codes = net.encode(x)
        out = net.decode(codes.content, codes.style, _gen(0))
    got = [round(v, 4) for v in (codes.e.mean().item(), codes.content.sum().item(), codes.style[0, :3].sum().item(),
                                 out.mean().item(), out.std().item(), out[0, :, 5, 7].sum().item())]
    print("golden", got)
    assert got == pytest.approx(GOLDEN, abs=2e-4)


GOLDEN = [-0.025, 44.2244, -0.3527, -0.1501, 0.2848, -0.5592]
