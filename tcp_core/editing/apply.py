"""Headless pipeline and CLI: `tcp-editor apply` and `tcp-editor interpolate`.

    tcp-editor apply PHOTO --style S --mask M [--style S2 --mask M2 ...] [--strength A ...]
                     [--global] [--weights SPEC] [--device D] [--max-pixels N] [--timings] -o OUT
    tcp-editor apply FOLDER --style S --mask M_OR_MASK_FOLDER ... -o OUT_FOLDER
    tcp-editor interpolate A B --what style|content --steps N -o OUT.png   (+ OUT.gif, OUT.webp)

Each region is edited on a crop around it (with context) at the network's working resolution,
then brought back to full resolution by `tcp_core.editing.fullres.upsample_edit` (local colour transform
+ feathered blend: pixels away from the mask stay bit-identical). Regions are successive edits.
EXIF (orientation reset) and ICC profiles are kept; alpha and 16-bit depth are carried through
(16-bit only to PNG/TIFF). No input (photo, style, mask, weights) is ever overwritten, in single
and batch mode, derived GIF/WebP files included.

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
from typing import Any

import cv2
import numpy as np

from tcp_core.base.errors import UsageError, UserError
from tcp_core.base.memory import release_free_memory
from tcp_core.editing.fullres import (
    DEFAULT_SMOOTHING,
    MAX_SMOOTHING,
    as_float_mask,
    auto_feather_px,
    region_crop_box,
    upsample_edit,
)
from tcp_core.io.imageio import (
    DEFAULT_MAX_PIXELS,
    SAVE_FORMATS,
    ImageLoadError,
    ImageSaveError,
    LoadedImage,
    atomic_write_all,
    display_path,
    file_id,
    image_writer,
    iter_images,
    load_image,
    load_mask,
    save_image,
    to_uint8,
)

__all__ = ["RegionSpec", "apply_regions", "interpolate_images", "main", "working_shape"]

RegionSpec = tuple  # (style_rgb HxWx3 uint8, mask_full HxW float [0,1] | None, strength float[, style_mask HxW])

PROG = "tcp-editor"


# ----------------------------------------------------------------------------------------------
# pipeline


def working_shape(model: Any, h: int, w: int) -> tuple[int, int]:
    """(height, width) the model works at for an h x w input (so it does not resample again)."""
    from tcp_core.editing.inference import size_multiple, working_size

    cfg = model.config
    return tuple(working_size(h, w, cfg.resolution, size_multiple(cfg)))


def _resize(img: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    h, w = hw
    if img.shape[:2] == (h, w):
        return img
    interp = cv2.INTER_AREA if (img.shape[0] >= h and img.shape[1] >= w) else cv2.INTER_LINEAR
    return cv2.resize(img, (w, h), interpolation=interp)


def _shrink_style(model: Any, style: np.ndarray) -> np.ndarray:
    """Style reference at (about) the model's working size: the model would resize it anyway."""
    style = to_uint8(np.asarray(style))
    if style.ndim == 2:
        style = np.repeat(style[:, :, None], 3, axis=2)
    style = style[:, :, :3]
    h, w = style.shape[:2]
    wh, ww = working_shape(model, h, w)
    if h > wh and w > ww:
        style = _resize(style, (wh, ww))
    return np.ascontiguousarray(style)


def _add(timings: dict | None, key: str, t0: float) -> float:
    t1 = time.perf_counter()
    if timings is not None:
        timings[key] = timings.get(key, 0.0) + (t1 - t0)
    return t1


