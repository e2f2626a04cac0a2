"""The command lines over the export pipeline: `tcp-editor apply` and `tcp-editor interpolate`
(also `python -m tcp_core.apply`).

    tcp-editor apply PHOTO --style S --mask M [--style S2 --mask M2 ...] [--strength A ...]
                     [--global] [--weights SPEC] [--device D] [--max-pixels N] [--timings] -o OUT
    tcp-editor apply FOLDER --style S --mask M_OR_MASK_FOLDER ... -o OUT_FOLDER
    tcp-editor interpolate A B --what style|content --steps N -o OUT.png   (+ OUT.gif, OUT.webp)

The edit itself is `tcp_core.editing.apply.apply_regions`. EXIF (orientation reset) and ICC
profiles are kept; alpha and 16-bit depth are carried through (16-bit only to PNG/TIFF). No input
(photo, style, mask, weights) is ever overwritten, in single and batch mode, derived GIF/WebP
files included (`tcp_core.editing.cli_inputs.Inputs`).

Exit codes: 0 success; 1 batch run where some files failed (listed at the end); 2 bad input
(one-line message on stderr, no traceback).

torch and `tcp_core.editing.inference` are imported lazily, so this module imports without them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tcp_core.base.constants import (
    DEFAULT_DETAIL_GAIN,
    DEFAULT_INTERIOR_FILL,
    DEFAULT_INTERIOR_MODE,
    DEFAULT_PRE_TRANSFER,
    DEFAULT_PRIMING_CAP,
    DEFAULT_PRIMING_HIGHLIGHTS,
    DEFAULT_PRIMING_OBJECTS,
    DEFAULT_PRIMING_PROFILE,
    DEFAULT_PRIMING_SPREAD,
    DEFAULT_SMOOTHING,
    INTERIOR_FILLS,
    INTERIOR_MODES,
    MAX_SMOOTHING,
    MAX_STRENGTH,
    PRIMING_HIGHLIGHTS,
    PRIMING_OBJECTS,
    PRIMING_PARTS,
    PRIMING_PROFILES,
    PRIMING_SPREADS,
)
from tcp_core.base.errors import UsageError
from tcp_core.base.memory import release_free_memory
from tcp_core.editing.apply import (
    _add,
    _resize,
    _shrink_style,
    apply_regions,
    interpolate_images,
    interpolate_photo,
)
from tcp_core.editing.cli_inputs import PROG, Inputs, err, model_in_background, model_or_usage, weights_file
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.masks import as_float_mask
from tcp_core.editing.regions import EditModel, RegionEdit
from tcp_core.io.imageio import (
    DEFAULT_MAX_PIXELS,
    SAVE_FORMATS,
    ImageLoadError,
    ImageSaveError,
    LoadedImage,
    atomic_write_all,
    display_path,
    image_writer,
    iter_images,
    load_image,
    load_mask,
    save_image,
)

__all__ = ["batch_output_names", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2 (raised to main)
        raise UsageError(f"{self.prog}: error: {message}")


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="TCP Editor command line: region-wise photo style editing.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    a = sub.add_parser(
        "apply",
        help="edit photos with style references and masks",
        description="Edit PHOTO (or every image in a FOLDER) region by region. Each --style pairs "
        "with the --mask at the same position; regions are applied in order.",
    )
    a.add_argument("content", help="photo file, or a folder of photos (batch mode)")
    a.add_argument("--style", action="append", default=[], help="style reference image (repeat per region)")
    a.add_argument(
        "--mask",
        action="append",
        default=[],
        help="mask image for the region (white = edit; alpha used if transparent); in batch mode a "
        "single mask for every photo or a folder of masks named like the photos",
    )
    a.add_argument(
        "--strength", action="append", type=float, default=[],
        help=f"0..{MAX_STRENGTH:g} (1 = the reference's style, above 1 more of its look); one for all regions or "
        "one per region"
    )
    a.add_argument("--style-mask", action="append", default=[], metavar="MASK",
                   help="take the style from part of the style photo only (a mask of the style photo's size, "
                        "white = use); one per --style in order, 'none' for a style used whole, 'auto' for the "
                        "part that matches the region (a sky's reference sky; one 'auto' for every region)")
    a.add_argument("--global", dest="global_", action="store_true", help="global style transfer (no masks)")
    a.add_argument("--weights", default=None, help="model: path, hf://OWNER/REPO/FILE.safetensors, or default")
    a.add_argument("--preset", default=None, help=argparse.SUPPRESS)  # random-init model (tests/demos)
    a.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    a.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                   help="auto: bf16 where the device runs it natively, else fp32 (default auto)")
    a.add_argument("--max-pixels", type=float, default=DEFAULT_MAX_PIXELS, help="refuse larger images")
    a.add_argument("--feather", type=float, default=None, help="mask feather radius in pixels (default: auto)")
    a.add_argument("--plain-feather", action="store_true",
                   help="feather with a plain blur of the mask; by default the feather follows the photo (as sharp "
                        "as the photo's edge where the mask's edge runs along one, about twice as wide where it "
                        "crosses smooth parts of the photo, so no line shows there)")
    a.add_argument("--smoothing", type=float, default=None, metavar="S",
                   help=f"colour smoothing 0-{MAX_SMOOTHING} of the colour transform that carries the edit to full "
                        f"resolution (default {DEFAULT_SMOOTHING}): low follows the network's local colours, high "
                        "keeps more of the photo's own texture")
    a.add_argument("--inside", action="store_true",
                   help="feather inside the mask: no pixel outside the mask changes, and the edit keeps its "
                        "strength up to the mask's edge (the default fades it out across the edge)")
    a.add_argument("--swap-interior", action=argparse.BooleanOptionalAction, default=True,
                   help="inside each region, away from its border, take the colours of the network's global swap "
                        "(more of the reference) and keep the region edit's at the border (default); "
                        "--no-swap-interior exports the region edit (Eq. 5-6) alone")
    a.add_argument("--interior-ramp", choices=[m for m in INTERIOR_MODES if m != "off"],
                   default=DEFAULT_INTERIOR_MODE,
                   help="with --swap-interior, how the region edit's colours at the border turn into the swap's "
                        "inside: 'fixed' over 1-4 network pixels, 'guided' follows the photo (as narrow where the "
                        "border runs along an edge of the photo, wider where it crosses a smooth sky, so no band "
                        "shows there) (default %(default)s)")
    a.add_argument("--interior-fill", choices=INTERIOR_FILLS, default=DEFAULT_INTERIOR_FILL,
                   help="with --swap-interior, what fills each region's inside: 'swap' the network's global swap of "
                        "the primed photo, 'primed' the primed photo itself (the colour transfer of --pre-transfer, "
                        "no network inside; the network still blends the border) (default %(default)s)")
    a.add_argument("--pre-transfer", action="append", type=float, default=[], metavar="A",
                   help="colour priming 0-1: the network edits each region's inside after moving it this far "
                        "towards the reference's colours by a classical colour transfer (Lab mean and spread), so the "
                        "edit takes more of the reference; 0 is the network alone; one for all regions or one per "
                        f"region (default {DEFAULT_PRE_TRANSFER:g})")
    a.add_argument("--priming-cap", type=float, default=DEFAULT_PRIMING_CAP, metavar="R",
                   help="cap on the colour priming's spread ratio (reference / region, per Lab channel): a region "
                        "much flatter than the reference is not stretched into blotches; 0 = no cap, the classical "
                        "transfer's own (default %(default)g)")
    a.add_argument("--priming-profile", choices=PRIMING_PROFILES, default=DEFAULT_PRIMING_PROFILE,
                   help="the colour priming's target: 'global' one Lab mean per region, 'rows' the reference's mean "
                        "row by row (a sunset sky's gradient comes through; without a style mask the reference's rows "
                        "at the region's own height in the photo) (default %(default)s)")
    a.add_argument("--priming-spread", choices=PRIMING_SPREADS, default=DEFAULT_PRIMING_SPREAD,
                   help="what the colour priming's spread ratio stretches: 'all' of each region's variation, or only "
                        "its 'detail' (a smooth sky's slow shading is never stretched into a blotch) "
                        "(default %(default)s)")
    a.add_argument("--priming-highlights", choices=PRIMING_HIGHLIGHTS, default=DEFAULT_PRIMING_HIGHLIGHTS,
                   help="the colour priming of clipped highlights (the sun's white disk, glints): 'neutral' gives them "
                        "no colour of their own, so they take the reference's colour at their row; 'plain' primes "
                        "them like any pixel (a white sun in an orange sky could turn blue) (default %(default)s)")
    a.add_argument("--detail-gain", type=float, default=DEFAULT_DETAIL_GAIN or 0.0, metavar="G",
                   help="cap on how much the colour transform that carries the edit to full resolution amplifies "
                        "the photo's own detail (noise in a smooth sky turns into grain when it is stretched); "
                        "0 = no cap (default %(default)g)")
    a.add_argument("--priming-part", choices=PRIMING_PARTS, default="place",
                   help="for a region without --style-mask, what of the reference colour priming reads: 'place' its "
                        "rows at the region's own place in the photo, 'match' the part that matches the region (a "
                        "sky's reference sky, not its mountains; the network still takes the whole reference), "
                        "'auto' matches for smooth regions only (a clear sky, fog) (default %(default)s)")
    a.add_argument("--priming-objects", choices=PRIMING_OBJECTS, default=DEFAULT_PRIMING_OBJECTS,
                   help="what colour priming does with what a textured region holds that is not its material (a "
                        "rock or a path in a meadow, boats on a beach): 'prime' moves it with the region, 'keep' "
                        "leaves its colour (smooth regions such as skies prime everything) (default %(default)s)")
    a.add_argument("--no-crop", action="store_true", help="run the network on the whole photo, not a crop")
    a.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality (default 95)")
    a.add_argument("--format", choices=["png", "jpg", "webp", "tif"], default=None, help="output format (batch)")
    a.add_argument("--timings", action="store_true", help="print per-stage timings to stderr")
    a.add_argument("-o", "--output", required=True, help="output file (or folder)")

    it = sub.add_parser(
        "interpolate",
        help="blend the style or content of two images",
        description="Write a strip of STEPS frames blending A into B, plus an animated GIF and WebP. Style "
                    "frames are A at its own resolution (long side --long-side) with its colours moving "
                    "towards B's style, as the editor shows them; content and both are the network's "
                    "frames at its working size (a content change moves structures), as is --network.",
    )
    it.add_argument("a")
    it.add_argument("b")
    it.add_argument("--what", choices=["style", "content", "both"], default="style")
    it.add_argument("--steps", type=int, default=5)
    it.add_argument("--duration", type=int, default=150, help="animation frame duration in ms")
    it.add_argument("--long-side", type=int, default=1024, help="style frames: long side in px (default 1024)")
    it.add_argument("--smoothing", type=float, default=None, metavar="S",
                    help=f"style frames: colour smoothing 0-{MAX_SMOOTHING} (default {DEFAULT_SMOOTHING})")
    it.add_argument("--network", action="store_true",
                    help="write the network's own frames at its working size instead")
    it.add_argument("--weights", default=None)
    it.add_argument("--preset", default=None, help=argparse.SUPPRESS)
    it.add_argument("--device", default="auto")
    it.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                    help="auto: bf16 where the device runs it natively, else fp32 (default auto)")
    it.add_argument("--max-pixels", type=float, default=DEFAULT_MAX_PIXELS)
    it.add_argument("-o", "--output", required=True, help="strip image path (.png)")
    return p


def _out_ext(src: Path, forced: str | None) -> str:
    if forced:
        return "." + forced
    ext = src.suffix.lower()
    return ext if ext in SAVE_FORMATS else ".png"


def _find_mask(spec: Path, rel: Path) -> Path:
    """Mask for photo `rel` (relative to the batch folder): a file is used as is; in a folder,
    the mask named like the photo (any image extension, optionally with a _mask suffix)."""
    if not spec.is_dir():
        return spec
    stem_dir = spec / rel.parent
    for stem in (rel.stem, rel.stem + "_mask"):
        for p in iter_images(stem_dir, recursive=False):
            if p.stem == stem:
                return p
    raise ImageLoadError(f"No mask for '{display_path(rel)}' in '{display_path(spec)}' (expected {rel.stem}.png).")


def _load_one(src: Path, mask_specs: list[Path], args, rel: Path,
              timings: dict) -> tuple[LoadedImage, list[np.ndarray | None]]:
    """The photo and its region masks at the photo's size (the masks are None in --global mode)."""
    t0 = time.perf_counter()
    max_px = int(args.max_pixels)
    photo = load_image(src, max_pixels=max_px, keep_alpha=True, keep_16bit=True)
    masks = [None] * len(args.style)
    if not args.global_:
        masks = [load_mask(_find_mask(m, rel), size=photo.size, max_pixels=max_px) for m in mask_specs]
    _add(timings, "load", t0)
    return photo, masks


