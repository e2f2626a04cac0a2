"""The trainer: `tcp-editor --train DATA_DIR ... --out RUN_DIR` / `python -m tcp_core.train`.

Phases per iteration (METHOD section 2; SwapAE + the TCP losses):
  G step    L_rec (Eq. 1) + non-saturating D on reconstruction (x0.5) and swap (x1) + D_co (Eq. 2);
            every K iterations also L_CC (Eq. 3) and L_CA (Eq. 7) on the same swap.
  D step    softplus logistic loss for D (real x1, rec x0.5, swap x0.5) and D_co
            (real pairs: two crop sets of one image; fake: crops of the swap vs crops of its style source).
  R1        every 16 D steps (lazy regularisation), gamma 10 for D and 1 for D_co.
Pairs come from the batch: the first half takes the second half's style and vice versa.

Data-parallel across processes with torch.distributed (gloo on CPU, NCCL on GPU): every rank
computes its own pairs, gradients are all-reduced in one flat buffer per optimizer step (DDP's
reducer does not support the double backward of R1 and the several backward passes per step), and
only rank 0 writes files and logs. Launch with `torchrun --nproc-per-node N -m tcp_core.train ...`.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

from tcp_core.base.config import DISCRIMINATORS, LossWeights, ModelConfig, TrainConfig, model_preset
from tcp_core.base.errors import UsageError, UserError
from tcp_core.data.stream import DEFAULT_CACHE_MB, BatchFeeder, load_photos, make_batch  # noqa: F401 (importers)
from tcp_core.io.imageio import atomic_write
from tcp_core.networks.checkpoint import (
    CheckpointError,
    config_from_metadata,
    load_net,
    load_tensors,
    save_model,
    save_tensors,
)
from tcp_core.networks.compositing import composite_features
from tcp_core.networks.cooccur import random_crops
from tcp_core.networks.device import pick_device
from tcp_core.networks.model import Discriminators, TCPNet
from tcp_core.networks.precision import PRECISION_CHOICES, Precision, channels_last
from tcp_core.training import losses as L
from tcp_core.training.diffaugment import augment_crops, diff_augment, parse_policy
from tcp_core.training.masks import free_form_masks

log = logging.getLogger("tcp_core.training.train")


class TrainingDiverged(UserError, RuntimeError):
    pass


# ----------------------------------------------------------------------------------------------
# the trainer
# ----------------------------------------------------------------------------------------------


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def _set_requires_grad(module: torch.nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


class Trainer:
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
        if tcfg.discriminator == "projected" or w.perceptual > 0 or w.style_stats > 0 or w.swap_content > 0:
            from tcp_core.networks.efficientnet import FeaturePyramid

            self.features = channels_last(FeaturePyramid().to(device))
        self.aug = parse_policy(tcfg.diffaugment)
        self.aug_co = parse_policy(tcfg.diffaugment_cooccur)
        r = tcfg.r1_every / (tcfg.r1_every + 1)  # lazy regularisation correction
        self.opt_g = torch.optim.Adam(self.net.parameters(), lr=tcfg.lr, betas=tcfg.betas)
        d_lr = tcfg.lr if tcfg.d_lr is None else tcfg.d_lr
        self.opt_d = torch.optim.Adam(
            self.disc.parameters(), lr=d_lr * r, betas=(tcfg.betas[0] ** r, tcfg.betas[1] ** r))
        self.step = 0
        self.mask_rng = np.random.default_rng([tcfg.seed, self.dist.rank, 12345])
        self.crop_gen = torch.Generator(device="cpu")
        self.crop_gen.manual_seed(tcfg.seed * 1000 + self.dist.rank)
        self.aug_gen = torch.Generator(device="cpu")
        self.aug_gen.manual_seed(tcfg.seed * 1000 + self.dist.rank + 777)
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

    # the phases -------------------------------------------------------------------------------
    def _crops(self, images: Tensor) -> Tensor:
        c = self.mcfg
        crops = random_crops(images, c.dco_num_crops, c.dco_crop_size, c.dco_min_scale, c.dco_max_scale,
                             generator=self.crop_gen)
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

    def g_step(self, real: Tensor, tcp: bool) -> dict[str, Tensor]:
        w: LossWeights = self.tcfg.weights
        n = real.shape[0]
        perm = self._pair_perm(n).to(real.device)
        _set_requires_grad(self.disc, False)
        stats: dict[str, Tensor] = {}
        with self.precision.autocast():
            codes = self.net.encode(real)  # e: [N, C_e, h, w]; C: [N, C_c, h, w]; S: [N, D]
            s_swap = codes.style[perm]
            out = self.net.decode(torch.cat([codes.content, codes.content]), torch.cat([codes.style, s_swap]))
            rec, swap = out[:n], out[n:]  # I_{A->A} and I_{A->B} = G(C_A, S_B)
            logits = self._D(out)
            loss_rec = L.reconstruction_loss(rec.float(), real)
            loss_gan_rec = L.g_nonsaturating(logits[:n].float())
            loss_gan_swap = L.g_nonsaturating(logits[n:].float())
            loss_co = L.g_nonsaturating(self.disc.D_co(self._crops(swap), self._crops(real[perm])).float())
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
            if tcp:
                codes_g = self.net.encode(swap)  # E(I_g), H_c, H_s
                loss_cc = L.code_consistency_loss(
                    codes_g.content.float(), codes.content.detach().float(), codes_g.style.float(),
                    s_swap.detach().float(), w.cc_lambda)
                mask = torch.from_numpy(free_form_masks(n, real.shape[-1], self.mask_rng)).to(real.device)
                e_hat = composite_features(codes_g.e, codes.e, mask)  # Eq. 5
                h = self.net.heads(e_hat)  # Eq. 6
                i_h = self.net.decode(h.content, h.style)
                loss_ca = L.content_alignment_loss(i_h.float(), swap.detach().float(), real, mask)  # Eq. 7
                total = total + w.code_consistency * loss_cc + w.content_alignment * loss_ca
                stats.update(cc=loss_cc, ca=loss_ca)
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self._allreduce_grads(self.net)
        self.opt_g.step()
        _set_requires_grad(self.disc, True)
        stats["g_total"] = total
        return stats

    def d_step(self, real: Tensor, r1: bool) -> dict[str, Tensor]:
        w: LossWeights = self.tcfg.weights
        n = real.shape[0]
        perm = self._pair_perm(n).to(real.device)
        with self.precision.autocast():
            with torch.no_grad():
                codes = self.net.encode(real)
                out = self.net.decode(torch.cat([codes.content, codes.content]),
                                      torch.cat([codes.style, codes.style[perm]]))
            out = out.float()
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
        beta = min(self.tcfg.ema_beta, (1 + self.step) / (10 + self.step))
        for pe, p in zip(self.ema.parameters(), self.net.parameters()):
            pe.lerp_(p, 1 - beta)

    def train_step(self, real: Tensor) -> dict[str, float]:
        real = channels_last(real.to(self.device, non_blocking=True))
        tcp = self.tcfg.tcp_losses and self.step % self.tcfg.tcp_every == 0
        tensors = self.g_step(real, tcp)
        tensors.update(self.d_step(real, r1=self.step % self.tcfg.r1_every == 0))
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
        for prefix, m in (("net", self.net), ("ema", self.ema), ("disc", self.disc)):
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
            "format": "tcp-editor-train-state", "format_version": "1", "step": str(self.step),
            "model_config": self.mcfg.to_json(), "train_config": self.tcfg.to_json(),
            "param_groups": json.dumps(groups), "rng_masks": json.dumps(self.mask_rng.bit_generator.state),
        }
        return t, meta

    def load_state(self, t: dict[str, Tensor], meta: dict[str, str]) -> None:
        for prefix, m in (("net", self.net), ("ema", self.ema), ("disc", self.disc)):
            sd = {k[len(prefix) + 1:]: v for k, v in t.items() if k.startswith(prefix + "/")}
            m.load_state_dict(sd)
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

    def init_from(self, weights: Path) -> None:
        """Fine-tune: start E/H/G (and the EMA) from an exported model; fresh discriminators."""
        net = load_net(weights, "cpu")
        if net.config != self.mcfg:
            raise UsageError("--init weights have a different model config than the chosen preset")
        self.net.load_state_dict(net.state_dict())
        self.ema.load_state_dict(net.state_dict())


# ----------------------------------------------------------------------------------------------
# run directory: checkpoints, samples, logs
# ----------------------------------------------------------------------------------------------

STATE_RE = re.compile(r"^state-(\d{8})\.safetensors$")


def list_states(run_dir: Path) -> list[Path]:
    d = run_dir / "checkpoints"
    if not d.is_dir():
        return []
    return sorted((p for p in d.iterdir() if STATE_RE.match(p.name)), key=lambda p: p.name)


def load_latest_state(run_dir: Path) -> tuple[dict, dict, Path] | None:
    """The newest complete checkpoint; a damaged newest one falls back to the one before."""
    for p in reversed(list_states(run_dir)):
        try:
            t, meta = load_tensors(p)
            if meta.get("format") != "tcp-editor-train-state":
                raise CheckpointError(f"{p} is not a training state")
            for v in t.values():
                if v.is_floating_point() and not torch.isfinite(v).all():
                    raise CheckpointError(f"{p} contains NaN/inf")
            return t, meta, p
        except CheckpointError as e:
            log.warning("skipping damaged checkpoint %s: %s", p.name, e)
    return None


def save_sample_sheet(path: Path, ema: TCPNet, fixed: Tensor, mask: Tensor) -> None:
    """Rows: input, reconstruction, global swap (style of the next image), region edit (fixed mask)."""
    with torch.no_grad():
        g = torch.Generator(device=fixed.device)
        g.manual_seed(0)
        codes = ema.encode(fixed)
        perm = torch.roll(torch.arange(fixed.shape[0]), -1)
        rec = ema.decode(codes.content, codes.style, g)
        swap = ema.decode(codes.content, codes.style[perm], g)
        e_g = ema.E(swap)
        edit = ema.region_edit(codes, e_g, mask.expand(fixed.shape[0], -1, -1, -1), g)
        style_row = fixed[perm]
    rows = [fixed, style_row, rec, swap, edit, mask.expand_as(fixed) * 2 - 1]
    grid = torch.cat([torch.cat(list(r.clamp(-1, 1)), dim=2) for r in rows], dim=1)  # [3, rows*R, n*R]
    img = ((grid + 1) * 127.5 + 0.5).to(torch.uint8).permute(1, 2, 0).cpu().numpy()

    ok, buf = cv2.imencode(".png", img[:, :, ::-1])
    if not ok:
        raise OSError("PNG encoding failed")
    atomic_write(path, lambda f: f.write(buf.tobytes()))


LOG_FIELDS = ["step", "time_s", "img_per_s", "rec", "g_rec", "g_swap", "g_co", "cc", "ca", "g_total",
              "d_real", "d_fake", "d_co", "r1", "r1_co", "perc", "style_stats", "swap_content", "precision"]


def _csv_header(path: Path) -> list[str] | None:
    with open(path, newline="") as f:
        return next(csv.reader(f), None)


def _fmt_eta(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def train(
    data_dirs: list[str | Path], out: str | Path, tcfg: TrainConfig, *, mcfg: ModelConfig | None = None,
    device: str = "auto", init: str | None = None, resume: bool = False, max_seconds: float | None = None,
    quiet: bool = False, precision: str = "auto", photo_cache_mb: float = DEFAULT_CACHE_MB,
) -> Path:
    """Run (or resume) a training run; returns the path of the exported EMA model."""
    run_dir = Path(out)
    dist_info = DistInfo()
    if dist.is_available() and dist.is_initialized():
        dist_info = DistInfo(dist.get_rank(), dist.get_world_size())
    dev = pick_device(device)
    if dev.type == "cuda" and dist_info.world > 1:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(dev)

    resumed = load_latest_state(run_dir) if resume else None
    if resumed is not None:
        t, meta, p = resumed
        mcfg = config_from_metadata({"format": "tcp-editor", "format_version": "1",
                                     "model_config": meta["model_config"]}, p)
        saved_tcfg = TrainConfig.from_json(meta["train_config"])
        tcfg = replace(saved_tcfg, steps=tcfg.steps)  # the run's settings, with the (possibly longer) step count
    elif resume and list_states(run_dir):
        raise CheckpointError(f"no usable checkpoint in {run_dir / 'checkpoints'}; all are damaged")
    if init and resumed is None:
        from tcp_core.io.hub import resolve_weights

        init_path = resolve_weights(init)
        mcfg = load_net(init_path).config
    mcfg = mcfg or model_preset(tcfg.preset)

    # The run folder must be writable before a single photo is decoded (that can take minutes), and
    # no run file may land on an input (the --init model would be replaced by the export).
    created = [p for p in (run_dir, *run_dir.parents) if not p.exists()]
    if init and resumed is None:
        try:
            if os.path.samefile(init_path, run_dir / "model-ema.safetensors"):
                raise UsageError(f"--init {init_path} is the model this run exports (--out {run_dir}); the run would "
                                 "replace it. Copy it elsewhere first, or choose another --out")
        except OSError:
            pass
    for d in data_dirs:
        try:
            if run_dir.exists() and os.path.samefile(d, run_dir):
                raise UsageError(f"--out {run_dir} is a data folder; its sample sheets would become training "
                                 "photos. Choose another folder for the run")
        except OSError:
            pass
    if dist_info.main:
        if run_dir.exists() and not run_dir.is_dir():
            raise UsageError(f"--out {run_dir} is a file, not a folder; choose a folder for the run")
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=run_dir)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise UsageError(f"cannot write to the run folder --out {run_dir}: {e.strerror or e}") from None
    quiet_ds = _DropRecords()  # the list below is printed once, here (the store logs it too)
    ds_log = logging.getLogger("tcp_core.data.stream")
    ds_log.addFilter(quiet_ds)
    try:
        say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if dist_info.main and not quiet else None
        photos, skipped = load_photos(data_dirs, mcfg.resolution, cache_mb=photo_cache_mb, progress=say)
        skipped = list(skipped)
    except BaseException:
        for p in created:  # leave no empty run folder behind when there is nothing to train on
            try:
                p.rmdir()
            except OSError:
                break
        raise
    finally:
        ds_log.removeFilter(quiet_ds)
    if dist_info.main and skipped and not quiet:
        print(f"skipped {len(skipped)} unreadable file(s):", file=sys.stderr)
        for path, why in skipped:
            print(f"  {path}: {why}", file=sys.stderr)

    trainer = Trainer(mcfg, tcfg, dev, dist_info, precision=precision)
    if dist_info.main and not quiet:
        print(f"training on {dev.type} in {trainer.precision.describe()} precision, channels-last", file=sys.stderr)
    if resumed is not None:
        trainer.load_state(resumed[0], resumed[1])
        if dist_info.main and not quiet:
            print(f"resumed from {resumed[2].name} at step {trainer.step}", file=sys.stderr)
    elif init:
        trainer.init_from(init_path)

    if dist_info.main:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        for stale in (run_dir / "checkpoints").glob(".state-*.part"):  # left by a killed run
            stale.unlink(missing_ok=True)
        (run_dir / "samples").mkdir(exist_ok=True)
        if resumed is not None:  # rows logged after the checkpoint we resume from are logged again
            _truncate_log(run_dir / "log.csv", trainer.step)
        (run_dir / "config.json").write_text(json.dumps(
            {"model": json.loads(mcfg.to_json()), "train": json.loads(tcfg.to_json()),
             "data": [str(d) for d in data_dirs], "photos": len(photos), "skipped": len(skipped),
             "precision": trainer.precision.name, "device": dev.type}, indent=2))
    fixed = torch.stack([make_batch([photos[i]], tcfg.seed, 0, 0, 1, mcfg.resolution, (1.0, 1.0))[0]
                         for i in range(min(6, len(photos)))]).to(dev)
    if fixed.shape[0] < 2:
        fixed = torch.cat([fixed, fixed.flip(-1)])
    sheet_mask = torch.from_numpy(free_form_masks(1, mcfg.resolution, np.random.default_rng(7))).to(dev)

    log_path = run_dir / "log.csv"
    csv_file = None
    writer = None
    tb = _tensorboard(run_dir) if dist_info.main else None
    feeder = BatchFeeder(photos, tcfg.seed, dist_info.rank, trainer.step, tcfg.batch_size, mcfg.resolution,
                         tcfg.scale_jitter)
    export_path = run_dir / "model-ema.safetensors"
    t0 = time.perf_counter()
    start_step = trainer.step
    last_log_t, last_log_step = t0, trainer.step
    ips = 0.0
    try:
        while trainer.step < tcfg.steps:
            step = trainer.step
            stats = trainer.train_step(feeder.next(step))
            done = trainer.step
            if not dist_info.main:
                continue
            if done % tcfg.log_every == 0 or done == tcfg.steps:
                now = time.perf_counter()
                ips = (done - last_log_step) * tcfg.batch_size * dist_info.world / max(now - last_log_t, 1e-9)
                last_log_t, last_log_step = now, done
                row = {"step": done, "time_s": round(now - t0, 2), "img_per_s": round(ips, 3),
                       "precision": trainer.precision.name, **{
                    k: round(v, 5) for k, v in stats.items()}}
                if writer is None:
                    new = not log_path.exists()
                    fields = LOG_FIELDS if new else _csv_header(log_path) or LOG_FIELDS  # a resumed run keeps its columns
                    csv_file = open(log_path, "a", newline="")
                    writer = csv.DictWriter(csv_file, fieldnames=fields, extrasaction="ignore")
                    if new:
                        writer.writeheader()
                writer.writerow(row)
                csv_file.flush()
                if tb is not None:
                    for k, v in stats.items():
                        tb.add_scalar(f"loss/{k}", v, done)
                    tb.add_scalar("perf/img_per_s", ips, done)
                if not quiet:
                    eta = (tcfg.steps - done) * tcfg.batch_size * dist_info.world / max(ips, 1e-9)
                    msg = (f"step {done}/{tcfg.steps} | {ips:.2f} img/s | ETA {_fmt_eta(eta)} | rec {stats['rec']:.3f}"
                           f" g_swap {stats['g_swap']:.3f} g_co {stats['g_co']:.3f} d {stats['d_real']:.3f}"
                           + (f" cc {stats['cc']:.3f} ca {stats['ca']:.3f}" if "cc" in stats else ""))
                    print(msg, file=sys.stderr, flush=True)
            if done % tcfg.sample_every == 0 or done == tcfg.steps:
                save_sample_sheet(run_dir / "samples" / f"sample-{done:08d}.png", trainer.ema, fixed, sheet_mask)
            timed_out = max_seconds is not None and time.perf_counter() - t0 > max_seconds
            if done % tcfg.checkpoint_every == 0 or done == tcfg.steps or timed_out:
                _checkpoint(trainer, run_dir, export_path, tcfg.keep_checkpoints)
            if timed_out:
                print(f"stopping at step {done}: --max-minutes reached", file=sys.stderr)
                break
    finally:
        feeder.close()
        if csv_file:
            csv_file.close()
        if tb is not None:
            tb.close()
    if dist_info.main and trainer.step == start_step and not export_path.exists():
        save_model(export_path, trainer.ema, extra={"step": str(trainer.step)})
    return export_path


class _DropRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def _truncate_log(log_path: Path, step: int) -> None:
    """Drop the log.csv rows of steps after `step` (a killed run logged them past its last checkpoint)."""
    try:
        lines = log_path.read_text().splitlines(keepends=True)
    except (FileNotFoundError, UnicodeDecodeError):
        return
    keep = lines[:1]
    for ln in lines[1:]:
        head = ln.split(",", 1)[0]
        if head.isdigit() and int(head) > step:
            break  # rows are in step order: everything from here on is redone
        keep.append(ln)
    if len(keep) > 1 and not keep[-1].endswith("\n"):
        keep.pop()  # a row cut off by the kill
    if len(keep) < len(lines):
        data = "".join(keep).encode()
        atomic_write(log_path, lambda f: f.write(data))


def _tensorboard(run_dir: Path):
    """A TensorBoard writer when the tensorboard package is installed (optional), else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