def apply_regions(
    model: Any,
    photo: LoadedImage | np.ndarray,
    regions: Sequence[RegionSpec],
    *,
    global_: bool = False,
    crop: bool = True,
    feather_px: float | None = None,
    margin: float = 0.25,
    inside: bool = False,
    timings: dict | None = None,
    keyframe_step: float | None = None,
    smoothing: float | None = None,
) -> np.ndarray:
    """Edit `photo` (full resolution) with successive region edits; returns the full-res result.

    regions: (style_rgb, mask_full, strength) tuples; mask_full is HxW of the photo's size in
    [0, 1] (float, uint8 or bool). With `global_=True` every entry is a global swap (its mask is
    ignored) blended over the whole image. `crop=True` runs the network on a crop around each
    region (bbox + `margin` context), so a small region gets the model's full resolution.
    The result has the photo's dtype (uint8, or uint16 for a 16-bit photo) and never touches
    pixels where the feathered mask is 0 (`inside=True` feathers inside the mask, so nothing outside
    the mask changes at all). `timings` (a dict) accumulates seconds under "edit"
    (network + its resizes) and "upsample" (full-res reconstruction). `keyframe_step` makes
    strengths between cached key frames approximate and fast (interactive slider previews;
    `TCPModel._swap_features`); the default None is exact. `smoothing` is the colour smoothing of the
    full-resolution reconstruction (0..`fullres.MAX_SMOOTHING`, None = `fullres.DEFAULT_SMOOTHING`):
    higher values keep more of the photo's own texture and follow the network's local colours less
    closely.
    """
    cur = photo.rgb if isinstance(photo, LoadedImage) else np.asarray(photo)
    if cur.ndim != 3 or cur.shape[2] != 3 or cur.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"photo must be HxWx3 uint8/uint16, got {cur.shape} {cur.dtype}")
    cur = cur.copy()
    H, W = cur.shape[:2]
    for i, region in enumerate(regions):
        region = tuple(region)
        style, mask = region[0], region[1]
        strength = region[2] if len(region) > 2 else 1.0
        style_mask = region[3] if len(region) > 3 else None
        t0 = time.perf_counter()
        style_lo = _shrink_style(model, style)
        by_part = {}  # the style from a part of the reference (masked pooling), only when asked for
        if style_mask is not None:
            sm = np.asarray(style_mask)
            if sm.shape[:2] != np.asarray(style).shape[:2]:
                raise ValueError(f"style mask {i + 1} is {sm.shape[1]}x{sm.shape[0]}, its style photo is "
                                 f"{np.asarray(style).shape[1]}x{np.asarray(style).shape[0]}")
            by_part["style_mask"] = np.clip(_resize(np.ascontiguousarray(as_float_mask(sm)), style_lo.shape[:2]), 0, 1)
        if global_:
            box = (0, 0, W, H)
            m_crop = np.ones((H, W), np.float32)
        else:
            if mask is None:
                raise ValueError(f"region {i + 1} has no mask (use global mode for whole-image edits)")
            m_full = np.asarray(mask)
            if m_full.shape[:2] != (H, W):
                raise ValueError(f"mask {i + 1} is {m_full.shape[1]}x{m_full.shape[0]}, the photo is {W}x{H}")
            box = region_crop_box(m_full, margin=margin) if crop else (0, 0, W, H)
            if box is None or not np.any(m_full):
                continue  # empty mask: nothing to edit
            if feather_px:  # the feather must fit inside the crop, or it would be cut off
                g = int(np.ceil(feather_px)) + 2
                box = (max(0, box[0] - g), max(0, box[1] - g), min(W, box[2] + g), min(H, box[3] + g))
            x0, y0, x1, y1 = box
            m_crop = m_full[y0:y1, x0:x1]
        x0, y0, x1, y1 = box
        full_crop = cur[y0:y1, x0:x1]
        wh, ww = working_shape(model, y1 - y0, x1 - x0)
        lo_src = _resize(to_uint8(full_crop), (wh, ww))
        # lo_ref: the same edit at strength 0 (the photo's own style). The colour transform is fitted
        # from it to the edit, so only what the style changed reaches the photo (not the network's
        # reconstruction error) and strength 0 leaves the photo as it is.
        if global_:
            lo_res = model.swap(lo_src, style_lo, float(strength), **by_part)
            lo_ref = model.swap(lo_src, style_lo, 0.0)
        else:
            lo_mask = np.clip(_resize(np.ascontiguousarray(as_float_mask(m_crop)), (wh, ww)), 0, 1)
            fast = {"keyframe_step": keyframe_step} if keyframe_step else {}  # (models without it work too)
            lo_res = model.region_edit(lo_src, style_lo, lo_mask, float(strength), **fast, **by_part)
            own = getattr(model, "own_style_edit", None)
            lo_ref = own(lo_src, lo_mask) if own is not None else model.region_edit(lo_src, style_lo, lo_mask, 0.0)
        lo_res, lo_ref = (_resize(np.asarray(x), (wh, ww)) for x in (lo_res, lo_ref))
        t0 = _add(timings, "edit", t0)
        fp = feather_px if feather_px is not None else auto_feather_px(full_crop.shape, lo_src.shape)
        if global_:
            fp = 0  # a full mask needs no feathering
        cur[y0:y1, x0:x1] = upsample_edit(full_crop, lo_ref, lo_res, m_crop, fp, inside=inside,
                                          smoothing=smoothing)
        _add(timings, "upsample", t0)
    return cur


