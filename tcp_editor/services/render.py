"""The edit pipeline shared by the live preview and the full-resolution export.

    base  = photo, or photo with its style/content interpolated towards a second photo
    out   = tcp_core.editing.apply.apply_regions(model, base, regions, config=export, global_=global_)
            (successive region edits; `export` is the `ExportConfig` of the document's settings,
            `Document.export_config`, in the library's units)

`apply_regions` runs the network on a crop around each region at the model's working size and
brings the result back to the input's resolution with `tcp_core.editing.fullres.upsample_edit`, so the
preview (at the preview resolution) and the export (full resolution) share one code path and one
`ExportConfig`, and pixels outside the masks stay untouched. Runs in the inference worker's thread; torch
is only reached through the model object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from tcp_core.base.lru import LRU
from tcp_core.editing.export_config import ExportConfig
from tcp_core.editing.regions import RegionEdit

INTERP_STEPS = 11  # content interpolation: decoded key frames, cross-faded in between


def _key(*arrays: np.ndarray) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.digest()


class FrameCache(LRU):
    """A small LRU for interpolation key frames (slider drags re-use them)."""

    def __init__(self, size: int = 4) -> None:
        super().__init__(size)


def interpolate_base(model, image: np.ndarray, other: np.ndarray, what: str, amount: float,
                     cache: FrameCache | None = None, smoothing: float | None = None) -> np.ndarray:
    """`image` with its style (or content) moved `amount` (0..1) towards `other`, at image's size."""
    from tcp_core.editing.apply import restyle_photo, working_shape

    if what == "style":  # the one style interpolation of a photo (also `tcp-editor interpolate`)
        return restyle_photo(model, image, other, amount, smoothing)
    h, w = image.shape[:2]
    wh, ww = working_shape(model, h, w)
    lo_src = cv2.resize(image, (ww, wh), interpolation=cv2.INTER_AREA)
    t = float(np.clip(amount, 0.0, 1.0))
    if what == "content":
        other_lo = cv2.resize(other, (ww, wh), interpolation=cv2.INTER_AREA)
        make = lambda: [np.asarray(f) for f in model.interpolate(lo_src, other_lo, what="content",
                                                                  steps=INTERP_STEPS)]
        frames = cache.get_or(_key(lo_src, other_lo), make) if cache is not None else make()
        pos = t * (len(frames) - 1)
        i0 = min(int(np.floor(pos)), len(frames) - 2)
        f = pos - i0
        lo = frames[i0] if f <= 1e-6 else cv2.addWeighted(frames[i0], 1.0 - f, frames[i0 + 1], f, 0.0)
    else:
        raise ValueError(f"interpolate what must be 'style' or 'content', got {what!r}")
    lo = np.asarray(lo)
    if lo.shape[:2] != (wh, ww):  # (models may return another size)
        lo = cv2.resize(lo, (ww, wh), interpolation=cv2.INTER_LINEAR)
    # A content change moves structures: the colour-transform upsampler cannot express it, so
    # content interpolation is shown at the network's resolution, upscaled.
    return cv2.resize(lo, (w, h), interpolation=cv2.INTER_CUBIC)


def render(model, image: np.ndarray, regions: Sequence[RegionEdit],
           global_: bool = False, interp_image: np.ndarray | None = None, interp_what: str = "style",
           interp_amount: float = 0.0, cache: FrameCache | None = None, crop: bool = True,
           keyframe_step: float | None = None, export: ExportConfig | None = None) -> np.ndarray:
    """The edited image at `image`'s resolution. regions: `RegionEdit`s (masks of image's HxW); a
    style_mask (HxW of the style's size, or None for the whole reference) is the part of the
    reference the style is taken from (issue #13), a pre_transfer (0..1, or None) the region's own
    colour priming, which wins over the config's.

    crop=True (export, refined preview) runs the network on a crop around each region, so small
    regions get the network's full resolution. crop=False (fast interactive preview) runs it on the
    whole image: the photo's encoding and the style swap stay cached while masks change, about
    twice as fast per stroke, at a lower resolution for small regions. keyframe_step (strength-slider
    drags): strengths between cached key frames are interpolated in feature space, one G pass per
    step instead of three (`TCPModel._swap_features`); None is exact.

    export (`ExportConfig`; None: the library's defaults, `EXPORT_PRESETS["current"]`): how each edit is rendered
    around the network, handed to `apply_regions` as it is: colour smoothing of the full-resolution
    reconstruction (also that of a style interpolation of the base), the region interior, colour priming (amount,
    profile, spread, highlights), the mask edge and the detail gain cap. The preview renders with the export's
    config, so that what the user sees is what is written. Edge "across" (the default, as `tcp-editor apply`) fades
    each edit out across the brushed mask's edge with the photo-guided feather: sharp where the mask follows an edge
    of the photo (a window frame next to a brushed sky stays as it was), a gradual fade a few pixels either side where
    the mask crosses smooth photo (docs/training/s37: it beat "inside" blind 25-5 on held-out pairs); "inside" fades
    the edit out within the mask, so no pixel outside it changes at all, at the price of a band along the mask's
    edge."""
    from tcp_core.editing.apply import apply_regions

    export = ExportConfig.resolve(export, "export")
    base = np.ascontiguousarray(image)
    if interp_image is not None and interp_amount > 0:
        base = interpolate_base(model, base, interp_image, interp_what, interp_amount, cache, export.smoothing)
    if regions:
        base = apply_regions(model, base, regions, config=export, global_=global_, crop=crop,
                             keyframe_step=keyframe_step)
    return np.ascontiguousarray(base)