def _checkpoint(trainer: Trainer, run_dir: Path, export_path: Path, keep: int) -> None:
    t, meta = trainer.state_tensors()
    save_tensors(run_dir / "checkpoints" / f"state-{trainer.step:08d}.safetensors", t, meta)
    for old in list_states(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    save_model(export_path, trainer.ema, extra={"step": str(trainer.step)})


# ----------------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="tcp-editor --train",
        description="Train (or fine-tune) a TCP model on folders of photos. Writes checkpoints, sample sheets, "
                    "a CSV log and the model the editor loads (RUN_DIR/model-ema.safetensors: the weights' moving "
                    "average, EMA) to --out.")
    p.add_argument("data", nargs="+", help="folders of photos (searched recursively; several folders = one data set)")
    p.add_argument("--out", required=True, help="run folder for checkpoints, samples, log and the exported model")
    p.add_argument("--preset", default=d.preset,
                   help="model size: tiny (tests), demo128 (128 px, trains on a CPU), paper256 (256 px, a GPU "
                        "job) (default %(default)s)")
    p.add_argument("--steps", type=int, default=d.steps, help="total training iterations (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="photos per training step (even; per GPU process; default %(default)s)")
    p.add_argument("--lr", type=float, default=d.lr,
                   help="learning rate: step size of the optimiser (Adam; default %(default)s)")
    p.add_argument("--d-lr", type=float, default=None,
                   help="learning rate of the critics (default: --lr; 0.0002 suits --discriminator projected)")
    p.add_argument("--tcp-every", type=int, default=d.tcp_every,
                   help="how often (every K steps) the training step also teaches region edits to keep the "
                        "photo's structure and leave the rest of the photo alone; lower is slower per step "
                        "(the TCP losses L_CC and L_CA every K iterations; paper K = 16; default %(default)s)")
    p.add_argument("--cc-lambda", type=float, default=d.weights.cc_lambda,
                   help="how strongly an edit must carry the reference's style, relative to keeping the "
                        "photo's content; higher moves the style more (lambda of L_CC, Eq. 3; "
                        "default %(default)s)")
    p.add_argument("--no-tcp-losses", action="store_true",
                   help="train the plain Swapping Autoencoder instead: no region-edit training, for "
                        "comparisons (the paper's ablation without L_CC and L_CA)")
    p.add_argument("--init", metavar="WEIGHTS", help="fine-tune from a model (path or hf://OWNER/REPO/FILE.safetensors)")
    p.add_argument("--resume", action="store_true", help="continue from the newest complete checkpoint in --out")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default %(default)s)")
    p.add_argument("--seed", type=int, default=d.seed, help="random seed (default %(default)s)")
    p.add_argument("--sample-every", type=int, default=d.sample_every, help="sample sheet interval (steps)")
    p.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every, help="checkpoint interval (steps)")
    p.add_argument("--log-every", type=int, default=d.log_every, help="log interval (steps)")
    p.add_argument("--max-minutes", type=float, help="stop (with a checkpoint) after this much wall time")
    p.add_argument("--threads", type=int, help="CPU threads for torch (default: all cores)")
    p.add_argument("--photo-cache-mb", type=float, default=DEFAULT_CACHE_MB,
                   help="memory for decoded training photos; photos are read from disk as batches need them "
                        "and the least recently used are dropped beyond this (default %(default)s)")
    p.add_argument("--precision", default="auto", choices=PRECISION_CHOICES,
                   help="auto: bf16 where the CPU/GPU runs it natively (AVX512_BF16/AMX, CUDA bf16), else fp32 "
                        "(default %(default)s)")
    p.add_argument("--discriminator", default=d.discriminator, choices=DISCRIMINATORS,
                   help="the image critic: stylegan2 (on pixels, as the paper) or projected (small heads on frozen "
                        "ImageNet EfficientNet-Lite0 features; learns from few photos) (default %(default)s)")
    p.add_argument("--perceptual", type=float, default=d.weights.perceptual,
                   help="weight of a feature-space reconstruction loss on frozen EfficientNet-Lite0 features next "
                        "to the pixel L1; sharper reconstructions (default %(default)s = off)")
    p.add_argument("--style-stats", type=float, default=d.weights.style_stats,
                   help="weight of a loss that pulls a style swap's frozen EfficientNet-Lite0 feature statistics "
                        "(channel means and deviations, 4 scales) to its style reference's; edits take more of "
                        "the reference's look (default %(default)s = off)")
    p.add_argument("--swap-content", type=float, default=d.weights.swap_content,
                   help="weight of a loss that keeps a style swap's deep features (normalised, so the style may "
                        "change) close to its content photo's; protects structure when --style-stats is on "
                        "(default %(default)s = off)")
    p.add_argument("--diffaugment", default=d.diffaugment,
                   help="DiffAugment policy for the image critic's inputs, e.g. color,translation,cutout "
                        "(default: none)")
    p.add_argument("--diffaugment-cooccur", default=d.diffaugment_cooccur,
                   help="DiffAugment policy for the patch critic's crops, e.g. translation,cutout (default: none)")
    return p