def interpolate_images(
    model: Any, a: np.ndarray, b: np.ndarray, what: str = "style", steps: int = 5
) -> list[np.ndarray]:
    """Frames blending a -> b (style or content codes) at the model's working size of `a`."""
    a8, b8 = to_uint8(np.asarray(a)), to_uint8(np.asarray(b))
    wh, ww = working_shape(model, *a8.shape[:2])
    a_lo = _resize(a8, (wh, ww))
    b_lo = _resize(b8, (wh, ww))  # content interpolation needs both at one size
    return [np.asarray(f) for f in model.interpolate(a_lo, b_lo, what=what, steps=steps)]


def interpolate_photo(
    model: Any, a: np.ndarray, b: np.ndarray, steps: int = 5, *, long_side: int = 1024,
    smoothing: float | None = None,
) -> list[np.ndarray]:
    """Style interpolation as the editor shows it: `steps` frames of `a` at its own resolution (long
    side at most `long_side`) whose colours move from a's own style (frame 0 is `a`) to b's. Each
    network frame's change from the own-style frame is carried to the photo by the colour
    transform of the export path, so the photo's detail is kept."""
    a8 = to_uint8(np.asarray(a))
    h, w = a8.shape[:2]
    s = min(1.0, long_side / max(h, w))
    disp = _resize(a8, (max(1, round(h * s)), max(1, round(w * s))))
    frames = interpolate_images(model, disp, b, "style", steps)
    ones = np.ones(disp.shape[:2], np.float32)
    return [upsample_edit(disp, frames[0], f, ones, 0, smoothing=smoothing) for f in frames]


# ----------------------------------------------------------------------------------------------
# CLI


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
        "--strength", action="append", type=float, default=[], help="0..1; one for all regions or one per region"
    )
    a.add_argument("--style-mask", action="append", default=[], metavar="MASK",
                   help="take the style from part of the style photo only (a mask of the style photo's size, "
                        "white = use); one per --style in order, 'none' for a style used whole")
    a.add_argument("--global", dest="global_", action="store_true", help="global style transfer (no masks)")
    a.add_argument("--weights", default=None, help="model: path, hf://OWNER/REPO/FILE.safetensors, or default")
    a.add_argument("--preset", default=None, help=argparse.SUPPRESS)  # random-init model (tests/demos)
    a.add_argument("--device", default="auto", help="auto, cpu, cuda or mps (default auto)")
    a.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"],
                   help="auto: bf16 where the device runs it natively, else fp32 (default auto)")
    a.add_argument("--max-pixels", type=float, default=DEFAULT_MAX_PIXELS, help="refuse larger images")
    a.add_argument("--feather", type=float, default=None, help="mask feather radius in pixels (default: auto)")
    a.add_argument("--smoothing", type=float, default=None, metavar="S",
                   help=f"colour smoothing 0-{MAX_SMOOTHING} of the colour transform that carries the edit to full "
                        f"resolution (default {DEFAULT_SMOOTHING}): low follows the network's local colours, high "
                        "keeps more of the photo's own texture")
    a.add_argument("--inside", action="store_true", help="feather inside the mask: no pixel outside the mask changes")
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