AUTO = "auto"  # --style-mask auto: the part of the reference that matches the region


MATCH_PX = 448  # short side of the copies of photo, masks and references that are matched


def _small(img: np.ndarray, short: int = MATCH_PX) -> np.ndarray:
    scale = min(1.0, short / min(img.shape[:2]))
    if scale >= 1:
        return img
    h, w = max(1, round(img.shape[0] * scale)), max(1, round(img.shape[1] * scale))
    return _resize(np.ascontiguousarray(img), (h, w))


def _matched_parts(model, rgb: np.ndarray, masks, styles, specs, match_styles) -> list[np.ndarray | None]:
    """Each 'auto' style mask replaced by the part of its reference that matches its region
    (`TCPModel.match_style_part` on copies of the photo, masks and references of short side
    MATCH_PX), at the size of the reference the edit uses."""
    match = getattr(model, "match_style_part", None)
    if match is None:
        raise UsageError(f"{PROG} apply: error: --style-mask auto needs a network model")
    small = _small(rgb[:, :, :3])
    out = []
    for spec, mask, style, ref in zip(specs, masks, styles, match_styles):
        if spec is not AUTO:
            out.append(spec)
            continue
        if mask is None:
            raise UsageError(f"{PROG} apply: error: --style-mask auto matches a region; it has no use with --global")
        m = np.clip(_resize(np.ascontiguousarray(as_float_mask(mask)), small.shape[:2]), 0, 1)
        if not np.any(m > 0):
            out.append(None)  # an empty region edits nothing; its reference is used whole
            continue
        out.append(np.clip(_resize(match(small, m, ref), style.shape[:2]), 0, 1))
    return out



