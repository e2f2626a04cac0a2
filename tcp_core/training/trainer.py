"""The training loop (METHOD section 2): one iteration of the Swapping Autoencoder with the TCP losses.

Pairs are the two halves of a batch: the first half takes the second half's style and vice versa.
An iteration runs the phases of `PHASES` that are due at its step (the shape of NVlabs
stylegan2-ada-pytorch's loss phases):

  G        L_rec (Eq. 1) + non-saturating D on the reconstruction (x0.5) and the swap
           I_g = G(C_A, S_B) (x1) + D_co (Eq. 2) on crops of I_g against crops of I_B
           [+ the optional feature losses: perceptual, style statistics, swap content; and the
           swap's pixel colour statistics against I_B's; with swap_prime the swap is G(C_A', S_B) of
           A primed towards B, `training.primed`]
  G_tcp    every K iterations, on the same swap: L_CC (Eq. 3) and L_CA (Eq. 7) on the region
           edit I_h of Eq. 5-6 (`TCPNet.region_edit`, the editor's own operation)
  D        softplus logistic loss for D (real x1, rec x0.5, swap x0.5) and D_co (real pairs: two
           crop sets of one image; fake: crops of I_g against crops of I_B); the fakes are decoded
           again, or with `reuse_fakes` they are phase G's own outputs of this iteration (detached)
  D_r1     every 16 iterations (lazy regularisation), R1 with gamma 10 for D and 1 for D_co,
           scaled by the interval

Unlike stylegan2-ada, a periodic phase does not take an optimizer step of its own: its losses join
its network's step (G_tcp joins G, D_r1 joins D), so an iteration makes one backward pass and one
Adam step per network. Then the weights' moving average (EMA) is updated; it is what a run exports.

Data-parallel across processes with torch.distributed (gloo on CPU, NCCL on GPU): every rank
computes its own pairs and gradients are all-reduced in one flat buffer per optimizer step (DDP's
reducer does not support the double backward of R1 and the several backward passes per step).

`state_tensors` / `load_state` are the whole training state (networks, EMA, optimizers, every
random generator) as safetensors, so a resumed run repeats the same steps exactly.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

from tcp_core.base.config import LossWeights, ModelConfig, TrainConfig
from tcp_core.base.errors import UsageError, UserError
from tcp_core.networks.checkpoint import STATE_FORMAT, load_net, read_metadata
from tcp_core.networks.cooccur import random_crops
from tcp_core.networks.model import Discriminators, TCPNet
from tcp_core.networks.precision import Precision, channels_last
from tcp_core.training import losses as L
from tcp_core.training.diffaugment import augment_crops, diff_augment, parse_policy
from tcp_core.training.masks import free_form_masks, training_masks
from tcp_core.training.primed import primed_photos, uint8_photos
from tcp_core.training.recolour import GradeRanges, grade, recolour

STATE_MODULES = ("net", "ema", "disc")  # a state's module tensors are named PREFIX/param (then opt_g/, opt_d/, rng/)


class TrainingDiverged(UserError, RuntimeError):
    """A loss became NaN/inf; the message says how to resume."""


# ----------------------------------------------------------------------------------------------
# the phases of an iteration
# ----------------------------------------------------------------------------------------------


class Phase(NamedTuple):
    name: str  # G, G_tcp, D, D_r1
    net: str  # the optimizer step its losses join: "G" (E, H_c, H_s, G) or "D" (D, D_co)
    every: int  # runs at the steps with step % every == 0; 0: never


def training_phases(tcfg: TrainConfig) -> tuple[Phase, ...]:
    """The phase table of a run (see the module docstring for what each phase computes)."""
    return (
        Phase("G", "G", 1),
        Phase("G_tcp", "G", tcfg.tcp_every if tcfg.tcp_losses else 0),  # K of the paper
        Phase("D", "D", 1),
        Phase("D_r1", "D", tcfg.r1_every),  # lazy R1
    )


def phases_due(phases: tuple[Phase, ...], step: int) -> frozenset[str]:
    """The names of the phases that run at `step`."""
    return frozenset(p.name for p in phases if p.every and step % p.every == 0)


# ----------------------------------------------------------------------------------------------
# the trainer
# ----------------------------------------------------------------------------------------------


@dataclass
class DistInfo:
    """This process's place in a data-parallel run (rank 0 alone writes files and logs)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def _set_requires_grad(module: torch.nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def ema_beta_at(age: int, ema_beta: float) -> float:
    """The EMA's decay after `age` averaged steps: min(ema_beta, (1 + age) / (10 + age)).

    The ramp lets a run from scratch forget its random start quickly (0.1 at age 0, 0.91 at 100,
    0.99 at 900, the full 0.999 after about 9000 steps)."""
    return min(ema_beta, (1 + age) / (10 + age))