def _err(msg: str) -> None:
    sys.stderr.write(msg.replace("\n", " ") + "\n")
    sys.stderr.flush()


def _model_or_usage(args, model: Any) -> Any:
    if model is not None:
        return model
    try:
        from tcp_core.editing.inference import load_model

        return load_model(args.weights, args.device, getattr(args, "precision", "auto"), preset=args.preset)
    except ImportError as e:
        raise UsageError(f"{PROG}: error: the model code is not available ({e})") from None
    except UserError as e:  # weights not found, bad checkpoint, device unavailable...
        raise UsageError(f"{PROG}: error: cannot load the model: {e}") from None


class _Inputs:
    """The files a command reads (photos, style references, masks, weights), so that no output
    (a result, a batch result, a derived GIF/WebP) is ever written onto one of them: by path,
    through a symlink, a hard link or another spelling of the name (compared by device and inode)."""

    def __init__(self) -> None:
        self._ids: dict[tuple[int, int], tuple[str, Path]] = {}

    def add(self, role: str, path: str | os.PathLike | None) -> None:
        if path is None:
            return
        p = Path(path)
        fid = file_id(p)
        if fid is not None and p.is_file():
            self._ids.setdefault(fid, (role, p))

    def files(self) -> list[Path]:
        return [p for _role, p in self._ids.values()]

    def hit(self, out: Path) -> tuple[str, Path] | None:
        """(role, input path) when writing `out` would replace one of the inputs, else None."""
        fid = file_id(out)
        return self._ids.get(fid) if fid is not None else None

    def refuse(self, cmd: str, outs: Sequence[Path]) -> None:
        for out in outs:
            hit = self.hit(out)
            if hit is not None:
                role, src = hit
                same = "" if os.path.abspath(src) == os.path.abspath(out) else f" ('{display_path(src)}')"
                raise UsageError(
                    f"{PROG} {cmd}: error: refusing to write '{display_path(out)}': it is the {role}{same}, an "
                    "input of this command; choose another output name so the inputs stay intact")


def _weights_file(spec: str | None) -> str | None:
    """The local weights file of --weights, if it names one (not hf:// or default)."""
    if not spec or "://" in spec:
        return None
    return spec if os.path.isfile(spec) else None


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