def export_config(args) -> ExportConfig:
    """The `ExportConfig` of `apply`'s flags (0 for --priming-cap / --detail-gain: no cap). Each region's priming is
    its RegionEdit's (--pre-transfer, one per region), so the config keeps the default one."""
    return ExportConfig(
        priming_cap=args.priming_cap or None,
        priming_profile=args.priming_profile,
        priming_spread=args.priming_spread,
        priming_highlights=args.priming_highlights,
        priming_part=args.priming_part,
        priming_objects=args.priming_objects,
        interior=args.interior_ramp if args.swap_interior else "off",
        interior_fill=args.interior_fill,
        edge="inside" if args.inside else "across",
        guided_feather=not args.plain_feather,
        smoothing=args.smoothing,
        detail_gain=args.detail_gain or None,
    )


def _edit_and_save(
    model: EditModel,
    photo: LoadedImage,
    masks: list[np.ndarray | None],
    src: Path,
    out: Path,
    styles: list[np.ndarray],
    strengths: list[float],
    args,
    timings: dict,
    protect: Sequence[Path] = (),
) -> None:
    style_masks = getattr(args, "style_masks_loaded", None) or [None] * len(styles)
    if any(m is AUTO for m in style_masks):
        t0 = time.perf_counter()
        style_masks = _matched_parts(model, photo.rgb, masks, styles, style_masks,
                                     getattr(args, "match_styles", None) or styles)
        _add(timings, "match", t0)
    primings = getattr(args, "primings", None) or [DEFAULT_PRE_TRANSFER] * len(styles)
    regions = [RegionEdit(*r) for r in zip(styles, masks, strengths, style_masks, primings)]
    result = apply_regions(
        model,
        photo,
        regions,
        global_=args.global_,
        crop=not args.no_crop,
        feather_px=args.feather,
        timings=timings,
        config=export_config(args),
    )
    t0 = time.perf_counter()
    save_image(
        out,
        result,
        alpha=photo.alpha,
        exif=photo.exif,
        icc=photo.icc,
        quality=args.quality,
        overwrite_protect=[src, *protect],
    )
    _add(timings, "save", t0)


