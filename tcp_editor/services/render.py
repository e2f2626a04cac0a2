"""The edit pipeline shared by the live preview and the full-resolution export.

    base  = photo, or photo with its style/content interpolated towards a second photo
    out   = tcp_core.editing.apply.apply_regions(model, base, regions, global_)   (successive region edits)

`apply_regions` runs the network on a crop around each region at the model's working size and
brings the result back to the input's resolution with `tcp_core.editing.fullres.upsample_edit`, so the
preview (at the preview resolution) and the export (full resolution) share one code path and
pixels outside the masks stay untouched. Runs in the inference worker's thread; torch is only
reached through the model object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import cv2
import numpy as np

from tcp_core.base.lru import LRU

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
    from tcp_core.editing.apply import working_shape
    from tcp_core.editing.fullres import upsample_edit

    h, w = image.shape[:2]
    wh, ww = working_shape(model, h, w)
    lo_src = cv2.resize(image, (ww, wh), interpolation=cv2.INTER_AREA)
    t = float(np.clip(amount, 0.0, 1.0))
    if what == "style":
        oh, ow = working_shape(model, *other.shape[:2])
        other_lo = cv2.resize(other, (ow, oh), interpolation=cv2.INTER_AREA) if other.shape[0] > oh else other
        lo = model.swap(lo_src, other_lo, t)
        ref = model.swap(lo_src, other_lo, 0.0)  # the photo's own style: only the change reaches the photo
    elif what == "content":
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
    lo = _at(lo, (wh, ww))
    # A content change moves structures: the colour-transform upsampler cannot express it, so
    # content interpolation is shown at the network's resolution, upscaled.
    if what == "content":
        return cv2.resize(lo, (w, h), interpolation=cv2.INTER_CUBIC)
    return upsample_edit(image, _at(ref, (wh, ww)), lo, np.ones((h, w), np.float32), 0, smoothing=smoothing)


def _at(img, hw: tuple[int, int]) -> np.ndarray:
    """A network output at the working size hw (models may return another size)."""
    img = np.asarray(img)
    return img if img.shape[:2] == hw else cv2.resize(img, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)


def render(model, image: np.ndarray, regions: Sequence[tuple[np.ndarray, np.ndarray, float]],
           global_: bool = False, interp_image: np.ndarray | None = None, interp_what: str = "style",
           interp_amount: float = 0.0, cache: FrameCache | None = None, crop: bool = True,
           keyframe_step: float | None = None, smoothing: float | None = None) -> np.ndarray:
    """The edited image at `image`'s resolution. regions: (style_rgb, mask (image's HxW), strength).

    crop=True (export, refined preview) runs the network on a crop around each region, so small
    regions get the network's full resolution. crop=False (fast interactive preview) runs it on the
    whole image: the photo's encoding and the style swap stay cached while masks change, about
    twice as fast per stroke, at a lower resolution for small regions. keyframe_step (strength-slider
    drags): strengths between cached key frames are interpolated in feature space, one G pass per
    step instead of three (`TCPModel._swap_features`); None is exact. smoothing: colour smoothing of
    the full-resolution reconstruction (`tcp_core.editing.fullres`; None = its default)."""
    from tcp_core.editing.apply import apply_regions

    base = np.ascontiguousarray(image)
    if interp_image is not None and interp_amount > 0:
        base = interpolate_base(model, base, interp_image, interp_what, interp_amount, cache, smoothing)
    regs = [(s, m, float(a)) for s, m, a in regions]
    if regs:
        base = apply_regions(model, base, regs, global_=global_, crop=crop, keyframe_step=keyframe_step,
                             smoothing=smoothing)
    return np.ascontiguousarray(base)