def _maybe_reexec_with_malloc_tuning(argv: list[str]) -> None:
    """glibc's default malloc returns big tensors to the OS and page-faults them back every step
    (METHOD section 6: more than half of the CPU time); keep them mapped instead."""
    if os.environ.get("MALLOC_MMAP_MAX_") is not None or os.environ.get("TCP_NO_REEXEC"):
        return
    if "RANK" in os.environ or not sys.platform.startswith("linux"):
        return
    env = dict(os.environ, MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_="68719476736")
    os.execve(sys.executable, [sys.executable, "-m", "tcp_core.train", *argv], env)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    _maybe_reexec_with_malloc_tuning(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    weights = replace(LossWeights(), cc_lambda=args.cc_lambda, perceptual=args.perceptual,
                      style_stats=args.style_stats, swap_content=args.swap_content)
    try:
        tcfg = TrainConfig(
            preset=args.preset, batch_size=args.batch_size, steps=args.steps, lr=args.lr, d_lr=args.d_lr,
            tcp_every=args.tcp_every,
            tcp_losses=not args.no_tcp_losses, seed=args.seed, sample_every=args.sample_every,
            checkpoint_every=args.checkpoint_every, log_every=args.log_every, weights=weights,
            discriminator=args.discriminator, diffaugment=args.diffaugment,
            diffaugment_cooccur=args.diffaugment_cooccur)
        parse_policy(tcfg.diffaugment)
        parse_policy(tcfg.diffaugment_cooccur)
        mcfg = None if (args.init or args.resume) else model_preset(args.preset)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if "RANK" in os.environ and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and args.device != "cpu" else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank() if dist.is_initialized() else 0
    try:
        path = train(args.data, args.out, tcfg, mcfg=mcfg, device=args.device, init=args.init, resume=args.resume,
                     max_seconds=args.max_minutes * 60 if args.max_minutes else None, precision=args.precision,
                     photo_cache_mb=args.photo_cache_mb)
    except UserError as e:  # anything else is a bug: its traceback shows
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the run folder became unwritable or the disk filled up mid-run
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        print(f"error: cannot write the run files{where}: {e.strerror or e}", file=sys.stderr)
        return 2
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    if rank == 0:
        print(f"exported model: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