def _process_one(
    model: EditModel,
    src: Path,
    out: Path,
    styles: list[np.ndarray],
    mask_specs: list[Path],
    strengths: list[float],
    args,
    rel: Path,
    timings: dict,
    protect: Sequence[Path] = (),
) -> None:
    photo, masks = _load_one(src, mask_specs, args, rel, timings)
    _edit_and_save(model, photo, masks, src, out, styles, strengths, args, timings, protect)


def _print_timings(timings: dict, n: int = 1) -> None:
    keys = ["load"] + ["match"] * ("match" in timings) + ["edit", "upsample", "save"]
    parts = [f"{k} {timings.get(k, 0.0):.3f} s" for k in keys]
    total = sum(timings.get(k, 0.0) for k in keys)
    extra = f" over {n} images" if n > 1 else ""
    err(f"timings{extra}: " + ", ".join(parts) + f", total {total:.3f} s")


def _cmd_apply(args, model: EditModel | None) -> int:
    content = Path(args.content)
    if not content.exists():
        raise UsageError(f"{PROG} apply: error: '{display_path(content)}' does not exist")
    if not args.style:
        raise UsageError(f"{PROG} apply: error: give at least one --style")
    if args.global_:
        if args.mask:
            raise UsageError(f"{PROG} apply: error: --global edits the whole photo; drop --mask")
    elif len(args.mask) != len(args.style):
        raise UsageError(
            f"{PROG} apply: error: {len(args.style)} --style but {len(args.mask)} --mask; give one mask per style"
        )
    n = len(args.style)
    if not args.strength:
        strengths = [1.0] * n
    elif len(args.strength) == 1:
        strengths = args.strength * n
    elif len(args.strength) == n:
        strengths = list(args.strength)
    else:
        raise UsageError(f"{PROG} apply: error: give one --strength for all regions or one per region")
    if any(not (0.0 <= s <= MAX_STRENGTH) for s in strengths):
        raise UsageError(f"{PROG} apply: error: --strength must be between 0 and {MAX_STRENGTH:g}")
    if args.max_pixels <= 0:
        raise UsageError(f"{PROG} apply: error: --max-pixels must be positive")
    if args.smoothing is not None and not (0 <= args.smoothing <= MAX_SMOOTHING):
        raise UsageError(f"{PROG} apply: error: --smoothing must be between 0 and {MAX_SMOOTHING}")
    if len(args.pre_transfer) not in (0, 1, n):
        raise UsageError(f"{PROG} apply: error: give one --pre-transfer for all regions or one per region")
    if any(not (0.0 <= a <= 1.0) for a in args.pre_transfer):
        raise UsageError(f"{PROG} apply: error: --pre-transfer must be between 0 and 1")
    args.primings = (list(args.pre_transfer) if len(args.pre_transfer) == n
                     else (args.pre_transfer or [DEFAULT_PRE_TRANSFER]) * n)  # one per region, as RegionEdit takes it
    if not (args.priming_cap >= 0 and np.isfinite(args.priming_cap)):
        raise UsageError(f"{PROG} apply: error: --priming-cap must be 0 (no cap) or above")
    if not (args.detail_gain >= 0 and np.isfinite(args.detail_gain)):
        raise UsageError(f"{PROG} apply: error: --detail-gain must be 0 (no cap) or above")
    export_config(args)  # (every setting checked above: this only builds it)
    if len(args.style_mask) == 1 and args.style_mask[0].lower() == AUTO:
        args.style_mask = args.style_mask * n
    if args.style_mask and len(args.style_mask) != n:
        raise UsageError(f"{PROG} apply: error: {n} --style but {len(args.style_mask)} --style-mask; give one per "
                         "style ('none' for a style used whole)")
    style_mask_specs = [None if m.lower() == "none" else AUTO if m.lower() == AUTO else Path(m)
                        for m in args.style_mask] or [None] * n
    if args.global_ and AUTO in style_mask_specs:
        raise UsageError(f"{PROG} apply: error: --style-mask auto matches a region; it has no use with --global")
    for m in style_mask_specs:
        if m is not AUTO and m is not None and not m.is_file():
            raise UsageError(f"{PROG} apply: error: style mask '{display_path(m)}' does not exist")
    mask_specs = [Path(m) for m in args.mask]
    for m in mask_specs:
        if not m.exists():
            raise UsageError(f"{PROG} apply: error: mask '{display_path(m)}' does not exist")
    out = Path(args.output)
    batch = content.is_dir()
    if batch:
        if out.exists() and not out.is_dir():
            raise UsageError(
                f"{PROG} apply: error: batch mode needs -o to be a folder, '{display_path(out)}' is a file"
            )
        try:
            if out.exists() and os.path.samefile(out, content):
                raise UsageError(
                    f"{PROG} apply: error: -o is the input folder; choose another folder so the originals stay intact"
                )
        except OSError:
            pass
    else:
        if any(m.is_dir() for m in mask_specs):
            raise UsageError(f"{PROG} apply: error: a mask folder needs a folder of photos")
        if out.is_dir():
            out = out / (content.stem + _out_ext(content, args.format))
        elif out.suffix.lower() not in SAVE_FORMATS:
            raise UsageError(
                f"{PROG} apply: error: cannot write '{display_path(out)}': use a .png, .jpg, .webp or .tif name"
            )
        try:
            if out.exists() and os.path.samefile(out, content):
                raise UsageError(
                    f"{PROG} apply: error: refusing to save over the original photo '{display_path(out)}'; "
                    "choose another output name"
                )
        except OSError:
            pass
    inputs = Inputs()
    if not batch:
        inputs.add("content photo", content)
    for s in args.style:
        inputs.add("style reference", s)
    for m in style_mask_specs:
        if m is not AUTO and m is not None:
            inputs.add("style mask", m)
    for m in mask_specs:
        if m.is_dir():
            for f in iter_images(m, recursive=True):
                inputs.add("mask", f)
        else:
            inputs.add("mask", m)
    inputs.add("weights file", weights_file(args.weights))
    if batch:
        for m in mask_specs:
            try:
                if m.is_dir() and out.exists() and os.path.samefile(out, m):
                    raise UsageError(
                        f"{PROG} apply: error: -o is the mask folder '{display_path(m)}'; choose another folder "
                        "so the masks stay intact")
            except OSError:
                pass
    else:
        inputs.refuse("apply", [out])

    # The model (importing torch) loads on a thread while the images below are decoded.
    pending_model = model_in_background(args, model)
    # Inputs shared by every photo: style references (bad ones are fatal).
    max_px = int(args.max_pixels)
    try:
        styles_full = [load_image(s, max_pixels=max_px).rgb for s in args.style]
    except ImageLoadError as e:
        raise UsageError(f"{PROG} apply: error: style reference: {e}") from None
    try:
        style_masks_full = [m if m is None or m is AUTO else load_mask(m, size=(st.shape[1], st.shape[0]),
                                                                         max_pixels=max_px)
                            for m, st in zip(style_mask_specs, styles_full)]
    except (ImageLoadError, ValueError) as e:
        raise UsageError(f"{PROG} apply: error: style mask: {e}") from None
    timings: dict = {}
    if not batch:
        try:
            photo, masks = _load_one(content, mask_specs, args, Path(content.name), timings)
        except (ImageLoadError, ValueError) as e:
            pending_model()  # a model that cannot load is reported first (it used to load before the photo)
            raise UsageError(f"{PROG} apply: error: {e}") from None
    model = pending_model()
    styles = [_shrink_style(model, s) for s in styles_full]
    if AUTO in style_mask_specs:
        args.match_styles = [_small(s[:, :, :3]) for s in styles_full]
    args.style_masks_loaded = [m if m is None or m is AUTO else np.clip(_resize(np.ascontiguousarray(as_float_mask(m)),
                                                                      st.shape[:2]), 0, 1)
                               for m, st in zip(style_masks_full, styles)]
    del styles_full, style_masks_full

    if not batch:
        try:
            _edit_and_save(model, photo, masks, content, out, styles, strengths, args, timings, inputs.files())
        except (ImageLoadError, ImageSaveError, ValueError) as e:
            raise UsageError(f"{PROG} apply: error: {e}") from None
        if args.timings:
            _print_timings(timings)
        err(f"wrote {display_path(out)}")
        return 0

    out.mkdir(parents=True, exist_ok=True)
    out_res = out.resolve()
    photos = []
    for p in iter_images(content, recursive=True):
        try:
            if out_res == p.resolve().parent or out_res in p.resolve().parents:
                continue  # never re-process our own outputs
        except OSError:
            pass
        photos.append(p)
    if not photos:
        raise UsageError(f"{PROG} apply: error: no images (jpg, png, webp, tif, bmp) in '{display_path(content)}'")
    failed: list[tuple[Path, str]] = []
    n_ok = 0
    dsts = batch_output_names([p.relative_to(content) for p in photos], args.format)
    for p in photos:
        inputs.add("photo", p)
    inputs.refuse("apply", [out / d for d in dsts])  # before anything is written
    protect = inputs.files()
    for i, p in enumerate(photos, 1):
        rel = p.relative_to(content)
        dst = out / dsts[i - 1]
        t0 = time.perf_counter()
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            _process_one(model, p, dst, styles, mask_specs, strengths, args, rel, timings, protect)
        except (ImageLoadError, ImageSaveError, ValueError, OSError, MemoryError) as e:
            failed.append((rel, str(e)))
            err(f"[{i}/{len(photos)}] {display_path(rel)}: FAILED: {e}")
            continue
        n_ok += 1
        err(f"[{i}/{len(photos)}] {display_path(rel)} -> {display_path(dst)} ({time.perf_counter() - t0:.1f} s)")
        release_free_memory()  # a batch of large photos: give the freed full-res buffers back
    if args.timings:
        _print_timings(timings, len(photos))
    err(f"done: {n_ok} written, {len(failed)} failed")
    for rel, msg in failed:
        err(f"  failed: {display_path(rel)}: {msg}")
    return 1 if failed else 0