def warm_steps(model, image: np.ndarray, styles: Sequence[np.ndarray], mask: np.ndarray | None = None,
               strength: float = 1.0, export: ExportConfig | None = None) -> list[Callable[[], object]]:
    """Work the first preview of `image` would do, split into steps of one or two network passes,
    for the worker to run while the user is still brushing (issue #15: the first preview took
    4.6 s, a new style 2.5 s). Everything lands in the model's caches under the keys the fast
    preview (`render(..., crop=False)`) uses: the photo's encoding and its own-style swap (needed by
    every region edit), each style's encoding and its swap with the photo, and one whole preview
    with `mask` (or a stand-in) that also warms the network's kernels at this working size and
    the full-resolution colour transfer. export: the preview's `ExportConfig` (None: the library's defaults).
    With colour priming (`export.priming` > 0, and a region interior other than "off") the swap that fills a
    region's inside runs on the photo primed towards each style within `mask`, so those swaps are warmed too,
    primed exactly as the preview primes them (`apply_regions`: the mask grown for the inside feather with edge
    "inside"; the config's priming cap, profile, spread and highlights); the whole preview renders with the config.
    styles: the active region's style first, then likely ones (the gallery). Results are thrown away; only the
    caches matter."""
    from tcp_core.editing.apply import (  # the preview's exact preprocessing
        INSIDE_GROW_REF_PX,
        _primed_swap,
        _resize,
        _shrink_style,
        grow_mask,
        priming_options,
        to_uint8,
        working_shape,
    )

    export = ExportConfig.resolve(export, "export")
    base = np.ascontiguousarray(image)
    h, w = base.shape[:2]
    wh, ww = working_shape(model, h, w)
    lo_src = _resize(to_uint8(base), (wh, ww))
    if mask is None or not np.any(mask):
        mask = np.zeros((h, w), np.float32)
        mask[h // 4: h // 2, w // 4: (3 * w) // 4] = 1.0  # a stand-in: the kernels do not care
    lo_mask = np.clip(_resize(np.ascontiguousarray(mask.astype(np.float32)), (wh, ww)), 0, 1)
    if export.inside:  # the inside feather edits the mask grown, as apply_regions does
        lo_mask = grow_mask(lo_mask, INSIDE_GROW_REF_PX * min(wh, ww) / 128)
    # as apply_regions primes a region (no style part here)
    prime = priming_options(export.priming_profile, mask, None, export.priming_spread, export.priming_highlights)
    style_los = [_shrink_style(model, s) for s in styles]
    steps: list[Callable[[], object]] = [
        lambda: model.swap(lo_src, lo_src, 0.0),  # E(photo), G(C_A, S_A), E(I_g): every edit needs these
        lambda: model.own_style_edit(lo_src, lo_mask),  # the region-edit G pass at this size
    ]
    amount = export.priming if export.swap_interior else 0.0  # ("off": no swap inside, the region edit is primed)
    for i, s in enumerate(style_los):
        t = strength if i == 0 else 1.0
        steps.append(lambda s=s, t=t: model.swap(lo_src, s, t))  # what the region edit at the border needs
        if amount > 0:  # the primed swap that fills the inside, as the preview computes it
            steps.append(lambda s=s, t=t: _primed_swap(model, lo_src, s, lo_mask, amount, t, {},
                                                       cap=export.priming_cap, **prime))
    if styles:
        first = [RegionEdit(styles[0], mask, strength)]
        steps.append(lambda: render(model, base, first, crop=False, export=export))
    return steps
