"""`tcp-editor --train DATA... --out RUN_DIR` / `python -m tcp_core.train`: the training command line.

Parses the options into a `TrainConfig`, starts torch.distributed when launched by torchrun
(`torchrun --nproc-per-node N -m tcp_core.train ...`) and calls `tcp_core.training.run.train`.
On Linux it first re-executes itself with glibc's malloc tuned for training (METHOD section 6).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import replace

import torch
import torch.distributed as dist

from tcp_core.base.config import CA_MASKS, DISCRIMINATORS, EDIT_STYLES, TrainConfig, model_preset
from tcp_core.base.constants import PRIMING_PROFILES
from tcp_core.base.errors import UserError
from tcp_core.data.stream import DEFAULT_CACHE_MB
from tcp_core.networks.precision import PRECISION_CHOICES
from tcp_core.training.diffaugment import parse_policy
from tcp_core.training.run import train

# TrainConfig's fields set on the command line -> their option's dest ("weights." for a loss weight)
OPTION_DESTS = {
    "preset": "preset", "batch_size": "batch_size", "steps": "steps", "lr": "lr", "d_lr": "d_lr",
    "tcp_every": "tcp_every", "seed": "seed", "sample_every": "sample_every",
    "checkpoint_every": "checkpoint_every", "log_every": "log_every", "discriminator": "discriminator",
    "diffaugment": "diffaugment", "diffaugment_cooccur": "diffaugment_cooccur", "ca_masks": "ca_masks",
    "reuse_fakes": "reuse_fakes", "ca_detach_swap": "ca_detach_swap", "cc_detach_content": "cc_detach_content",
    "swap_prime": "swap_prime", "swap_prime_profile": "swap_prime_profile",
    "grade_neutral": "grade_neutral",
    "weights.rec": "rec_weight", "weights.gan_rec": "gan_rec_weight", "weights.cc_lambda": "cc_lambda",
    "weights.code_consistency": "cc_weight", "weights.content_alignment": "ca_weight",
    "weights.perceptual": "perceptual", "weights.style_stats": "style_stats", "weights.swap_content": "swap_content",
    "weights.colour_stats": "colour_stats", "weights.rec_recolour": "rec_recolour",
    "weights.swap_graded": "swap_graded", "weights.ca_graded": "ca_graded",
    "weights.swap_graded_cross": "swap_graded_cross",
    "weights.swap_smooth": "swap_smooth", "weights.ca_content": "ca_content", "weights.ca_colour": "ca_colour",
    "weights.ca_gan": "ca_gan", "weights.ca_cooccur": "ca_cooccur", "weights.ca_border": "ca_border",
    "weights.ca_interior": "ca_interior", "weights.d_edit": "d_edit",
}


def read_recipe(path: str) -> TrainConfig:
    """The training settings of an earlier run, to start a new stage from (`--recipe`): its
    RUN_DIR/config.json, one of its training states or a stage hand-off (their metadata). A stage is
    then "that recipe plus the options given", so no setting of the shipped recipe is lost by
    retyping it (stages 40-42 had lost `--lr 0.0005` that way, stages 33-42 `--ca-gan 1`)."""
    from tcp_core.networks.checkpoint import CheckpointError, read_metadata

    if not os.path.isfile(path):
        raise ValueError(f"--recipe {path}: no such file")
    if path.endswith(".json"):
        try:
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"--recipe {path} is not a readable run config: {e}") from None
        raw = raw.get("train", raw) if isinstance(raw, dict) else raw
        text = json.dumps(raw)
    else:
        try:
            text = read_metadata(path).get("train_config")
        except CheckpointError as e:
            raise ValueError(f"--recipe {path}: {e}") from None
        if not text:
            raise ValueError(f"--recipe {path} holds no training settings (an exported model keeps none: name "
                             "its run's config.json, a training state or a stage hand-off)")
    try:
        return TrainConfig.from_json(text)
    except (TypeError, ValueError, AttributeError) as e:
        raise ValueError(f"--recipe {path} is not a training config this version reads: {e}") from None


def config_from_args(args: argparse.Namespace, base: TrainConfig) -> TrainConfig:
    """`base` (the recipe, or the defaults) with every option's value; fields without an option
    (EMA decay, R1 interval, crop jitter...) stay the recipe's."""
    top = {f: getattr(args, d) for f, d in OPTION_DESTS.items() if "." not in f}
    weights = {f.split(".", 1)[1]: getattr(args, d) for f, d in OPTION_DESTS.items() if f.startswith("weights.")}
    return replace(base, **top, tcp_losses=not args.no_tcp_losses, weights=replace(base.weights, **weights))