def batch_output_names(rels: list[Path], fmt: str | None) -> list[Path]:
    """Output paths (relative) for a batch: the photo's name with the output extension. Photos that
    would land on one name (a.jpg and a.png with --format png; A.jpg and a.JPG on a case-insensitive
    disk) all get their source extension added instead (a_jpg.png, a_png.png), so no result
    silently overwrites another."""
    plain = [rel.parent / (rel.stem + _out_ext(rel, fmt)) for rel in rels]
    count = Counter(str(d).lower() for d in plain)
    taken = set(count)
    out: list[Path] = []
    for rel, d in zip(rels, plain):
        if count[str(d).lower()] == 1:
            out.append(d)
            continue
        base = f"{rel.stem}_{rel.suffix.lstrip('.').lower() or 'img'}"
        cand, k = rel.parent / (base + d.suffix), 2
        while str(cand).lower() in taken:
            cand, k = rel.parent / f"{base}-{k}{d.suffix}", k + 1
        taken.add(str(cand).lower())
        err(f"note: several photos map to {display_path(d)}; {display_path(rel)} is written as {display_path(cand)}")
        out.append(cand)
    return out


def _animation_writer(frames: list[np.ndarray], fmt: str, duration: int):
    """write(f) of an animated GIF/WebP of `frames` (for `atomic_write_all`)."""
    from PIL import Image

    seq = frames + frames[-2:0:-1]  # ping-pong loop
    ims = [Image.fromarray(f) for f in seq]
    if fmt == "GIF":
        ims = [im.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE) for im in ims]
        kw = dict(save_all=True, append_images=ims[1:], duration=duration, loop=0, disposal=1)
    else:
        kw = dict(save_all=True, append_images=ims[1:], duration=duration, loop=0, quality=90, method=4)

    def write(f):
        ims[0].save(f, format=fmt, **kw)

    write.format = fmt
    return write


