"""`tcp-editor eval` (also `python -m tcp_core.evaluate`): the command line of the region-edit
evaluation `tcp_core.eval.evaluate` (see its docstring for the methods, metrics and outputs)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from tcp_core.base.constants import (
    DEFAULT_DETAIL_GAIN,
    DEFAULT_INTERIOR_FILL,
    DEFAULT_INTERIOR_MODE,
    DEFAULT_PRE_TRANSFER,
    DEFAULT_PRIMING_CAP,
    DEFAULT_PRIMING_HIGHLIGHTS,
    DEFAULT_PRIMING_PROFILE,
    DEFAULT_PRIMING_SPREAD,
    INTERIOR_FILLS,
    INTERIOR_MODES,
    MAX_STRENGTH,
    PRIMING_HIGHLIGHTS,
    PRIMING_PROFILES,
    PRIMING_SPREADS,
)
from tcp_core.base.errors import UserError
from tcp_core.editing.export_config import ExportConfig, ExportSettingError
from tcp_core.eval.evaluate import ALL_METHODS, EvalError, evaluate
from tcp_core.eval.metrics import backbones as _bb
from tcp_core.eval.report import markdown

__all__ = ["auto_threads", "build_parser", "main"]


def auto_threads() -> int:
    """torch's thread count, reduced to the cores the load average says are idle (at least 1)."""
    n = torch.get_num_threads()
    try:
        busy = os.getloadavg()[0]
    except (OSError, AttributeError):  # not available on Windows
        return n
    cores = os.cpu_count() or n
    return max(1, min(n, cores - int(round(busy))))


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="tcp-editor eval",
        description="Evaluate region edits (TCP, its final export path, Eq. 4 pixel compositing, a SwapAE "
                    "baseline, Reinhard colour transfer, identity) on content/style/mask pairs.")
    ap.add_argument("--pairs", required=True,
                    help="CSV with columns content,style,mask (paths relative to it)")
    ap.add_argument("--weights", default="default",
                    help="TCP weights: a .safetensors path, hf://OWNER/REPO/FILE[@REV], 'default' (bundled), "
                         "or random:PRESET[:SEED] for an untrained model")
    ap.add_argument("--baseline-weights", default=None,
                    help="SwapAE baseline weights (enables method 'swapae')")
    ap.add_argument("--out", required=True,
                    help="output folder for report.json, report.md, contact_sheet.png")
    ap.add_argument("--device", default="auto", help="auto, cpu, cuda, mps (model and backbone)")
    ap.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                    help="the model's precision: auto = bf16 where the device runs it natively, else fp32")
    ap.add_argument("--methods", default=None,
                    help=f"comma-separated subset of {','.join(ALL_METHODS)} (default: all that can run)")
    ap.add_argument("--final-smoothing", type=float, default=None, metavar="S",
                    help="colour smoothing of method tcp_final (the export path's --smoothing; default: the "
                         "editor's default)")
    ap.add_argument("--final-interior", default=DEFAULT_INTERIOR_MODE, choices=INTERIOR_MODES,
                    help="method tcp_final's use of the global swap inside each region (the export's "
                         "--interior-ramp; 'off' = --no-swap-interior) (default %(default)s)")
    ap.add_argument("--final-interior-fill", default=DEFAULT_INTERIOR_FILL, choices=INTERIOR_FILLS,
                    help="what fills each region's inside in method tcp_final: the network's swap of the primed "
                         "photo, or the primed photo itself (the export's --interior-fill) (default %(default)s)")
    ap.add_argument("--priming-cap", type=float, default=DEFAULT_PRIMING_CAP, metavar="R",
                    help="method tcp_final's cap on the colour priming's spread ratio (the export's --priming-cap; "
                         "0 = no cap) (default %(default)g)")
    ap.add_argument("--priming-profile", choices=PRIMING_PROFILES, default=DEFAULT_PRIMING_PROFILE,
                    help="method tcp_final's colour priming target: one Lab mean per region, or the reference's "
                         "row by row (the export's --priming-profile) (default %(default)s)")
    ap.add_argument("--priming-spread", choices=PRIMING_SPREADS, default=DEFAULT_PRIMING_SPREAD,
                    help="what method tcp_final's colour priming stretches: all of a region's variation, or its "
                         "detail only (the export's --priming-spread) (default %(default)s)")
    ap.add_argument("--priming-highlights", choices=PRIMING_HIGHLIGHTS, default=DEFAULT_PRIMING_HIGHLIGHTS,
                    help="method tcp_final's colour priming of clipped highlights: 'neutral' gives them no colour of "
                         "their own, 'plain' primes them like any pixel (the export's --priming-highlights) "
                         "(default %(default)s)")
    ap.add_argument("--detail-gain", type=float, default=DEFAULT_DETAIL_GAIN or 0.0, metavar="G",
                    help="method tcp_final's cap on how much its colour transform amplifies the photo's own detail "
                         "(the export's --detail-gain; 0 = no cap) (default %(default)g)")
    ap.add_argument("--final-inside", action="store_true",
                    help="method tcp_final feathers inside each mask, as the editor's Mask edge \"Keep inside the "
                         "mask\" does (the export's --inside); by default across the mask's edge, as `tcp-editor "
                         "apply` and the editor do")
    ap.add_argument("--final-plain-feather", action="store_true",
                    help="method tcp_final feathers with a plain blur of the mask (the export's --plain-feather) "
                         "instead of the photo-guided feather")
    ap.add_argument("--style-part", default="whole", choices=["whole", "auto"],
                    help="the network methods take the style from the whole reference (default) or from the "
                         "part of it that matches the region (the editor's --style-mask auto)")
    ap.add_argument("--strength", type=float, default=1.0,
                    help=f"the style strength of every network method (tcp, tcp_final, pixel, swapae), "
                         f"0..{MAX_STRENGTH:g} (default 1: the reference's style code; above 1 past it)")
    ap.add_argument("--pre-transfer", type=float, default=DEFAULT_PRE_TRANSFER, metavar="A",
                    help="method tcp_final's colour priming 0-1 (the export's --pre-transfer) (default %(default)g)")
    ap.add_argument("--size", type=int, default=256, help="evaluation size: long side in px (default 256)")
    ap.add_argument("--backbone", default="mobilenet_v2",
                    help=f"feature backbone: {', '.join(_bb.BACKBONES)} (default mobilenet_v2)")
    ap.add_argument("--backbone-weights", default=None,
                    help="backbone weights .safetensors (required for inception_v3 and vgg16)")
    ap.add_argument("--ssd-locations", type=int, default=1024,
                    help="locations sampled for SSD (default 1024)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the SSD locations")
    ap.add_argument("--threads", default="auto",
                    help="torch CPU threads, or 'auto' (default): the cores not already busy according to "
                         "the load average, at least 1 (oversubscribed threads make small CNN passes "
                         "many times slower when a trainer shares the CPU)")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return ap