def _process_one(
    model: Any,
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
    t0 = time.perf_counter()
    max_px = int(args.max_pixels)
    photo = load_image(src, max_pixels=max_px, keep_alpha=True, keep_16bit=True)
    masks = [None] * len(styles)
    if not args.global_:
        masks = [load_mask(_find_mask(m, rel), size=photo.size, max_pixels=max_px) for m in mask_specs]
    t0 = _add(timings, "load", t0)
    style_masks = getattr(args, "style_masks_loaded", None) or [None] * len(styles)
    regions = list(zip(styles, masks, strengths, style_masks))
    result = apply_regions(
        model,
        photo,
        regions,
        global_=args.global_,
        crop=not args.no_crop,
        feather_px=args.feather,
        inside=args.inside,
        smoothing=args.smoothing,
        timings=timings,
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


def _print_timings(timings: dict, n: int = 1) -> None:
    keys = ["load", "edit", "upsample", "save"]
    parts = [f"{k} {timings.get(k, 0.0):.3f} s" for k in keys]
    total = sum(timings.get(k, 0.0) for k in keys)
    extra = f" over {n} images" if n > 1 else ""
    _err(f"timings{extra}: " + ", ".join(parts) + f", total {total:.3f} s")


def _cmd_apply(args, model: Any) -> int:
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
    if any(not (0.0 <= s <= 1.0) for s in strengths):
        raise UsageError(f"{PROG} apply: error: --strength must be between 0 and 1")
    if args.max_pixels <= 0:
        raise UsageError(f"{PROG} apply: error: --max-pixels must be positive")
    if args.smoothing is not None and not (0 <= args.smoothing <= MAX_SMOOTHING):
        raise UsageError(f"{PROG} apply: error: --smoothing must be between 0 and {MAX_SMOOTHING}")
    if args.style_mask and len(args.style_mask) != n:
        raise UsageError(f"{PROG} apply: error: {n} --style but {len(args.style_mask)} --style-mask; give one per "
                         "style ('none' for a style used whole)")
    style_mask_specs = [None if m.lower() == "none" else Path(m) for m in args.style_mask] or [None] * n
    for m in style_mask_specs:
        if m is not None and not m.is_file():
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
    inputs = _Inputs()
    if not batch:
        inputs.add("content photo", content)
    for s in args.style:
        inputs.add("style reference", s)
    for m in style_mask_specs:
        if m is not None:
            inputs.add("style mask", m)
    for m in mask_specs:
        if m.is_dir():
            for f in iter_images(m, recursive=True):
                inputs.add("mask", f)
        else:
            inputs.add("mask", m)
    inputs.add("weights file", _weights_file(args.weights))
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

    # Inputs shared by every photo: style references (bad ones are fatal).
    max_px = int(args.max_pixels)
    try:
        styles_full = [load_image(s, max_pixels=max_px).rgb for s in args.style]
    except ImageLoadError as e:
        raise UsageError(f"{PROG} apply: error: style reference: {e}") from None
    try:
        style_masks_full = [None if m is None else load_mask(m, size=(st.shape[1], st.shape[0]), max_pixels=max_px)
                            for m, st in zip(style_mask_specs, styles_full)]
    except (ImageLoadError, ValueError) as e:
        raise UsageError(f"{PROG} apply: error: style mask: {e}") from None
    model = _model_or_usage(args, model)
    styles = [_shrink_style(model, s) for s in styles_full]
    args.style_masks_loaded = [None if m is None else np.clip(_resize(np.ascontiguousarray(as_float_mask(m)),
                                                                      st.shape[:2]), 0, 1)
                               for m, st in zip(style_masks_full, styles)]
    del styles_full, style_masks_full

    timings: dict = {}
    if not batch:
        try:
            _process_one(model, content, out, styles, mask_specs, strengths, args, Path(content.name), timings,
                         inputs.files())
        except (ImageLoadError, ImageSaveError, ValueError) as e:
            raise UsageError(f"{PROG} apply: error: {e}") from None
        if args.timings:
            _print_timings(timings)
        _err(f"wrote {display_path(out)}")
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
            _err(f"[{i}/{len(photos)}] {display_path(rel)}: FAILED: {e}")
            continue
        n_ok += 1
        _err(f"[{i}/{len(photos)}] {display_path(rel)} -> {display_path(dst)} ({time.perf_counter() - t0:.1f} s)")
        release_free_memory()  # a batch of large photos: give the freed full-res buffers back
    if args.timings:
        _print_timings(timings, len(photos))
    _err(f"done: {n_ok} written, {len(failed)} failed")
    for rel, msg in failed:
        _err(f"  failed: {display_path(rel)}: {msg}")
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
        _err(f"note: several photos map to {display_path(d)}; {display_path(rel)} is written as {display_path(cand)}")
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


def _cmd_interpolate(args, model: Any) -> int:
    if args.steps < 2 or args.steps > 64:
        raise UsageError(f"{PROG} interpolate: error: --steps must be between 2 and 64")
    out = Path(args.output)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff") or out.suffix.lower() == ".webp":
        raise UsageError(
            f"{PROG} interpolate: error: -o must be an image path for the strip such as OUT.png "
            "(the animations are written next to it as OUT.gif and OUT.webp)"
        )
    gif, webp = out.with_suffix(".gif"), out.with_suffix(".webp")
    inputs = _Inputs()
    inputs.add("first input (A)", args.a)
    inputs.add("second input (B)", args.b)
    inputs.add("weights file", _weights_file(args.weights))
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
    model = _model_or_usage(args, model)
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
    _err(f"wrote {display_path(out)}, {display_path(gif)}, {display_path(webp)}")
    return 0


def main(argv: Sequence[str] | None = None, *, model: Any = None) -> int:
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
        _err(str(e))
        return 2
    except KeyboardInterrupt:
        _err(f"{PROG}: interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