def _cmd_interpolate(args, model: EditModel | None) -> int:
    if args.steps < 2 or args.steps > 64:
        raise UsageError(f"{PROG} interpolate: error: --steps must be between 2 and 64")
    out = Path(args.output)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff") or out.suffix.lower() == ".webp":
        raise UsageError(
            f"{PROG} interpolate: error: -o must be an image path for the strip such as OUT.png "
            "(the animations are written next to it as OUT.gif and OUT.webp)"
        )
    gif, webp = out.with_suffix(".gif"), out.with_suffix(".webp")
    inputs = Inputs()
    inputs.add("first input (A)", args.a)
    inputs.add("second input (B)", args.b)
    inputs.add("weights file", weights_file(args.weights))
    inputs.refuse("interpolate", [out, gif, webp])  # the strip and both animations
    max_px = int(args.max_pixels)
    try:
        a = load_image(args.a, max_pixels=max_px).rgb
        b = load_image(args.b, max_pixels=max_px).rgb
    except ImageLoadError as e:
        raise UsageError(f"{PROG} interpolate: error: {e}") from None
    if not 16 <= args.long_side <= 8192:
        raise UsageError(f"{PROG} interpolate: error: --long-side must be between 16 and 8192")
    if args.smoothing is not None and not (0 <= args.smoothing <= MAX_SMOOTHING):
        raise UsageError(f"{PROG} interpolate: error: --smoothing must be between 0 and {MAX_SMOOTHING}")
    model = model_or_usage(args, model)
    if args.what == "style" and not args.network:
        frames = interpolate_photo(model, a, b, args.steps, long_side=args.long_side, smoothing=args.smoothing)
    else:
        frames = interpolate_images(model, a, b, args.what, args.steps)
    strip = np.concatenate(frames, axis=1)
    try:  # all three or none: a full disk after the strip must not leave it behind alone
        atomic_write_all([
            (out, image_writer(out, strip, overwrite_protect=inputs.files())),
            (gif, _animation_writer(frames, "GIF", args.duration)),
            (webp, _animation_writer(frames, "WEBP", args.duration)),
        ])
    except (ImageSaveError, ValueError) as e:
        raise UsageError(f"{PROG} interpolate: error: {e}") from None
    err(f"wrote {display_path(out)}, {display_path(gif)}, {display_path(webp)}")
    return 0


def main(argv: Sequence[str] | None = None, *, model: EditModel | None = None) -> int:
    """Run `apply` or `interpolate` (argv starts with the subcommand). Returns the exit code.

    `model` injects an already built TCPModel (tests, the GUI); otherwise --weights/--preset decide.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help
            return int(e.code or 0)
        if args.command is None:
            raise UsageError(f"{PROG}: error: choose a command: apply or interpolate (see --help)")
        if args.command == "apply":
            return _cmd_apply(args, model)
        return _cmd_interpolate(args, model)
    except UsageError as e:
        err(str(e))
        return 2
    except KeyboardInterrupt:
        err(f"{PROG}: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
