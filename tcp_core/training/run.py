"""A training run and its folder (METHOD section 2 is the loop; this is everything around it).

`train(data_dirs, out, tcfg, ...)` checks the run folder before a photo is decoded, streams the
photos (`tcp_core.data.stream`), builds or resumes a `Trainer` and runs its iterations, writing

  RUN_DIR/config.json                  the model and training settings, the data, the device
  RUN_DIR/checkpoints/state-N.safetensors   the whole training state every `checkpoint_every`
                                       steps (the newest `keep_checkpoints`); `--resume` takes the
                                       newest complete one, a damaged one falls back to the one before
  RUN_DIR/model-ema.safetensors        the exported model (the EMA weights) the editor loads
  RUN_DIR/samples/sample-N.png         sample sheets: input, style, reconstruction, swap, region edit
  RUN_DIR/log.csv                      the mean losses over every `log_every` steps (and TensorBoard when installed)

Distributed runs: every rank trains, only rank 0 writes files and logs.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor

from tcp_core.base.config import ModelConfig, TrainConfig, model_preset
from tcp_core.base.errors import UsageError
from tcp_core.data.stream import DEFAULT_CACHE_MB, BatchFeeder, load_photos, make_batch
from tcp_core.io.imageio import atomic_write
from tcp_core.networks.checkpoint import (
    FORMAT,
    CheckpointError,
    config_from_metadata,
    load_net,
    load_tensors,
    read_metadata,
    save_model,
    save_tensors,
)
from tcp_core.networks.device import pick_device
from tcp_core.networks.model import TCPNet
from tcp_core.training.masks import free_form_masks
from tcp_core.training.trainer import STATE_FORMAT, STATE_MODULES, DistInfo, Trainer

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------------------------
# checkpoints
# ----------------------------------------------------------------------------------------------

STATE_RE = re.compile(r"^state-(\d{8})\.safetensors$")


def list_states(run_dir: Path) -> list[Path]:
    d = run_dir / "checkpoints"
    if not d.is_dir():
        return []
    return sorted((p for p in d.iterdir() if STATE_RE.match(p.name)), key=lambda p: p.name)


def _read_state(path: Path) -> tuple[dict, dict]:
    """A training state's tensors and metadata; CheckpointError if the file is not one or is damaged."""
    t, meta = load_tensors(path)
    if meta.get("format") != STATE_FORMAT:
        raise CheckpointError(f"{path} is not a training state")
    for v in t.values():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise CheckpointError(f"{path} contains NaN/inf")
    return t, meta


def state_model_config(meta: dict[str, str], path: Path) -> ModelConfig:
    """The model config a training state was saved with (checked like an exported model's)."""
    return config_from_metadata({"format": "tcp-editor", "format_version": "1",
                                 "model_config": meta["model_config"]}, path)


def load_latest_state(run_dir: Path) -> tuple[dict, dict, Path] | None:
    """The newest complete checkpoint; a damaged newest one falls back to the one before."""
    for p in reversed(list_states(run_dir)):
        try:
            return (*_read_state(p), p)
        except CheckpointError as e:
            log.warning("skipping damaged checkpoint %s: %s", p.name, e)
    return None


def read_init_state(path: Path) -> tuple[dict, dict] | None:
    """`--init` may name a training checkpoint (RUN_DIR/checkpoints/state-N.safetensors) instead of
    an exported model: the new run then starts from its networks, EMA and discriminators (with its
    own, possibly different, loss weights). None for an exported model (only its header is read)."""
    try:
        if read_metadata(path).get("format") != STATE_FORMAT:
            return None
    except CheckpointError:
        return None  # not ours at all: load_net gives the clear message
    return _read_state(path)


HANDOFF_PREFIXES = tuple(f"{m}/" for m in STATE_MODULES)  # what --init reads from a state