def ema_age(meta: dict[str, str]) -> int:
    """How many steps the EMA of a saved state, hand-off or exported model has averaged: its run's
    step plus the age it was handed at that run's start. A stage started from it continues the ramp
    there instead of at age 0, which replaced the trained EMA by the raw networks within ten steps
    (0.6 dB worse reconstruction at the shipped stage-26 hand-off). 0 when the file does not say."""
    try:
        return max(0, int(meta.get("step", 0)) + int(meta.get("ema_start", 0)))
    except ValueError:
        return 0


class Trainer:
    """E, H_c, H_s, G (`net`), their EMA (`ema`), D and D_co (`disc`), the two Adam optimizers and
    the random generators of masks, crops and augmentation; `train_step(batch)` runs an iteration."""

    def __init__(self, mcfg: ModelConfig, tcfg: TrainConfig, device: torch.device, dist_info: DistInfo | None = None,
                 precision: str = "auto"):
        self.mcfg, self.tcfg, self.device = mcfg, tcfg, device
        self.dist = dist_info or DistInfo()
        self.precision = Precision.resolve(precision, device)
        torch.manual_seed(tcfg.seed)
        self.net = channels_last(TCPNet(mcfg).to(device))
        self.disc = channels_last(Discriminators(mcfg, tcfg.discriminator).to(device))
        self.ema = channels_last(TCPNet(mcfg).to(device).eval())
        self.ema.load_state_dict(self.net.state_dict())
        _set_requires_grad(self.ema, False)
        # The frozen pretrained pyramid: input of the projected D and of the perceptual loss. Not
        # part of any saved state (it comes from the pinned package).
        self.features = None
        w = tcfg.weights
        if (tcfg.discriminator == "projected" or w.perceptual > 0 or w.style_stats > 0 or w.swap_content > 0
                or w.ca_content > 0):
            from tcp_core.networks.efficientnet import FeaturePyramid

            self.features = channels_last(FeaturePyramid().to(device))
        self.aug = parse_policy(tcfg.diffaugment)
        self.aug_co = parse_policy(tcfg.diffaugment_cooccur)
        r = tcfg.r1_every / (tcfg.r1_every + 1)  # lazy regularisation correction
        self.opt_g = torch.optim.Adam(self.net.parameters(), lr=tcfg.lr, betas=tcfg.betas)
        d_lr = tcfg.lr if tcfg.d_lr is None else tcfg.d_lr
        self.opt_d = torch.optim.Adam(
            self.disc.parameters(), lr=d_lr * r, betas=(tcfg.betas[0] ** r, tcfg.betas[1] ** r))
        self.phases = training_phases(tcfg)
        self._fakes: Tensor | None = None  # phase G's [rec; swap], detached, for phase D (reuse_fakes)
        self._edit_fakes: Tensor | None = None  # a TCP step's region edits, detached, for phase D (--d-edit)
        self.step = 0
        # Steps the EMA had averaged before this run's step 0 (a stage started with --init keeps the
        # EMA it was handed; see `ema_beta_at`). 0 for a run from scratch.
        self.ema_start = 0
        self.mask_rng = np.random.default_rng([tcfg.seed, self.dist.rank, 12345])
        self.crop_gen = torch.Generator(device="cpu")
        self.crop_gen.manual_seed(tcfg.seed * 1000 + self.dist.rank)
        self.aug_gen = torch.Generator(device="cpu")
        self.aug_gen.manual_seed(tcfg.seed * 1000 + self.dist.rank + 777)
        self.grade_ranges = GradeRanges(neutral=tcfg.grade_neutral)  # the graded terms' grades (recolour.grade)
        if self.dist.world > 1:
            self._broadcast_params()

    # distributed helpers ----------------------------------------------------------------------
    def _broadcast_params(self) -> None:
        for m in (self.net, self.disc, self.ema):
            for t in list(m.parameters()) + list(m.buffers()):
                dist.broadcast(t.data, src=0)

    def _allreduce_grads(self, module: torch.nn.Module) -> None:
        if self.dist.world == 1:
            return
        params = [p for p in module.parameters() if p.requires_grad]
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat /= self.dist.world
        off = 0
        for p in params:
            n = p.numel()
            p.grad = flat[off:off + n].view_as(p).clone()
            off += n

    # the phases' losses -----------------------------------------------------------------------
    def _crops(self, images: Tensor, within: Tensor | None = None) -> Tensor:
        c = self.mcfg
        crops = random_crops(images, c.dco_num_crops, c.dco_crop_size, c.dco_min_scale, c.dco_max_scale,
                             generator=self.crop_gen, within=within)
        return augment_crops(crops, self.aug_co, self.aug_gen) if self.aug_co else crops

    def _D(self, images: Tensor) -> Tensor:
        """D's logits for images [N, 3, R, R]: DiffAugment, then pixels (stylegan2) or the frozen
        pyramid (projected) -> [N] or [N, P] patch logits."""
        x = channels_last(diff_augment(images, self.aug, self.aug_gen) if self.aug else images)
        if self.disc.kind == "projected":
            return self.disc.D(self.features(x))
        return self.disc.D(x)

    @staticmethod
    def _pair_perm(n: int) -> Tensor:
        """Index of each sample's style source: first half <- second half and vice versa."""
        h = n // 2
        return torch.cat([torch.arange(h, n), torch.arange(0, h)])

    def _ca_masks(self, real: Tensor) -> np.ndarray:
        """L_CA's masks M for the content photos `real` ([N, 3, H, W] in [-1, 1]) -> [N, 1, H, W]."""
        kind = self.tcfg.ca_masks
        if kind == "strokes":  # the paper's; the photos are not looked at (the old random stream)
            return free_form_masks(real.shape[0], real.shape[-1], self.mask_rng)
        return training_masks(kind, uint8_photos(real), self.mask_rng)

    def g_step(self, real: Tensor, tcp: bool) -> dict[str, Tensor]:
        """Phase G (and G_tcp when `tcp`): one backward pass and one Adam step of E, H_c, H_s, G."""
        w: LossWeights = self.tcfg.weights
        n = real.shape[0]
        perm = self._pair_perm(n).to(real.device)
        _set_requires_grad(self.disc, False)
        stats: dict[str, Tensor] = {}
        with self.precision.autocast():
            codes = self.net.encode(real)  # e: [N, C_e, h, w]; C: [N, C_c, h, w]; S: [N, D]
            real_b = real[perm]  # I_B: each swap's style reference
            s_swap = codes.style[perm]
            c_swap = codes.content  # the swap's content code: C_A, or C_A' of A primed towards B (--swap-prime)
            if self.tcfg.swap_prime > 0:
                c_swap = self.net.encode(
                    primed_photos(real, real_b, self.tcfg.ca_masks, self.tcfg.swap_prime, self.mask_rng,
                                  self.tcfg.swap_prime_profile)).content
            out = self.net.decode(torch.cat([codes.content, c_swap]), torch.cat([codes.style, s_swap]))
            rec, swap = out[:n], out[n:]  # I_{A->A} and I_{A->B} = G(C_A, S_B) (or G(C_A', S_B))
            self._fakes = out.detach() if self.tcfg.reuse_fakes else None
            logits = self._D(out)
            loss_rec = L.reconstruction_loss(rec.float(), real)
            loss_gan_rec = L.g_nonsaturating(logits[:n].float())
            loss_gan_swap = L.g_nonsaturating(logits[n:].float())
            loss_co = L.g_nonsaturating(self.disc.D_co(self._crops(swap), self._crops(real_b)).float())
            total = (w.rec * loss_rec + w.gan_rec * loss_gan_rec + w.gan_swap * loss_gan_swap + w.cooccur * loss_co)
            stats.update(rec=loss_rec, g_rec=loss_gan_rec, g_swap=loss_gan_swap, g_co=loss_co)
            f_real = None
            if self.features is not None:
                with torch.no_grad():
                    f_real = self.features(real)  # 4 maps, strides 4-32
            if w.perceptual > 0:
                loss_perc = L.perceptual_loss(self.features(channels_last(rec)), f_real)
                total = total + w.perceptual * loss_perc
                stats["perc"] = loss_perc
            if w.style_stats > 0 or w.swap_content > 0:
                f_swap = self.features(channels_last(swap))
                if w.style_stats > 0:  # the swap's feature statistics -> its style reference's (B)
                    loss_ss = L.feature_style_loss(f_swap[:3], [f[perm] for f in f_real[:3]])  # strides 4-16
                    total = total + w.style_stats * loss_ss
                    stats["style_stats"] = loss_ss
                if w.swap_content > 0:  # the swap's normalised deep features -> its content photo's (A)
                    loss_sc = L.feature_content_loss(f_swap[2:], f_real[2:])
                    total = total + w.swap_content * loss_sc
                    stats["swap_content"] = loss_sc
            if w.rec_recolour > 0:  # G(C of the recoloured photo, S of the photo) -> the photo: colour lives in S
                c_rc = self.net.encode(channels_last(recolour(real, self.aug_gen))).content
                loss_rrc = L.reconstruction_loss(self.net.decode(c_rc, codes.style).float(), real)
                total = total + w.rec_recolour * loss_rrc
                stats["rec_recolour"] = loss_rrc
            graded = None  # the photos' random colour grades, drawn once per step for --swap-graded / --ca-graded
            if w.swap_graded > 0 or (tcp and w.ca_graded > 0):
                graded = grade(real, self.aug_gen, self.grade_ranges)
            if w.swap_graded > 0:  # G(C of the photo, S of its graded mirror image) -> the graded photo
                s_gr = self.net.H_s(self.net.E(channels_last(graded.flip(-1))))  # mirrored: S holds the look
                loss_sg = L.reconstruction_loss(self.net.decode(codes.content, s_gr).float(), graded.float())
                total = total + w.swap_graded * loss_sg
                stats["swap_graded"] = loss_sg
            if w.swap_graded_cross > 0:  # B's grade carried to A: A + G(C_A, S(grade(B))) - G(C_A, S_B) -> grade(A)
                state = self.aug_gen.get_state()
                graded_b = grade(real_b, self.aug_gen, self.grade_ranges)
                self.aug_gen.set_state(state)
                graded_a = grade(real, self.aug_gen, self.grade_ranges)  # the same draws: one grade per pair
                moved = self.net.decode(codes.content, self.net.H_s(self.net.E(channels_last(graded_b))))
                base = swap if c_swap is codes.content else self.net.decode(codes.content, s_swap)  # G(C_A, S_B)
                loss_sgx = L.reconstruction_loss((real + moved - base).float(), graded_a.float())
                total = total + w.swap_graded_cross * loss_sgx
                stats["swap_graded_cross"] = loss_sgx
            if w.colour_stats > 0:  # the swap's pixel colour statistics -> its style reference's (B)
                loss_cs = L.colour_stats_loss(swap, real_b)
                total = total + w.colour_stats * loss_cs
                stats["colour_stats"] = loss_cs
            if w.swap_smooth > 0:  # the swap's colour change smooth where its content photo (A) is smooth
                loss_sm = L.change_smoothness_loss(swap, real)
                total = total + w.swap_smooth * loss_sm
                stats["swap_smooth"] = loss_sm
            if tcp:
                e_live = self.net.E(swap)  # E(I_g)
                # E of the detached swap: L_CA's and/or L_CC's content term stop at the swap (see TrainConfig)
                e_det = self.net.E(swap.detach()) if self.tcfg.ca_detach_swap or self.tcfg.cc_detach_content else None
                c_g = self.net.H_c(e_det if self.tcfg.cc_detach_content else e_live)
                loss_cc = L.code_consistency_loss(
                    c_g.float(), c_swap.detach().float(), self.net.H_s(e_live).float(),
                    s_swap.detach().float(), w.cc_lambda)
                mask = torch.from_numpy(self._ca_masks(real)).to(real.device)  # M: [N, 1, H, W]
                e_g = e_det if self.tcfg.ca_detach_swap else e_live  # E(I_g) for Eq. 5
                i_h = self.net.region_edit(codes, e_g, mask)  # Eq. 5-6, as in the editor
                i_h32, swap32 = i_h.float(), swap.detach().float()  # L_CA's (and --ca-border's) operands
                loss_ca = L.content_alignment_loss(i_h32, swap32, real, mask)  # Eq. 7
                total = total + w.code_consistency * loss_cc + w.content_alignment * loss_ca
                stats.update(cc=loss_cc, ca=loss_ca)
                if w.ca_content > 0:  # the region edit's normalised deep features -> its content photo's (A)
                    loss_cacn = L.feature_content_loss(self.features(channels_last(i_h))[2:], f_real[2:])
                    total = total + w.ca_content * loss_cacn
                    stats["ca_content"] = loss_cacn
                if w.ca_colour > 0:  # the region edit's colours inside M -> its style reference's (B)
                    loss_cac = L.region_colour_stats_loss(i_h, real_b, mask)
                    total = total + w.ca_colour * loss_cac
                    stats["ca_colour"] = loss_cac
                if w.ca_gan > 0:  # the region edit must pass the image critic as a real photo (D is not trained on it)
                    loss_cag = L.g_nonsaturating(self._D(i_h).float())
                    total = total + w.ca_gan * loss_cag
                    stats["ca_gan"] = loss_cag
                if w.ca_cooccur > 0:  # crops of the region edit, inside M, must pass D_co against the reference's
                    loss_caco = L.g_nonsaturating(self.disc.D_co(self._crops(i_h, within=mask),
                                                                 self._crops(real_b)).float())
                    total = total + w.ca_cooccur * loss_caco
                    stats["ca_cooccur"] = loss_caco
                if w.ca_border > 0:  # Eq. 7 on a band around the mask's border: against rims and halos
                    loss_cab = L.border_alignment_loss(i_h32, swap32, real, mask)
                    total = total + w.ca_border * loss_cab
                    stats["ca_border"] = loss_cab
                if w.ca_interior > 0:  # Eq. 7's swap term averaged over the mask's interior only
                    loss_cai = L.interior_alignment_loss(i_h32, swap32, mask)
                    total = total + w.ca_interior * loss_cai
                    stats["ca_interior"] = loss_cai
                if w.ca_graded > 0:  # Eq. 5-7 with the photo's grade as I_g: grade(A) inside M, A outside
                    i_hg = self.net.region_edit(codes, self.net.E(channels_last(graded)), mask)
                    loss_cagr = L.content_alignment_loss(i_hg.float(), graded.float(), real, mask)
                    total = total + w.ca_graded * loss_cagr
                    stats["ca_graded"] = loss_cagr
                if w.d_edit > 0:  # D's next step sees these region edits as fakes
                    self._edit_fakes = i_h.detach()
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self._allreduce_grads(self.net)
        self.opt_g.step()
        _set_requires_grad(self.disc, True)
        stats["g_total"] = total
        return stats

    def d_step(self, real: Tensor, r1: bool) -> dict[str, Tensor]:
        """Phase D (and D_r1 when `r1`): one backward pass and one Adam step of D and D_co."""
        w: LossWeights = self.tcfg.weights
        n = real.shape[0]
        perm = self._pair_perm(n).to(real.device)
        fakes, self._fakes = self._fakes, None
        edits, self._edit_fakes = self._edit_fakes, None  # region edits [N, 3, R, R] of a TCP step (--d-edit)
        with self.precision.autocast():
            if fakes is None:
                with torch.no_grad():
                    codes = self.net.encode(real)
                    fakes = self.net.decode(torch.cat([codes.content, codes.content]),
                                            torch.cat([codes.style, codes.style[perm]]))
            out = fakes.float()  # [rec; swap]: [2N, 3, R, R]
            swap = out[n:]
            logits = self._D(torch.cat([real, out])).float()  # real, rec, swap
            loss_real = L.d_logistic_real(logits[:n])
            loss_fake = (w.d_rec * L.d_logistic_fake(logits[n:2 * n])
                         + w.d_swap * L.d_logistic_fake(logits[2 * n:]))
            co_real = self.disc.D_co(self._crops(real), self._crops(real)).float()
            co_fake = self.disc.D_co(self._crops(swap), self._crops(real[perm])).float()
            loss_co = L.d_logistic_real(co_real) + L.d_logistic_fake(co_fake)
            total = w.d_real * loss_real + loss_fake + loss_co
            stats = {"d_real": loss_real, "d_fake": loss_fake, "d_co": loss_co}
            if edits is not None:  # set by phase G only when w.d_edit > 0
                loss_edit = L.d_logistic_fake(self._D(edits.float()).float())
                total = total + w.d_edit * loss_edit
                stats["d_edit"] = loss_edit
        if r1:
            # R1 in fp32, outside autocast: the gradient penalty is the numerically touchy part.
            every = self.tcfg.r1_every
            x = real.detach()
            q = self._crops(x).detach().requires_grad_(True)
            ref = self._crops(x).detach().requires_grad_(True)
            pen_co = L.r1_penalty(self.disc.D_co(q, ref), (q, ref))
            penalty = w.r1_gamma_cooccur / 2 * pen_co
            stats["r1_co"] = pen_co
            if self.disc.kind == "stylegan2":  # the projected D relies on spectral norm instead (no R1)
                x = x.requires_grad_(True)
                pen_d = L.r1_penalty(self.disc.D(x), x)
                penalty = penalty + w.r1_gamma / 2 * pen_d
                stats["r1"] = pen_d
            total = total + penalty * every
        self.opt_d.zero_grad(set_to_none=True)
        total.backward()
        self._allreduce_grads(self.disc)
        self.opt_d.step()
        return stats

    @torch.no_grad()
    def update_ema(self) -> None:
        beta = ema_beta_at(self.ema_start + self.step, self.tcfg.ema_beta)
        for pe, p in zip(self.ema.parameters(), self.net.parameters()):
            pe.lerp_(p, 1 - beta)

    def train_step(self, real: Tensor) -> dict[str, float]:
        """One iteration: the phases due at this step (G, then D), then the EMA; the step's losses."""
        real = channels_last(real.to(self.device, non_blocking=True))
        due = phases_due(self.phases, self.step)
        tensors: dict[str, Tensor] = {}
        if "G" in due:
            tensors.update(self.g_step(real, tcp="G_tcp" in due))
        if "D" in due:
            tensors.update(self.d_step(real, r1="D_r1" in due))
        # one device sync for all the statistics of the step
        values = torch.stack([v.detach().float().reshape(()) for v in tensors.values()]).tolist()
        stats = dict(zip(tensors, values))
        bad = [k for k, v in stats.items() if not math.isfinite(v)]
        if bad:
            raise TrainingDiverged(
                f"training diverged at step {self.step}: {', '.join(bad)} became NaN/inf. Resume from the last "
                "checkpoint with a lower --lr (e.g. half), or check the data.")
        self.update_ema()
        self.step += 1
        return stats

    # state (safetensors only) -----------------------------------------------------------------
    def state_tensors(self) -> tuple[dict[str, Tensor], dict[str, str]]:
        t: dict[str, Tensor] = {}
        for prefix, m in self._modules_by_prefix():
            for k, v in m.state_dict().items():
                t[f"{prefix}/{k}"] = v
        groups = {}
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            sd = opt.state_dict()
            for idx, st in sd["state"].items():
                for k, v in st.items():
                    t[f"{name}/{idx}/{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
            groups[name] = sd["param_groups"]
        t["rng/torch"] = torch.get_rng_state()
        t["rng/crops"] = self.crop_gen.get_state()
        t["rng/augment"] = self.aug_gen.get_state()
        meta = {
            "format": STATE_FORMAT, "format_version": "1", "step": str(self.step),
            "model_config": self.mcfg.to_json(), "train_config": self.tcfg.to_json(),
            "param_groups": json.dumps(groups), "rng_masks": json.dumps(self.mask_rng.bit_generator.state),
            "ema_start": str(self.ema_start),
        }
        return t, meta

    def _modules_by_prefix(self):
        return zip(STATE_MODULES, (self.net, self.ema, self.disc))

    def _load_modules(self, t: dict[str, Tensor]) -> None:
        """E/H/G, the EMA and the discriminators from a training state's tensors."""
        for prefix, m in self._modules_by_prefix():
            sd = {k[len(prefix) + 1:]: v for k, v in t.items() if k.startswith(prefix + "/")}
            try:
                m.load_state_dict(sd)
            except RuntimeError as e:
                raise UsageError(f"the training state does not fit this run's {prefix} "
                                 f"(another preset or --discriminator?): {str(e).splitlines()[0]}") from None

    def load_state(self, t: dict[str, Tensor], meta: dict[str, str]) -> None:
        if "param_groups" not in meta:
            raise UsageError("this training state is a stage hand-off (networks and discriminators only): "
                             "start a new run from it with --init instead of resuming")
        self._load_modules(t)
        groups = json.loads(meta["param_groups"])
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            state: dict[int, dict] = {}
            for k, v in t.items():
                if k.startswith(name + "/"):
                    _, idx, key = k.split("/", 2)
                    state.setdefault(int(idx), {})[key] = v
            opt.load_state_dict({"state": state, "param_groups": groups[name]})
        torch.set_rng_state(t["rng/torch"])
        self.crop_gen.set_state(t["rng/crops"])
        if "rng/augment" in t:
            self.aug_gen.set_state(t["rng/augment"])
        self.mask_rng.bit_generator.state = json.loads(meta["rng_masks"])
        self.step = int(meta["step"])
        self.ema_start = int(meta.get("ema_start", 0))

    def init_from_state(self, t: dict[str, Tensor], meta: dict[str, str]) -> None:
        """Fine-tune from a training checkpoint: E/H/G, the EMA and the discriminators; fresh
        optimizers and step 0, since the new run's losses may differ from the saved run's."""
        saved, mine = json.loads(meta["model_config"]), json.loads(self.mcfg.to_json())
        for c in (saved, mine):
            c.pop("edit_style", None)  # how the region edit uses the networks, not their shapes (--edit-style)
        if saved != mine:
            raise UsageError("--init training state has a different model config than the chosen preset")
        self._load_modules(t)
        self.ema_start = ema_age(meta)

    def init_from(self, weights: Path) -> None:
        """Fine-tune: start E/H/G (and the EMA) from an exported model; fresh discriminators."""
        net = load_net(weights, "cpu")
        if net.config != self.mcfg:
            raise UsageError("--init weights have a different model config than the chosen preset")
        self.net.load_state_dict(net.state_dict())
        self.ema.load_state_dict(net.state_dict())
        self.ema_start = ema_age(read_metadata(weights))
