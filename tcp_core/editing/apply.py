"""The export pipeline (what `tcp-editor apply`, the editor's export and preview, and the evaluation's
`tcp_final` run): successive region edits at full resolution, and style/content interpolation.

Each region is edited on a crop around it (with context) at the network's working resolution,
then brought back to full resolution by `tcp_core.editing.fullres.upsample_edit` (local colour transform
+ feathered blend: pixels away from the mask stay bit-identical). Regions are successive edits.
The command lines over this are in `tcp_core.editing.cli`.

torch and `tcp_core.editing.inference` are imported lazily, so this module imports without them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import cv2
import numpy as np

from tcp_core.base.constants import (
    DEFAULT_PRIMING_CAP,
    DEFAULT_PRIMING_HIGHLIGHTS,
    DEFAULT_PRIMING_OBJECTS,
    DEFAULT_PRIMING_PROFILE,
    DEFAULT_PRIMING_SPREAD,
)
from tcp_core.colour.priming import prime_region, priming_options
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.fullres import photo_flatness, upsample_edit
from tcp_core.editing.guided import guided_filter
from tcp_core.editing.masks import (
    CROP_MARGIN,
    as_float_mask,
    auto_feather_px,
    feather_reach,
    grow_mask,
    region_crop_box,
)
from tcp_core.editing.regions import EditModel, RegionEdit
from tcp_core.io.imageio import LoadedImage, to_uint8

# With `inside=True` the network edits the mask grown by this many pixels of a 128 px (short side)
# working image, scaled with the working size: the network's region edit fades in over about 4-6 of
# them inside its mask (Eq. 5-6 mix content features at 1/4 resolution), so an edit of the mask
# itself would be weak along the selection's edge; the grown edit is at about 80 % of full strength
# there and the inside feather cuts it at the selection. Measured on the bundled model (held-out
# region pair FallenLeaf / Path, mask 4): |edit - own-style edit| is 49 % of the interior's on the
# mask's border ring and 95 % at 6-8 px inside.
INSIDE_GROW_REF_PX = 3.0

__all__ = ["ExportConfig", "apply_regions", "interpolate_images", "interpolate_photo", "restyle_photo", "working_shape"]


# ----------------------------------------------------------------------------------------------
# pipeline


def working_shape(model: EditModel, h: int, w: int) -> tuple[int, int]:
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


def _shrink_style(model: EditModel, style: np.ndarray) -> np.ndarray:
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
    model: EditModel,
    photo: LoadedImage | np.ndarray,
    regions: Sequence[RegionEdit],
    config: ExportConfig | None = None,
    *,
    global_: bool = False,
    crop: bool = True,
    feather_px: float | None = None,
    margin: float = CROP_MARGIN,
    timings: dict | None = None,
    keyframe_step: float | None = None,
) -> np.ndarray:
    """Edit `photo` (full resolution) with successive region edits; returns the full-res result.

    regions: `RegionEdit`s; each mask is HxW of the photo's size in [0, 1] (float, uint8 or bool).
    `config` (`ExportConfig`; None: today's defaults) is how each edit is rendered around the network; its fields
    below. With `global_=True` every entry is a global swap (its mask is ignored, may be None) blended
    over the whole image. `crop=True` runs the network on a crop around each
    region (bbox + `margin` context), so a small region gets the model's full resolution.
    The result has the photo's dtype (uint8, or uint16 for a 16-bit photo) and never touches
    pixels where the feathered mask is 0 (edge "inside" feathers inside the mask, so nothing outside
    the mask changes at all, and the network edits the mask grown by `INSIDE_GROW_REF_PX` so the edit
    keeps its strength up to the selection's edge). `timings` (a dict) accumulates seconds under "edit"
    (network + its resizes) and "upsample" (full-res reconstruction). `keyframe_step` makes
    strengths between cached key frames approximate and fast (interactive slider previews;
    `TCPModel._swap_features`); the default None is exact.

    The config's fields:
    `smoothing` is the colour smoothing of the
    full-resolution reconstruction (0..`fullres.MAX_SMOOTHING`, None = `fullres.DEFAULT_SMOOTHING`):
    higher values keep more of the photo's own texture and follow the network's local colours less
    closely. `interior` "guided" (the default since session 29) or "fixed" takes the global swap's colours away
    from each region's border (`swap_in_interior`) with a ramp that follows the photo (wider where the border
    crosses smooth parts of it) or a fixed one of SWAP_INTERIOR_PX; "off" exports the region edit (Eq. 5-6) alone.
    `interior_fill` "primed" fills that inside with the primed photo itself instead of the network's swap of it (the
    classical transfer inside, the network's region edit at the border; docs/training/s44/).
    `priming` (0..1, colour priming, `tcp_core.colour.priming`; default DEFAULT_PRE_TRANSFER): what the export
    takes inside each region (the global swap with a swap interior, else the region edit) is the network's edit of
    a copy of the photo whose region was first moved that far towards the reference's colours by a classical colour
    transfer (scaled by the strength up to 1, so strength 0 still leaves the photo as it is), so the content code no
    longer pulls the edit back to the photo's own colours. With a swap interior the region edit at the border sees
    the photo itself, so the border keeps the unprimed edit's seams (priming both drew bands along the edge:
    docs/training/s36/). 0 is the network's edit of the photo itself. A region's own `RegionEdit.pre_transfer`
    (not None) replaces it for that region.
    `guided_feather` (default) lets each region's feather follow the photo (`masks.feather_window`: as sharp as
    the photo's edge where the mask's edge runs along one, wider where it crosses smooth parts of the photo);
    False feathers with a plain blur of the mask. `priming_cap` caps the priming's spread ratio
    (`priming.prime_region(max_spread=...)`; None: Reinhard's own). `priming_profile` (`priming.PRIMING_PROFILES`):
    "global" primes each region towards one Lab mean, "rows" towards the reference's row by row (a sunset sky's
    gradient); a region whose reference has no style mask reads the reference's rows at the region's own place
    in the photo (`prime_region(ref_rows=...)`). `priming_spread` (`priming.PRIMING_SPREADS`): what priming's spread
    ratio stretches, "all" of each region's variation or only its "detail" (`priming.scaled_spread`).
    `priming_highlights` (`priming.PRIMING_HIGHLIGHTS`): "neutral" gives clipped highlights no colour of their own
    (the sun's white disk takes the reference's colour at its row, not its opposite; `priming.clipped_highlights`),
    "plain" is Reinhard's transfer of every pixel.
    `detail_gain`: the most the colour transform that carries each edit to full resolution amplifies the photo's own
    detail (`fullres.upsample_edit`; None: no cap). `priming_part` (PRIMING_PARTS), for a region without a style mask:
    "place" primes towards the reference's rows at the region's own place in its photo (`priming_options`), "match"
    towards the part of the reference that matches the region (`TCPModel.match_style_part`: a sky's reference sky,
    not its mountains), for the priming only: the network still takes the whole reference's style; "auto" matches
    only for a smooth region (mean `fullres.photo_flatness` over it at least MATCH_FLATNESS: a clear sky, fog, a
    blurred background), where the match won on the tuning pairs, and reads the rows at its place otherwise (grass,
    beaches and fields took blotches from a matched part). `priming_objects` (PRIMING_OBJECTS): "keep" leaves what a
    textured region holds that is not its material (a rock or a path in a meadow, boats on a beach;
    `priming.object_weight`) unprimed, so it keeps its colour; in a smooth region (a sky, fog: mean `photo_flatness`
    at least MATCH_FLATNESS) the odd pixels are clouds and the sun, and everything is primed.
    """
    cfg = ExportConfig.resolve(config)
    cur = photo.rgb if isinstance(photo, LoadedImage) else np.asarray(photo)
    if cur.ndim != 3 or cur.shape[2] != 3 or cur.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"photo must be HxWx3 uint8/uint16, got {cur.shape} {cur.dtype}")
    cur = cur.copy()
    H, W = cur.shape[:2]
    for i, region in enumerate(regions):
        style, mask, strength, style_mask = region.style, region.mask, region.strength, region.style_mask
        priming = cfg.priming if region.pre_transfer is None else region.pre_transfer  # (0..1: RegionEdit checks)
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
            if box is None or (not crop and not np.any(m_full)):
                continue  # empty mask: nothing to edit (a crop box exists only for a non-empty mask)
            if feather_px:  # the feather must fit inside the crop, or it would be cut off
                g = feather_reach(np.ceil(feather_px), cfg.guided_feather) + 2
                box = (max(0, box[0] - g), max(0, box[1] - g), min(W, box[2] + g), min(H, box[3] + g))
            x0, y0, x1, y1 = box
            m_crop = m_full[y0:y1, x0:x1]
        prime = priming_options(cfg.priming_profile, None if global_ else m_full, style_mask, cfg.priming_spread,
                                cfg.priming_highlights)
        x0, y0, x1, y1 = box
        full_crop = cur[y0:y1, x0:x1]
        wh, ww = working_shape(model, y1 - y0, x1 - x0)
        lo_src = _resize(to_uint8(full_crop), (wh, ww))
        # lo_ref: the same edit at strength 0 (the photo's own style). The colour transform is fitted
        # from it to the edit, so only what the style changed reaches the photo (not the network's
        # reconstruction error) and strength 0 leaves the photo as it is.
        if global_:
            lo_mask = np.ones((wh, ww), np.float32)
        else:
            lo_mask = np.clip(_resize(as_float_mask(m_crop), (wh, ww)), 0, 1)  # (OpenCV reads the strided crop)
            if cfg.inside:
                lo_mask = grow_mask(lo_mask, INSIDE_GROW_REF_PX * min(wh, ww) / 128)
        # whether the region is smooth (a sky, fog), asked once and only by the opt-in settings that need it
        smooth = (not global_ and (cfg.priming_objects != "prime" or cfg.priming_part == "auto")
                  and _smooth_region(lo_src, lo_mask))
        if cfg.priming_objects != "prime" and not global_ and not smooth:
            prime = {**prime, "objects": cfg.priming_objects}  # (a smooth region's odd pixels are clouds, the sun)
        prime_mask = by_part.get("style_mask")  # what priming reads of the reference (None: `prime`'s rows or all)
        if (cfg.priming_part != "place" and prime_mask is None and not global_ and priming > 0 and strength > 0
                and (cfg.priming_part == "match" or smooth)):
            prime_mask = np.asarray(model.match_style_part(lo_src, lo_mask, style_lo), np.float32)
            prime = {**prime, "ref_rows": None}
        # colour priming reaches what fills the region: the swap (global, or inside with a swap interior), else the edit
        if global_:
            lo_res = _primed_swap(model, lo_src, style_lo, lo_mask, priming, float(strength), by_part,
                                  cap=cfg.priming_cap, prime_mask=prime_mask, **prime)
            lo_ref = model.swap(lo_src, style_lo, 0.0)
        else:
            fast = {"keyframe_step": keyframe_step} if keyframe_step else {}  # (models without it work too)
            lo_edit_in = lo_src if cfg.swap_interior else prime_region(  # unprimed at the border under the swap
                lo_src, style_lo, lo_mask, priming * min(1.0, float(strength)), prime_mask, cfg.priming_cap, **prime)
            lo_res = model.region_edit(lo_edit_in, style_lo, lo_mask, float(strength), **fast, **by_part)
            lo_ref = model.own_style_edit(lo_src, lo_mask)
        lo_res, lo_ref = (_resize(np.asarray(x), (wh, ww)) for x in (lo_res, lo_ref))
        if cfg.swap_interior and not global_:
            if cfg.interior_fill == "primed":
                # the inside is the primed photo itself (the classical transfer), the border the region edit's
                sw_res = prime_region(lo_src, style_lo, lo_mask, priming * min(1.0, float(strength)), prime_mask,
                                      cfg.priming_cap, **prime)
                sw_ref = lo_src
            else:
                # the swap at strength 0 is G(C_A, S_A) whatever the reference: asked with the photo as its own
                # reference it is the one the strength-0 region edit above already computed (cached)
                sw_res = _resize(_primed_swap(model, lo_src, style_lo, lo_mask, priming, float(strength), by_part,
                                              keyframe_step, cfg.priming_cap, prime_mask=prime_mask, **prime),
                                 (wh, ww))
                sw_ref = _resize(np.asarray(model.swap(lo_src, lo_src, 0.0)), (wh, ww))
            lo_res, lo_ref = swap_in_interior(lo_res, lo_ref, sw_res, sw_ref, lo_mask,
                                              lo_src if cfg.interior == "guided" else None)
        t0 = _add(timings, "edit", t0)
        fp = feather_px if feather_px is not None else auto_feather_px(full_crop.shape, lo_src.shape)
        if global_:
            fp = 0  # a full mask needs no feathering
        # in place: full_crop is a view of `cur`, this function's own copy of the photo
        upsample_edit(full_crop, lo_ref, lo_res, m_crop, fp, inside=cfg.inside, smoothing=cfg.smoothing,
                      in_place=True, guided=cfg.guided_feather, detail_gain=cfg.detail_gain, lo_photo=lo_src)
        _add(timings, "upsample", t0)
    return cur


MATCH_FLATNESS = 0.5  # priming_part "auto": the mean photo_flatness from which a region counts as smooth


def _smooth_region(lo_src: np.ndarray, lo_mask: np.ndarray) -> bool:
    """Whether a region is smooth enough for priming_part "auto" to match (mean `photo_flatness` over it)."""
    inside = lo_mask > 0.5
    return bool(inside.any()) and float(photo_flatness(lo_src, lo_mask)[inside].mean()) >= MATCH_FLATNESS


def _primed_swap(model: EditModel, lo_src: np.ndarray, style_lo: np.ndarray, lo_mask: np.ndarray, pre_transfer: float,
                 strength: float, by_part: dict, keyframe_step: float | None = None,
                 cap: float | None = DEFAULT_PRIMING_CAP, profile: str = DEFAULT_PRIMING_PROFILE,
                 ref_rows: tuple[float, float] | None = None, spread: str = DEFAULT_PRIMING_SPREAD,
                 prime_mask: np.ndarray | None = None,
                 highlights: str = DEFAULT_PRIMING_HIGHLIGHTS, objects: str = DEFAULT_PRIMING_OBJECTS) -> np.ndarray:
    """The global swap of `lo_src` primed for `strength` (`prime_region` by pre_transfer * min(1, strength) within
    lo_mask), uint8 at the working size. With `keyframe_step` (slider drags) and priming on, it is interpolated
    between the primed swaps at the neighbouring multiples of the step, which stay in the model's caches: every
    strength would otherwise prime a new photo and encode it (exact at the key frames, like
    `TCPModel._swap_features`). `profile`, `ref_rows`, `spread`, `highlights`, `objects`: `prime_region`'s;
    `prime_mask`: the part of the reference priming reads (`apply_regions` passes the network's style mask or the
    matched part; None: all of it)."""
    def at(t: float) -> np.ndarray:
        lo_in = prime_region(lo_src, style_lo, lo_mask, pre_transfer * min(1.0, t), prime_mask, cap,
                             profile, ref_rows, spread, highlights, objects)
        return np.asarray(model.swap(lo_in, style_lo, t, **by_part))

    if not keyframe_step or keyframe_step <= 0 or pre_transfer == 0:
        return at(strength)
    pos = strength / keyframe_step
    lo = math.floor(pos + 1e-6)
    frac = pos - lo
    a = at(lo * keyframe_step)
    if frac < 1e-6:
        return a
    b = at((lo + 1) * keyframe_step).astype(np.float32)
    return np.clip(a + frac * (b - a) + 0.5, 0, 255).astype(np.uint8)


SWAP_INTERIOR_PX = (1.0, 4.0)  # the interior ramp, in pixels of a 128 px network image
SWAP_INTERIOR_GUIDE = (16.0, 1e-3)  # the image-guided ramp: guided filter radius (128 px units), eps


def interior_weight(mask: np.ndarray, guide: np.ndarray | None = None) -> np.ndarray:
    """The global swap's weight in `swap_in_interior` (HxW in [0, 1], 0 outside the mask): a ramp from
    SWAP_INTERIOR_PX[0] to SWAP_INTERIOR_PX[1] network pixels inside the mask's edge. With the photo as
    `guide` (HxWx3 uint8 at the network's size) the ramp follows it: where the mask's edge runs along an
    edge of the photo (a skyline) it stays as narrow, and where the edge crosses smooth parts of the photo
    (a sky) it widens to about SWAP_INTERIOR_GUIDE[0] pixels, so the switch from the region edit's colours
    to the swap's fades out instead of drawing a band along the edge."""
    h, w_ = mask.shape
    px = 128.0 / min(h, w_)  # 128 px units per pixel
    binary = (mask > 0.5).astype(np.float32)
    # (a mask without a zero pixel has no edge: OpenCV answers a huge distance, capped so the scaling stays finite)
    d = np.minimum(cv2.distanceTransform(binary.astype(np.uint8), cv2.DIST_L2, 3), 1e6) * px
    lo, hi = SWAP_INTERIOR_PX
    w = np.clip((d - lo) / (hi - lo), 0.0, 1.0)
    if guide is None:
        return w
    radius, eps = SWAP_INTERIOR_GUIDE
    q = guided_filter(guide.astype(np.float64) / 255.0, binary, max(1, round(radius / px)), eps)
    return np.minimum(w, np.clip(2.0 * q - 1.0, 0.0, 1.0)) * binary


def swap_in_interior(edit: np.ndarray, edit_ref: np.ndarray, swap: np.ndarray, swap_ref: np.ndarray,
                     mask: np.ndarray, guide: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The export's pair (result, reference) with the global swap's colours inside the region and the
    region edit's (Eq. 5-6) near its border (`apply --swap-interior`): weight w of the swap from
    `interior_weight` (0 up to SWAP_INTERIOR_PX[0] network pixels inside the mask's edge, 1 from
    SWAP_INTERIOR_PX[1]; wider where the edge crosses smooth parts of `guide`, the photo); outside the
    mask 0. The swap carries more of the reference than the region edit (it closes more of the colour
    gap); the edit's soft border keeps the seam. All HxWx3 uint8 at the network's size, mask HxW in [0, 1]."""
    w = interior_weight(mask, guide)[..., None]

    def mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.clip(w * b + (1 - w) * a + 0.5, 0, 255).astype(np.uint8)

    return mix(edit, swap), mix(edit_ref, swap_ref)


def interpolate_images(
    model: EditModel, a: np.ndarray, b: np.ndarray, what: str = "style", steps: int = 5
) -> list[np.ndarray]:
    """The network's frames blending a -> b (style or content codes) at the model's working size of `a`."""
    a8, b8 = to_uint8(np.asarray(a)), to_uint8(np.asarray(b))
    wh, ww = working_shape(model, *a8.shape[:2])
    a_lo = _resize(a8, (wh, ww))
    b_lo = _resize(b8, (wh, ww))  # content interpolation needs both at one size
    return [np.asarray(f) for f in model.interpolate(a_lo, b_lo, what=what, steps=steps)]


def restyle_photo(model: EditModel, image: np.ndarray, other: np.ndarray, amount: float,
                  smoothing: float | None = None) -> np.ndarray:
    """`image` at its own resolution with its style moved `amount` (0..1) towards `other`'s: the global
    swap at code weight `amount` (`TCPModel.swap`), measured against the swap at 0 (the photo's own
    style) and carried to the photo by the export path's colour transform, so only the change of
    style reaches it and its detail is kept. The one style interpolation of a photo: the editor's
    interpolation slider and `tcp-editor interpolate --what style` both show this."""
    h, w = image.shape[:2]
    wh, ww = working_shape(model, h, w)
    lo_src = cv2.resize(image, (ww, wh), interpolation=cv2.INTER_AREA)
    oh, ow = working_shape(model, *other.shape[:2])
    other_lo = cv2.resize(other, (ow, oh), interpolation=cv2.INTER_AREA) if other.shape[0] > oh else other
    t = float(np.clip(amount, 0.0, 1.0))
    lo = _resize(np.asarray(model.swap(lo_src, other_lo, t)), (wh, ww))
    ref = _resize(np.asarray(model.swap(lo_src, other_lo, 0.0)), (wh, ww))
    return upsample_edit(image, ref, lo, np.ones((h, w), np.float32), 0, smoothing=smoothing, lo_photo=lo_src)


def interpolate_photo(
    model: EditModel, a: np.ndarray, b: np.ndarray, steps: int = 5, *, long_side: int = 1024,
    smoothing: float | None = None,
) -> list[np.ndarray]:
    """Style interpolation as the editor shows it: `steps` frames of `a` at its own resolution (long
    side at most `long_side`) whose style moves from its own (frame 0 is `a`) to b's
    (`restyle_photo` at evenly spaced amounts)."""
    a8 = to_uint8(np.asarray(a))
    h, w = a8.shape[:2]
    s = min(1.0, long_side / max(h, w))
    disp = _resize(a8, (max(1, round(h * s)), max(1, round(w * s))))
    b8 = to_uint8(np.asarray(b))
    return [restyle_photo(model, disp, b8, float(t), smoothing) for t in np.linspace(0.0, 1.0, steps)]