def write_handoff(state_path: Path, out_path: Path) -> dict[str, int]:
    """A stage hand-off: the networks, EMA and discriminators of a training state, in fp16.

    A full state (with Adam moments and RNG states, fp32) is about 70 MB at `fine128`; a committed
    stage keeps this file (about 15 MB) instead, so the next stage, on any machine, can
    `--init` from it and keep its trained discriminators rather than starting them from scratch
    (the optimizers start fresh either way with `--init`). It cannot `--resume` a run.
    Returns the tensor count and the bytes written."""
    t, meta = _read_state(Path(state_path))
    keep = {k: (v.half() if v.is_floating_point() else v) for k, v in t.items() if k.startswith(HANDOFF_PREFIXES)}
    if not any(k.startswith("disc/") for k in keep):
        raise CheckpointError(f"{state_path} holds no discriminator weights")
    out_meta = {k: meta[k] for k in ("format", "format_version", "step", "ema_start", "model_config", "train_config")
                if k in meta}
    out_meta["handoff"] = "1"
    save_tensors(out_path, keep, out_meta)
    return {"tensors": len(keep), "bytes": Path(out_path).stat().st_size}


def export_ema_model(state_path: Path, out_path: Path) -> int:
    """The editor's model (the EMA weights, as RUN_DIR/model-ema.safetensors) from a training state
    or a stage hand-off, for a stage whose run folder stayed on another machine. Returns the step."""
    t, meta = _read_state(Path(state_path))
    net = TCPNet(state_model_config(meta, Path(state_path)))
    ema = {k[len("ema/"):]: v.float() for k, v in t.items() if k.startswith("ema/")}
    if not ema:
        raise CheckpointError(f"{state_path} holds no EMA weights")
    net.load_state_dict(ema)
    step = int(meta.get("step", 0))
    save_model(out_path, net, extra={"step": str(step), "ema_start": meta.get("ema_start", "0")})
    return step


class Transformed(NamedTuple):
    old: dict[str, Tensor]  # the input file's tensors
    new: dict[str, Tensor]  # the output file's tensors
    prefixes: tuple[str, ...]  # the state-dict prefixes rewritten ("net/", "ema/"; "" for a model)
    cfg: ModelConfig  # the input's model config
    new_cfg: ModelConfig  # the output's


def transform_networks(src: Path, out: Path, fn) -> Transformed:
    """Rewrite the networks of a stage hand-off, a training state or an exported model into a new file
    (`scripts/widen_content.py`, `scripts/grow_trunk_branch.py`): `fn(state_dict, cfg) -> (state_dict,
    new_cfg)` is applied to each TCPNet state in the file (a state's `net/` and `ema/`, a model's
    whole file); a hand-off's discriminators are kept as they are and the metadata says the new config.
    Refuses to overwrite its input (UsageError) and files that are neither (CheckpointError)."""
    src, out = Path(src), Path(out)
    if out.resolve() == src.resolve():
        raise UsageError("the output must be a new file; the input is never overwritten")
    t, meta = load_tensors(src)
    if meta.get("format") == STATE_FORMAT:
        cfg = state_model_config(meta, src)
        prefixes: tuple[str, ...] = ("net/", "ema/")
    elif meta.get("format") == FORMAT:
        cfg = config_from_metadata(meta, src)
        prefixes = ("",)
    else:
        raise CheckpointError(f"{src} is neither a TCP Editor model nor a training state / hand-off")
    new_t = {k: v for k, v in t.items() if not k.startswith(prefixes)}  # a hand-off's discriminators
    new_cfg = cfg
    for p in prefixes:
        part = {k[len(p):]: v for k, v in t.items() if k.startswith(p)}
        changed, new_cfg = fn(part, cfg)
        new_t.update({p + k: v for k, v in changed.items()})
    save_tensors(out, new_t, dict(meta, model_config=new_cfg.to_json()))  # atomic
    return Transformed(t, new_t, prefixes, cfg, new_cfg)