# the flag of each export setting (`ExportConfig` field) method tcp_final takes
_EXPORT_FLAGS = {"priming": "--pre-transfer", "priming_cap": "--priming-cap", "priming_profile": "--priming-profile",
                 "priming_spread": "--priming-spread", "priming_highlights": "--priming-highlights",
                 "interior": "--final-interior", "interior_fill": "--final-interior-fill",
                 "edge": "--final-inside", "guided_feather": "--final-plain-feather",
                 "smoothing": "--final-smoothing", "detail_gain": "--detail-gain"}


def export_config(args) -> ExportConfig:
    """Method tcp_final's `ExportConfig` from the flags (0 for --priming-cap / --detail-gain: no cap); EvalError
    naming the flag of a bad value."""
    try:
        return ExportConfig(priming=args.pre_transfer, priming_cap=args.priming_cap or None,
                            priming_profile=args.priming_profile, priming_spread=args.priming_spread,
                            priming_highlights=args.priming_highlights, interior=args.final_interior,
                            interior_fill=args.final_interior_fill,
                            edge="inside" if args.final_inside else "across",
                            guided_feather=not args.final_plain_feather, smoothing=args.final_smoothing,
                            detail_gain=args.detail_gain or None)
    except ExportSettingError as e:
        raise EvalError(f"{_EXPORT_FLAGS.get(e.field, e.field)} {e.problem}") from None


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in[:1] == ["eval"]:
        args_in = args_in[1:]
    args = build_parser().parse_args(args_in)

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else None
    try:
        threads = auto_threads() if str(args.threads) == "auto" else int(args.threads)
        if threads < 1:
            raise ValueError
    except ValueError:
        print(f"tcp-editor eval: error: --threads must be 'auto' or >= 1, got {args.threads!r}", file=sys.stderr)
        return 2
    if args.device in ("auto", "cpu") and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    try:
        export = export_config(args)
        if not Path(args.pairs).is_file():
            raise EvalError(f"pairs file not found: {args.pairs}")
        backbone = _bb.load_backbone(args.backbone, weights=args.backbone_weights, device=args.device)
        from tcp_core.editing.inference import load_model

        model = load_model(args.weights, args.device, args.precision)
        baseline = load_model(args.baseline_weights, args.device, args.precision) if args.baseline_weights else None
        res = evaluate(args.pairs, model, args.out, baseline=baseline, backbone=backbone, methods=methods,
                       size=args.size, ssd_locations=args.ssd_locations, seed=args.seed,
                       model_name=args.weights, baseline_name=args.baseline_weights, log=log,
                       style_part=args.style_part, strength=args.strength, export=export)
    except UserError as e:  # anything else is a bug: its traceback shows
        print(f"tcp-editor eval: error: {e}", file=sys.stderr)
        return 2
    rep = res.report
    print(markdown(rep).split("\n\n↑")[0].split("\n", 2)[-1].strip())
    print(f"\n{rep['pairs']} pairs evaluated, {len(rep['skipped'])} skipped, "
          f"{len(rep['errors'])} method errors, {rep['timing_s']['total']:.1f} s. Report: {res.files['md']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