def build_parser(d: TrainConfig | None = None) -> argparse.ArgumentParser:
    """The options; their defaults come from `d` (a --recipe) or TrainConfig's."""
    d = d or TrainConfig()
    p = argparse.ArgumentParser(
        prog="tcp-editor --train",
        description="Train (or fine-tune) a TCP model on folders of photos. Writes checkpoints, sample sheets, "
                    "a CSV log and the model the editor loads (RUN_DIR/model-ema.safetensors: the weights' moving "
                    "average, EMA) to --out.")
    p.add_argument("data", nargs="+", help="folders of photos (searched recursively; several folders = one data set)")
    p.add_argument("--out", required=True, help="run folder for checkpoints, samples, log and the exported model")
    p.add_argument("--recipe", metavar="CONFIG",
                   help="take every training setting not given here from an earlier run: its RUN_DIR/config.json, "
                        "a training state or a stage hand-off (e.g. the one --init names); the options given "
                        "change only themselves")
    p.add_argument("--preset", default=d.preset,
                   help="model size: tiny (tests), demo128 (128 px, trains on a CPU), paper256 (256 px, a GPU "
                        "job) (default %(default)s)")
    p.add_argument("--steps", type=int, default=d.steps, help="total training iterations (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help="photos per training step (even; per GPU process; default %(default)s)")
    p.add_argument("--lr", type=float, default=d.lr,
                   help="learning rate: step size of the optimiser (Adam; default %(default)s)")
    p.add_argument("--d-lr", type=float, default=d.d_lr,
                   help="learning rate of the critics (default: --lr; 0.0002 suits --discriminator projected)")
    p.add_argument("--tcp-every", type=int, default=d.tcp_every,
                   help="how often (every K steps) the training step also teaches region edits to keep the "
                        "photo's structure and leave the rest of the photo alone; lower is slower per step "
                        "(the TCP losses L_CC and L_CA every K iterations; paper K = 16; default %(default)s)")
    p.add_argument("--rec-weight", type=float, default=d.weights.rec,
                   help="weight of the pixel L1 reconstruction loss (L_rec); higher trades some sharpness from "
                        "the critic for reconstructions closer to the photo (default %(default)s)")
    p.add_argument("--gan-rec-weight", type=float, default=d.weights.gan_rec,
                   help="weight of the critic's judgement of reconstructions (the swaps keep theirs); lower "
                        "lets reconstructions follow the photo more closely (default %(default)s)")
    p.add_argument("--cc-lambda", type=float, default=d.weights.cc_lambda,
                   help="how strongly an edit must carry the reference's style, relative to keeping the "
                        "photo's content; higher moves the style more (lambda of L_CC, Eq. 3; "
                        "default %(default)s)")
    p.add_argument("--cc-weight", type=float, default=d.weights.code_consistency,
                   help="weight of the whole code-consistency loss (L_CC, Eq. 3): how much a style swap must "
                        "re-encode to the photo's content code and the reference's style code "
                        "(default %(default)s)")
    p.add_argument("--ca-weight", type=float, default=d.weights.content_alignment,
                   help="weight of the content-alignment loss (L_CA, Eq. 7): how closely a region edit must "
                        "match the full swap inside the region and the photo outside it (default %(default)s)")
    p.add_argument("--ca-masks", choices=CA_MASKS, default=d.ca_masks,
                   help="the regions region-edit training brushes: random strokes (the paper's), regions that "
                        "follow each photo's content as a user brushes a sky, or half each (L_CA's masks, "
                        "Eq. 7; default %(default)s)")
    p.add_argument("--ca-detach-swap", action=argparse.BooleanOptionalAction, default=d.ca_detach_swap,
                   help="the training's region edits learn to copy the global swap but can no longer make the "
                        "swap weaker to make their own job easier (L_CA's region edit encodes the detached swap; "
                        "one more encoder pass on TCP steps)")
    p.add_argument("--cc-detach-content", action=argparse.BooleanOptionalAction, default=d.cc_detach_content,
                   help="the training's swaps keep more of the reference's colours: the content-consistency term "
                        "no longer pulls a swap back to the content photo's colours (L_CC's content term of Eq. 3 "
                        "reads the detached swap; its style term still trains G; one more encoder pass on TCP "
                        "steps, shared with --ca-detach-swap)")
    p.add_argument("--edit-style", choices=EDIT_STYLES, default=None,
                   help="how a region edit takes the reference's look: 'code' gives the whole edit one style "
                        "(the paper's Eq. 6), 'map' takes the reference's style inside the mask and the photo's "
                        "outside, blended along the mask at full resolution (sharper region borders). Stored "
                        "in the model; default: the --init model's, else 'code'")
    p.add_argument("--swap-prime", type=float, default=d.swap_prime, metavar="A",
                   help="train on primed swaps: each swap's content photo is first moved a random amount up to A "
                        "(0-1) towards its reference's colours inside a random region (a Reinhard Lab transfer, "
                        "the export's colour priming), so the network learns to render primed photos cleanly "
                        "(one more encoder pass per step; default %(default)s = off)")
    p.add_argument("--swap-prime-profile", choices=PRIMING_PROFILES, default=d.swap_prime_profile,
                   help="what --swap-prime's priming follows, as the export's --priming-profile: 'rows' the "
                        "reference's rows at the region's place, 'global' one colour per region "
                        "(default %(default)s)")
    p.add_argument("--reuse-fakes", action=argparse.BooleanOptionalAction, default=d.reuse_fakes,
                   help="D judges the G phase's own reconstruction and swap instead of decoding them again "
                        "(one G step old; 1.15x the iterations per hour measured, benchmarks/bench_train_step.py)")
    p.add_argument("--no-tcp-losses", action="store_true", default=not d.tcp_losses,
                   help="train the plain Swapping Autoencoder instead: no region-edit training, for "
                        "comparisons (the paper's ablation without L_CC and L_CA)")
    p.add_argument("--init", metavar="WEIGHTS",
                   help="fine-tune from a model (path or hf://OWNER/REPO/FILE.safetensors), or from a training "
                        "checkpoint (RUN/checkpoints/state-N.safetensors: its discriminators too) with this run's "
                        "own loss settings")
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
    p.add_argument("--swap-smooth", type=float, default=d.weights.swap_smooth,
                   help="weight of an edge-aware smoothness loss on the swap's colour change (swap minus its "
                        "content photo): the change may step where the photo has an edge, not where it is smooth; "
                        "aims at blotches (shared by TCP and SwapAE; default %(default)s = off)")
    p.add_argument("--colour-stats", type=float, default=d.weights.colour_stats,
                   help="weight of a loss that pulls a style swap's colour statistics (means and deviations of "
                        "luma and colour differences) to its style reference's; edits take the reference's palette "
                        "(default %(default)s = off)")
    p.add_argument("--rec-recolour", type=float, default=d.weights.rec_recolour,
                   help="weight of a reconstruction from the content code of a randomly recoloured copy of the "
                        "photo (hue rotated, saturation 0-1.5x) and the style code of the photo itself: colour must "
                        "come from the style code, so edits recolour regions the content code would keep grey "
                        "(every generator step, so the SwapAE baseline gets it too; default %(default)s = off)")
    p.add_argument("--swap-graded", type=float, default=d.weights.swap_graded,
                   help="weight of a swap with a known answer: G(content code of a photo, style code of the same "
                        "photo given a random colour grade (white balance, gamma, contrast, black and white points, "
                        "saturation, split toning), mirrored) must give the graded photo, so the style code carries "
                        "a reference's look and the generator lays it over the content (every generator step, so "
                        "the SwapAE baseline gets it too; default %(default)s = off)")
    p.add_argument("--swap-graded-cross", type=float, default=d.weights.swap_graded_cross,
                   help="weight of a grade carried from the style reference: the change a random colour grade of "
                        "the reference makes to the swap, added to the content photo, must give the content photo "
                        "under the same grade, so the style code's changes are the look's own and not a move "
                        "towards the reference's colours (shared by TCP and SwapAE; default %(default)s = off)")
    p.add_argument("--grade-neutral", type=float, default=d.grade_neutral, metavar="P",
                   help="share (0-1) of --swap-graded's grades drawn without a colour cast (no white balance, one "
                        "gamma for all channels, no split toning), so a neutral reference is learnt to bring no "
                        "cast (default %(default)s)")
    p.add_argument("--ca-graded", type=float, default=d.weights.ca_graded,
                   help="weight of a region edit with a known answer: the training's region edit, with the photo's "
                        "own random colour grade in place of the whole-image swap, must give the graded photo inside "
                        "the mask and the photo itself outside, with nothing in between but the mask (Eq. 5-7 with "
                        "that grade as I_g, on L_CA's masks and steps; TCP only; default %(default)s = off)")
    p.add_argument("--ca-content", type=float, default=d.weights.ca_content,
                   help="weight of a loss that keeps the deep features (normalised, so the style may change) of "
                        "the training's region edits close to their photos' (L_CA's region edit; TCP only); region "
                        "edits keep more of the photo's structure (default %(default)s = off)")
    p.add_argument("--ca-colour", type=float, default=d.weights.ca_colour,
                   help="weight of a loss that pulls the colour statistics of the training's region edits, inside "
                        "their masks, to the style reference's (L_CA's region edit; TCP only); brushed regions take "
                        "the reference's palette (default %(default)s = off)")
    p.add_argument("--ca-gan", type=float, default=d.weights.ca_gan,
                   help="weight of an adversarial loss on the training's region edits: they must pass the image "
                        "critic (D) as real photos (L_CA's region edit; TCP only); aims at fewer blotches and seams "
                        "in brushed regions (default %(default)s = off)")
    p.add_argument("--ca-cooccur", type=float, default=d.weights.ca_cooccur,
                   help="weight of the paper's co-occurrence loss on the training's region edits: crops from "
                        "inside the mask must pass the patch critic (D_co) as patches of the style reference "
                        "(L_CA's region edit; TCP only); brushed regions take the reference's look "
                        "(default %(default)s = off)")
    p.add_argument("--ca-border", type=float, default=d.weights.ca_border,
                   help="weight of a loss on the border of the training's region edits: within 4 pixels of the "
                        "mask's edge they must match the full swap inside and the photo outside (L_CA on a band "
                        "around the mask; TCP only); aims at the rims and halos along brushed regions' edges "
                        "(default %(default)s = off)")
    p.add_argument("--ca-interior", type=float, default=d.weights.ca_interior,
                   help="weight of a loss on the interior of the training's region edits: more than 4 pixels "
                        "inside the mask they must match the full swap (L_CA's first term averaged over the "
                        "interior, not the whole image; TCP only); aims at region edits that carry as much of the "
                        "reference as the swap (default %(default)s = off)")
    p.add_argument("--d-edit", type=float, default=d.weights.d_edit,
                   help="weight of the training's region edits as fakes in the image critic's (D's) loss (TCP "
                        "steps only), so D learns what a region edit's blotches and seams look like; pairs with "
                        "--ca-gan (default %(default)s = off)")
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
    pre = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    pre.add_argument("--recipe")
    recipe = pre.parse_known_args(argv)[0].recipe
    try:
        base = read_recipe(recipe) if recipe else TrainConfig()
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args = build_parser(base).parse_args(argv)
    _maybe_reexec_with_malloc_tuning(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        tcfg = config_from_args(args, base)
        parse_policy(tcfg.diffaugment)
        parse_policy(tcfg.diffaugment_cooccur)
        if args.resume and args.edit_style:
            raise ValueError("--edit-style sets up a new run; --resume keeps the run's own model")
        if args.resume and recipe:
            raise ValueError("--recipe sets up a new run; --resume keeps the run's own settings")
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
                     photo_cache_mb=args.photo_cache_mb, edit_style=args.edit_style)
        if dist.is_initialized():
            dist.barrier()  # rank 0 exports last: the others wait, so no rank tears its pairs down early
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