def _checkpoint(trainer: Trainer, run_dir: Path, export_path: Path, keep: int) -> None:
    t, meta = trainer.state_tensors()
    save_tensors(run_dir / "checkpoints" / f"state-{trainer.step:08d}.safetensors", t, meta)
    for old in list_states(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    save_model(export_path, trainer.ema, extra={"step": str(trainer.step), "ema_start": str(trainer.ema_start)})


# ----------------------------------------------------------------------------------------------
# sample sheets and the log
# ----------------------------------------------------------------------------------------------


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


def sample_sheet_inputs(photos, seed: int, resolution: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """The sheets' fixed inputs: a square crop (the full short side) of each of the first 6 photos, one brush mask."""
    fixed = torch.stack([make_batch([photos[i]], seed, 0, 0, 1, resolution, (1.0, 1.0))[0]
                         for i in range(min(6, len(photos)))]).to(device)
    if fixed.shape[0] < 2:
        fixed = torch.cat([fixed, fixed.flip(-1)])
    mask = torch.from_numpy(free_form_masks(1, resolution, np.random.default_rng(7))).to(device)
    return fixed, mask


LOG_FIELDS = ["step", "time_s", "img_per_s", "rec", "g_rec", "g_swap", "g_co", "cc", "ca", "g_total",
              "d_real", "d_fake", "d_co", "r1", "r1_co", "perc", "style_stats", "swap_content", "colour_stats",
              "ca_content", "ca_colour", "ca_gan", "ca_cooccur", "ca_border", "ca_interior", "d_edit", "rec_recolour",
              "swap_smooth", "swap_graded", "ca_graded", "swap_graded_cross", "precision"]


def _csv_header(path: Path) -> list[str] | None:
    with open(path, newline="") as f:
        return next(csv.reader(f), None)


def _fmt_eta(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class RunLog:
    """The losses since the last row: a row of RUN_DIR/log.csv every `log_every` steps (a resumed run
    keeps its columns), TensorBoard scalars when tensorboard is installed, and (unless quiet) a
    progress line on stderr. `add` takes every step's losses; a row holds the mean of each loss over
    the steps that computed it since the previous row, so the periodic phases (L_CC / L_CA every K
    steps, R1 every 16) are logged too, whichever step a row falls on."""

    def __init__(self, run_dir: Path, steps: int, images_per_step: int, precision: str, start_step: int,
                 quiet: bool = False) -> None:
        self.path = run_dir / "log.csv"
        self.steps, self.images_per_step, self.precision, self.quiet = steps, images_per_step, precision, quiet
        self.tb = _tensorboard(run_dir)
        self.csv_file = None
        self.writer: csv.DictWriter | None = None
        self.t0 = self.last_t = time.perf_counter()
        self.last_step = start_step
        self._sums: dict[str, float] = {}
        self._counts: dict[str, int] = {}

    def add(self, stats: dict[str, float]) -> None:
        """One step's losses (name -> value; a phase that did not run leaves its losses out)."""
        for k, v in stats.items():
            self._sums[k] = self._sums.get(k, 0.0) + float(v)
            self._counts[k] = self._counts.get(k, 0) + 1

    def write(self, done: int) -> None:
        """A row for step `done`: the mean losses of the steps `add`ed since the last row."""
        stats = {k: self._sums[k] / self._counts[k] for k in self._sums}
        self._sums, self._counts = {}, {}
        if not stats:
            return
        now = time.perf_counter()
        ips = (done - self.last_step) * self.images_per_step / max(now - self.last_t, 1e-9)
        self.last_t, self.last_step = now, done
        row = {"step": done, "time_s": round(now - self.t0, 2), "img_per_s": round(ips, 3),
               "precision": self.precision, **{k: round(v, 5) for k, v in stats.items()}}
        if self.writer is None:
            new = not self.path.exists()
            fields = LOG_FIELDS if new else _csv_header(self.path) or LOG_FIELDS
            self.csv_file = open(self.path, "a", newline="")
            self.writer = csv.DictWriter(self.csv_file, fieldnames=fields, extrasaction="ignore")
            if new:
                self.writer.writeheader()
        self.writer.writerow(row)
        self.csv_file.flush()
        if self.tb is not None:
            for k, v in stats.items():
                self.tb.add_scalar(f"loss/{k}", v, done)
            self.tb.add_scalar("perf/img_per_s", ips, done)
        if not self.quiet:
            eta = (self.steps - done) * self.images_per_step / max(ips, 1e-9)
            msg = (f"step {done}/{self.steps} | {ips:.2f} img/s | ETA {_fmt_eta(eta)} | rec {stats['rec']:.3f}"
                   f" g_swap {stats['g_swap']:.3f} g_co {stats['g_co']:.3f} d {stats['d_real']:.3f}"
                   + (f" cc {stats['cc']:.3f} ca {stats['ca']:.3f}" if "cc" in stats else ""))
            print(msg, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.csv_file:
            self.csv_file.close()
        if self.tb is not None:
            self.tb.close()


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


# ----------------------------------------------------------------------------------------------
# the run
# ----------------------------------------------------------------------------------------------


def _check_run_folder(run_dir: Path, data_dirs: list[str | Path], init_path: Path | None, create: bool) -> None:
    """The run folder must be writable before a single photo is decoded (that can take minutes), and
    no run file may land on an input (the --init model would be replaced by the export)."""
    if init_path is not None:
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
    if create:
        if run_dir.exists() and not run_dir.is_dir():
            raise UsageError(f"--out {run_dir} is a file, not a folder; choose a folder for the run")
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=run_dir)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise UsageError(f"cannot write to the run folder --out {run_dir}: {e.strerror or e}") from None


def train(
    data_dirs: list[str | Path], out: str | Path, tcfg: TrainConfig, *, mcfg: ModelConfig | None = None,
    device: str = "auto", init: str | None = None, resume: bool = False, max_seconds: float | None = None,
    quiet: bool = False, precision: str = "auto", photo_cache_mb: float = DEFAULT_CACHE_MB,
    edit_style: str | None = None,
) -> Path:
    """Run (or resume) a training run; returns the path of the exported EMA model. edit_style (not on
    --resume, which keeps the run's): the model's region-edit style (`ModelConfig.edit_style`), else the
    --init model's or the preset's."""
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
        mcfg = state_model_config(meta, p)
        saved_tcfg = TrainConfig.from_json(meta["train_config"])
        tcfg = replace(saved_tcfg, steps=tcfg.steps)  # the run's settings, with the (possibly longer) step count
    elif resume and list_states(run_dir):
        raise CheckpointError(f"no usable checkpoint in {run_dir / 'checkpoints'}; all are damaged")
    init_path = None
    init_state = None
    if init and resumed is None:
        from tcp_core.io.hub import resolve_weights

        init_path = resolve_weights(init)
        init_state = read_init_state(init_path)
        if init_state is not None:  # a training checkpoint: its networks and discriminators
            mcfg = state_model_config(init_state[1], init_path)
        else:
            mcfg = load_net(init_path).config
    mcfg = mcfg or model_preset(tcfg.preset)
    if edit_style is not None and resumed is None:
        mcfg = replace(mcfg, edit_style=edit_style)

    created = [p for p in (run_dir, *run_dir.parents) if not p.exists()]
    _check_run_folder(run_dir, data_dirs, init_path, create=dist_info.main)
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
        print(f"training on {dev.type} in {trainer.precision.describe()} precision, channels-last; "
              f"lr {tcfg.lr:g}, batch {tcfg.batch_size}", file=sys.stderr)
    if resumed is not None:
        trainer.load_state(resumed[0], resumed[1])
        if dist_info.main and not quiet:
            print(f"resumed from {resumed[2].name} at step {trainer.step}", file=sys.stderr)
    elif init_state is not None:
        trainer.init_from_state(*init_state)
        if dist_info.main and not quiet:
            print(f"fine-tuning from the networks and discriminators of {init_path.name} "
                  f"(step {init_state[1].get('step', '?')}); fresh optimizers, step 0; the EMA goes on from "
                  f"age {trainer.ema_start}", file=sys.stderr)
    elif init_path is not None:
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
    fixed, sheet_mask = sample_sheet_inputs(photos, tcfg.seed, mcfg.resolution, dev)

    feeder = BatchFeeder(photos, tcfg.seed, dist_info.rank, trainer.step, tcfg.batch_size, mcfg.resolution,
                         tcfg.scale_jitter)
    run_log = RunLog(run_dir, tcfg.steps, tcfg.batch_size * dist_info.world, trainer.precision.name,
                     trainer.step, quiet) if dist_info.main else None
    export_path = run_dir / "model-ema.safetensors"
    t0 = time.perf_counter()
    start_step = trainer.step
    try:
        while trainer.step < tcfg.steps:
            step = trainer.step
            stats = trainer.train_step(feeder.next(step))
            done = trainer.step
            if not dist_info.main:
                continue
            run_log.add(stats)
            if done % tcfg.log_every == 0 or done == tcfg.steps:
                run_log.write(done)
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
        if run_log is not None:
            run_log.close()
    if dist_info.main and trainer.step == start_step and not export_path.exists():
        save_model(export_path, trainer.ema, extra={"step": str(trainer.step)})
    return export_path
