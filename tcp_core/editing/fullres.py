"""Low-resolution network edit -> full-resolution result (numpy + OpenCV, no torch).

The network works at a few hundred pixels; photos have tens of megapixels. Upscaling the
network output would make the edited region blurry, so instead we learn *how* the network
changed the colours and apply that change to the full-resolution photo:

1. `fit_local_color_transform(lo_src, lo_dst)`: a guided-filter style local linear model at the
   network's resolution: for every low-res pixel an affine colour transform `dst ~ A @ src + b`
   (A 3x3, b 3) fitted by least squares over a (2r+1)^2 window with box filters. The ridge term
   pulls A towards `A0`, the region's global transform (itself ridge-regularised towards the
   identity), not towards zero as in the plain guided filter, so flat areas keep their detail
   at the region's contrast instead of being flattened. The A, b maps are box-averaged again.
2. `apply_local_color_transform(full_src, T)`: the maps are bilinearly upsampled and applied to the
   full-resolution source, so full-res detail (high frequencies, edges) survives while colours
   and the local tone follow the network. For speed on very large regions the spatially varying
   part `(A - A0) @ src + b` is evaluated at a "mid" resolution (at most `max_mid_pixels`) and
   upsampled, while `A0 @ src` is evaluated at full resolution: detail finer than the mid grid
   is transformed by the region's A0 (exact per-pixel evaluation when the region is small enough).
3. `upsample_edit(...)`: output = src * (1 - m) + transformed * m with m the feathered mask,
   processed in horizontal strips inside the mask's bounding box only. Pixels where m == 0 are
   copied from the input, bit for bit.

Values are uint8 or uint16 (full-res source); alpha is the caller's business.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from tcp_core.base.constants import DEFAULT_DETAIL_GAIN, DEFAULT_SMOOTHING, MAX_SMOOTHING
from tcp_core.editing.guided import inv_sym3, local_cov3
from tcp_core.editing.masks import as_float_mask, auto_feather_px, feather_window

__all__ = [
    "DEFAULT_SMOOTHING",
    "LocalColorTransform",
    "MAX_SMOOTHING",
    "apply_local_color_transform",
    "cap_gain",
    "photo_flatness",
    "fit_local_color_transform",
    "smoothing_radius",
    "upsample_edit",
]

# Colour smoothing: the local colour transform's window radius in pixels of a 128 px (short side)
# network image; the radius is scaled with the actual working size, so a level means the same
# on every model. 6 is measured on the bundled model (README, "Colour smoothing"): the smallest
# level whose seam energy is below that of the earlier default 2; every level from 0 to 12 beats
# Reinhard colour transfer on SSIM, SSD and StyleDist. Beyond 32 the local fit is the region's
# global transform anyway.
SMOOTHING_REF_PX = 128
DEFAULT_EPS = 1e-3
DEFAULT_MAX_MID_PIXELS = 2_000_000
_STRIP_ROWS = 256
_MID_ROWS = 64  # rows of the mid-resolution grid computed at a time


# ----------------------------------------------------------------------------------------------
# local colour transform


@dataclass
class LocalColorTransform:
    """Per-pixel affine colour maps at the low resolution: out = A @ src + b (values in [0, 1]).

    A: h x w x 3 x 3 (row = output channel), b: h x w x 3; A0 (3x3), b0 (3) the global fit.
    """

    A: np.ndarray
    b: np.ndarray
    A0: np.ndarray
    b0: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.A.shape[0]), int(self.A.shape[1])

    def apply_lo(self, lo_src: np.ndarray) -> np.ndarray:
        """Evaluate at the low resolution (for checks): float32 in [0, 1]-scale."""
        s = _to_unit(lo_src)
        return (np.einsum("hwij,hwj->hwi", self.A, s) + self.b).astype(np.float32)


def _to_unit(a: np.ndarray, dtype=np.float64) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 image, got shape {a.shape}")
    if a.dtype == np.uint8:
        return a.astype(dtype) / 255.0
    if a.dtype == np.uint16:
        return a.astype(dtype) / 65535.0
    return a.astype(dtype)


def fit_local_color_transform(
    lo_src: np.ndarray,
    lo_dst: np.ndarray,
    *,
    radius: int = 2,
    eps: float = DEFAULT_EPS,
    weight: np.ndarray | None = None,
    global_eps: float = 1e-4,
    clip: float = 4.0,
    max_gain: float | None = None,
    flat: np.ndarray | None = None,
) -> LocalColorTransform:
    """Fit dst ~ A(x) @ src + b(x) locally (window 2*radius+1) at the low resolution.

    `lo_src`, `lo_dst`: HxWx3 uint8/uint16/float in [0, 1], same size. `weight` (HxW) selects the
    pixels the global prior A0 is fitted on (the edited region); None = all pixels. The local
    windows are unweighted on purpose: near the region's border they mix in unedited pixels, which
    softens the border (seams) at the cost of a weaker edit within about `radius` of it (a
    mask-weighted fit measured 5.1 instead of 3.6 seam energy at smoothing 6 with the bundled model). `eps` is the
    local ridge strength towards A0 (in variance units of [0,1] colours); `global_eps` that of A0
    towards the identity. `clip` bounds the entries of A. `max_gain` (None: no cap) caps the gain of each output
    channel, the norm of its row of A (and of A0): the offsets b are fitted after the cap, so local means still
    follow `lo_dst`, while the source's own detail about them (noise, JPEG blocks in a smooth sky) is amplified at
    most that much (`cap_gain`). `flat` (HxW in [0, 1], `photo_flatness`) confines the cap to the photo's smooth
    parts: a pixel's cap is max_gain / flat, so textured parts (clouds, grass, wood) keep the network's contrast.
    The returned A0, which carries detail finer than the mid grid on very large photos, is capped at max_gain.
    """
    if max_gain is not None and not (math.isfinite(max_gain) and max_gain > 0):
        raise ValueError(f"max_gain must be above 0 (or None), got {max_gain!r}")
    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or radius < 0:
        raise ValueError(f"radius must be an integer >= 0, got {radius!r}")
    s = _to_unit(lo_src)
    d = _to_unit(lo_dst)
    if s.shape != d.shape:
        raise ValueError(f"lo_src {s.shape} and lo_dst {d.shape} must have the same shape")
    h, w, _ = s.shape
    eye = np.eye(3)

    # Global prior: weighted ridge regression towards the identity.
    wts = None if weight is None else np.clip(as_float_mask(weight).astype(np.float64), 0, 1)
    if wts is not None and wts.shape != (h, w):
        wts = cv2.resize(wts, (w, h), interpolation=cv2.INTER_AREA)
    if wts is None or wts.sum() < 4.0:
        wts = np.ones((h, w))
    wf = wts.reshape(-1, 1)
    X = np.concatenate([s.reshape(-1, 3), np.ones((h * w, 1))], axis=1)
    Y = d.reshape(-1, 3)
    n = wf.sum()
    lam = global_eps * n
    R = np.diag([1.0, 1.0, 1.0, 0.0])
    prior = np.concatenate([eye, np.zeros((1, 3))], axis=0)  # 4x3: beta such that Y = X @ beta
    XtX = (X * wf).T @ X + lam * R
    XtY = (X * wf).T @ Y + lam * R @ prior
    beta = np.linalg.solve(XtX + 1e-9 * np.eye(4), XtY)
    A0 = np.clip(beta[:3].T, -clip, clip)
    b0 = beta[3]

    # Local fit: guided filter with a colour guide, ridge towards A0.
    k = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)

    mean_s = box(s)
    mean_d = box(d)
    cov_ss = local_cov3(s, mean_s, box)
    cov_ds = np.empty((h, w, 3, 3))  # [c, j] = cov(dst_c, src_j)
    for c in range(3):
        for j in range(3):
            cov_ds[:, :, c, j] = box(d[:, :, c] * s[:, :, j]) - mean_d[:, :, c] * mean_s[:, :, j]
    rhs = cov_ds + eps * A0
    # A @ (cov_ss + eps I) = rhs: closed-form inverse of the symmetric positive definite 3x3
    # (much faster than a batched np.linalg.solve over ~10^5 tiny systems).
    A = rhs @ inv_sym3(cov_ss + eps * eye)
    np.clip(A, -clip, clip, out=A)
    if max_gain is not None:
        caps = max_gain if flat is None else max_gain / np.maximum(np.asarray(flat, np.float64), 1e-2)[..., None, None]
        A = cap_gain(A, caps)
        A0 = cap_gain(A0, max_gain)  # (after its use as the local fits' prior)
        b0 = (wf * (Y - X[:, :3] @ A0.T)).sum(0) / n  # the weighted mean residual: means still match
    b = mean_d - np.einsum("hwij,hwj->hwi", A, mean_s)
    # Guided filter's second averaging: smooth the coefficients.
    A = box(A.reshape(h, w, 9)).reshape(h, w, 3, 3)
    b = box(b)
    return LocalColorTransform(A=A.astype(np.float32), b=b.astype(np.float32), A0=A0, b0=b0)


def cap_gain(A: np.ndarray, max_gain) -> np.ndarray:
    """A (..., 3, 3; row = output channel) with each row scaled down to a norm of at most `max_gain` (a number, or
    an array broadcasting against A's rows, shape (..., 1)): the most that output channel amplifies uncorrelated
    detail of the source (noise) is its row's norm."""
    norms = np.linalg.norm(A, axis=-1, keepdims=True)
    return A * np.minimum(1.0, max_gain / np.maximum(norms, 1e-12))


FLAT_TEXTURE = (1.0, 3.0)  # photo_flatness: texture energy (gray levels) at and below which a part is smooth, above
FLAT_SCALES = (1.5, 3.0)  # which is textured; the detail's and the energy's Gaussian sigmas, pixels of a 128 px image


def photo_flatness(lo_photo: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """How smooth the photo is around each pixel (HxW in [0, 1]; 1 = a clear sky, fog, a blurred background; 0 =
    grass, rock, leaves): the local energy of its fine detail (gray minus a Gaussian of FLAT_SCALES[0] pixels of a
    128 px image, RMS over FLAT_SCALES[1]) mapped from FLAT_TEXTURE[0] (1) to FLAT_TEXTURE[1] (0) gray levels. A
    smooth gradient (a dusk sky) is smooth. `weight` (HxW, the region): the energy is averaged over the region's
    inside only, so the edge along its border (a skyline) does not count as the sky's texture."""
    img = _to_unit(lo_photo, np.float32) * np.float32(255)
    h, w = img.shape[:2]
    px = 128.0 / min(h, w)
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    hp = g - cv2.GaussianBlur(g, (0, 0), FLAT_SCALES[0] / px)
    m = np.ones((h, w), np.float32)
    if weight is not None:
        m = cv2.erode((np.asarray(weight, np.float32) > 0.5).astype(np.float32), np.ones((3, 3), np.uint8))
        if not m.any():
            m = np.ones((h, w), np.float32)
    sigma = FLAT_SCALES[1] / px
    energy = np.sqrt(cv2.GaussianBlur(hp * hp * m, (0, 0), sigma)
                     / np.maximum(cv2.GaussianBlur(m, (0, 0), sigma), 1e-3))
    lo, hi = FLAT_TEXTURE
    return np.clip((hi - energy) / (hi - lo), 0.0, 1.0)


def smoothing_radius(smoothing: float, lo_shape: tuple[int, ...]) -> int:
    """The local fit's window radius in network pixels for a smoothing level (0..MAX_SMOOTHING,
    pixels of a 128 px network image) at a network image of shape `lo_shape`."""
    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float, np.integer, np.floating)) \
            or not math.isfinite(smoothing) or not 0 <= smoothing <= MAX_SMOOTHING:
        raise ValueError(f"colour smoothing must be a number between 0 and {MAX_SMOOTHING}, got {smoothing!r}")
    return int(round(float(smoothing) * min(lo_shape[:2]) / SMOOTHING_REF_PX))


def _warp_to(lo: np.ndarray, lo_hw: tuple[int, int], full_hw: tuple[int, int], box, out_hw,
             rows: tuple[int, int] | None = None) -> np.ndarray:
    """Bilinearly sample the map `lo` (defined on an h x w grid covering the full image of size
    H x W) at the pixel centres of the sub-rectangle `box` = (x0, y0, x1, y1) of the full image,
    sampled on an out_hw grid spanning that box (only its rows [r0, r1) with `rows`). Channels > 4
    are handled in groups."""
    h, w = lo_hw
    H, W = full_hw
    x0, y0, x1, y1 = box
    oh, ow = out_hw
    r0, r1 = rows or (0, oh)
    # out pixel (u, v) centre in full coords: X = x0 + (u + 0.5) * (x1 - x0) / ow
    # its lo coordinate: X * w / W - 0.5
    fx = (x1 - x0) / ow * w / W
    fy = (y1 - y0) / oh * h / H
    tx = (x0 + 0.5 * (x1 - x0) / ow) * w / W - 0.5
    ty = (y0 + 0.5 * (y1 - y0) / oh) * h / H - 0.5
    M = np.array([[fx, 0.0, tx], [0.0, fy, ty + fy * r0]], np.float64)
    oh = r1 - r0
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    lo = np.ascontiguousarray(lo, dtype=np.float32)
    ch = 1 if lo.ndim == 2 else lo.shape[2]
    if ch <= 4:
        r = cv2.warpAffine(lo, M, (ow, oh), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        return r.reshape(oh, ow, ch) if lo.ndim == 3 else r
    parts = []
    for c0 in range(0, ch, 4):
        sub = np.ascontiguousarray(lo[:, :, c0 : c0 + 4])
        r = cv2.warpAffine(sub, M, (ow, oh), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        parts.append(r.reshape(oh, ow, -1))
    return np.concatenate(parts, axis=2)


def _bracket(packs: list[np.ndarray], s: np.ndarray) -> np.ndarray:
    """sum_j pack_c[..., j] * s_j + pack_c[..., 3] for c = 0..2 (packs: HxWx4 float32, s: HxWx3)."""
    s4 = cv2.merge([s[:, :, 0], s[:, :, 1], s[:, :, 2], np.ones(s.shape[:2], np.float32)])
    ones = np.ones((1, 4), np.float32)
    chans = [cv2.transform(cv2.multiply(p, s4), ones) for p in packs]
    return cv2.merge(chans)


class _Plan:
    """Everything needed to evaluate the transform over a box of the full image, strip by strip."""

    def __init__(self, full_src: np.ndarray, T: LocalColorTransform, box, max_mid_pixels: int) -> None:
        H, W = full_src.shape[:2]
        x0, y0, x1, y1 = box
        bw, bh = x1 - x0, y1 - y0
        self.box = box
        self.maxval = 255.0 if full_src.dtype == np.uint8 else 65535.0
        f = max(1.0, math.sqrt(bw * bh / max(1, max_mid_pixels)))
        mw, mh = max(1, int(math.ceil(bw / f))), max(1, int(math.ceil(bh / f)))
        self.exact = (mw, mh) == (bw, bh)
        self.mid_hw = (mh, mw)
        h, w = T.shape
        dA = T.A - T.A0.astype(np.float32)[None, None]
        bs = T.b * np.float32(self.maxval)
        # One 4-channel map per output channel c: [dA[c,0], dA[c,1], dA[c,2], b[c]].
        packs = [np.ascontiguousarray(np.concatenate([dA[:, :, c, :], bs[:, :, c : c + 1]], axis=2)) for c in range(3)]
        self.lo_hw = (h, w)
        self.full_hw = (H, W)
        if self.exact:
            self.packs = packs  # sampled per strip in `strip()`
            self.mid = None
        else:
            crop = full_src[y0:y1, x0:x1]
            s_mid = cv2.resize(crop, (mw, mh), interpolation=cv2.INTER_AREA)
            self.mid = np.empty((mh, mw, 3), np.float32)
            for r0 in range(0, mh, _MID_ROWS):  # in strips of rows: the temporaries stay small
                r1 = min(mh, r0 + _MID_ROWS)
                mid_packs = [_warp_to(p, (h, w), (H, W), box, (mh, mw), rows=(r0, r1)) for p in packs]
                self.mid[r0:r1] = _bracket(mid_packs, s_mid[r0:r1].astype(np.float32))
        # Global part at full res: A0 @ s (no offset: b lives in the maps).
        self.A0m = np.concatenate([T.A0, np.zeros((3, 1))], axis=1).astype(np.float32)

    def strip(self, s: np.ndarray, ry0: int, ry1: int) -> np.ndarray:
        """Transformed values (float32, native scale) for full-res rows [ry0, ry1) of the box;
        `s` is the float32 source strip (native scale)."""
        x0, y0, x1, y1 = self.box
        t = cv2.transform(s, self.A0m)
        if self.exact:
            sub_box = (x0, ry0, x1, ry1)
            packs = [_warp_to(p, self.lo_hw, self.full_hw, sub_box, (ry1 - ry0, x1 - x0)) for p in self.packs]
            t += _bracket(packs, s)
        else:
            # The mid grid covers the box; sample it at this strip's pixel centres.
            mh, mw = self.mid_hw
            bw, bh = x1 - x0, y1 - y0
            local = (0, ry0 - y0, bw, ry1 - y0)
            t += _warp_to(self.mid, (mh, mw), (bh, bw), local, (ry1 - ry0, bw))
        return t


def apply_local_color_transform(
    full_src: np.ndarray,
    T: LocalColorTransform,
    *,
    box: tuple[int, int, int, int] | None = None,
    max_mid_pixels: int = DEFAULT_MAX_MID_PIXELS,
) -> np.ndarray:
    """Apply T (fitted at low res) to the full-res source over `box` (default: whole image).

    Returns float32 HxWx3 (of the box) in the source's native scale (0..255 or 0..65535),
    unclipped. Memory: the whole box in float32; `upsample_edit` streams strips instead.
    """
    full_src = np.asarray(full_src)
    if full_src.dtype not in (np.uint8, np.uint16):
        raise ValueError("full_src must be uint8 or uint16")
    H, W = full_src.shape[:2]
    box = box or (0, 0, W, H)
    plan = _Plan(full_src, T, box, max_mid_pixels)
    x0, y0, x1, y1 = box
    out = np.empty((y1 - y0, x1 - x0, 3), np.float32)
    for ry0 in range(y0, y1, _STRIP_ROWS):
        ry1 = min(y1, ry0 + _STRIP_ROWS)
        s = full_src[ry0:ry1, x0:x1].astype(np.float32)
        out[ry0 - y0 : ry1 - y0] = plan.strip(s, ry0, ry1)
    return out


# ----------------------------------------------------------------------------------------------
# the whole step


def upsample_edit(
    full_src_rgb: np.ndarray,
    lo_src_rgb: np.ndarray,
    lo_result_rgb: np.ndarray,
    mask_full: np.ndarray,
    feather_px: float | None = None,
    *,
    inside: bool = False,
    smoothing: float | None = None,
    eps: float = DEFAULT_EPS,
    max_mid_pixels: int = DEFAULT_MAX_MID_PIXELS,
    strip_rows: int = _STRIP_ROWS,
    threads: int = 2,
    in_place: bool = False,
    guided: bool = True,
    detail_gain: float | None = DEFAULT_DETAIL_GAIN,
    lo_photo: np.ndarray | None = None,
) -> np.ndarray:
    """Full-resolution version of a low-resolution edit.

    full_src_rgb: HxWx3 uint8 or uint16 (output has the same dtype). lo_src_rgb: what the
    network's output is compared with, at its resolution: the source as the network saw it, or (as
    `tcp_core.editing.apply` does) the network's own output for the unedited photo, so that only the edit's
    change reaches the photo and not the network's reconstruction error; lo_result_rgb: the
    network's output (same size as lo_src_rgb).
    mask_full: HxW in [0, 1] (float, uint8 or bool), the edited region at full resolution.
    feather_px: feather radius in full-res pixels (None: two low-res pixels; 0: hard edge). `guided` (default)
    lets the feather follow the photo (`masks.feather_window(guide=...)`: sharp where the mask's edge runs along
    one of the photo's edges, wider where it crosses smooth parts); False is a plain blur of the mask.
    smoothing: colour smoothing level 0..MAX_SMOOTHING (`smoothing_radius`; None = DEFAULT_SMOOTHING):
    low follows the network's local colours closely, high keeps more of the photo's texture.
    detail_gain: the most the colour transform amplifies the photo's own detail per channel in its smooth parts
    (`fit_local_color_transform(max_gain=..., flat=photo_flatness(...))`; None: no cap). lo_photo: the photo itself
    at lo_src_rgb's size, which the flatness is read from, when the caller has it (None: full_src_rgb is shrunk here).
    Pixels where the feathered mask is 0 are returned unchanged, bit for bit.
    in_place=True writes the result into full_src_rgb itself (it must be writeable) and returns it,
    instead of a new array: only the pixels under the feathered mask are written.
    """
    src = np.asarray(full_src_rgb)
    if src.ndim != 3 or src.shape[2] != 3 or src.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"full_src_rgb must be HxWx3 uint8/uint16, got {src.shape} {src.dtype}")
    H, W = src.shape[:2]
    lo_src = np.asarray(lo_src_rgb)
    lo_res = np.asarray(lo_result_rgb)
    if lo_src.shape != lo_res.shape or lo_src.ndim != 3 or lo_src.shape[2] != 3:
        raise ValueError(f"lo_src {lo_src.shape} and lo_result {lo_res.shape} must be the same HxWx3 shape")
    m_in = as_float_mask(mask_full)
    if m_in.shape != (H, W):
        raise ValueError(f"mask is {m_in.shape[1]}x{m_in.shape[0]}, the image {W}x{H}")
    if feather_px is None:
        feather_px = auto_feather_px(src.shape, lo_src.shape)
    out = src if in_place else src.copy()
    fw = feather_window(m_in, feather_px, inside, src if guided else None)
    if fw is None:
        return out
    m_crop, box = fw
    h, w = lo_src.shape[:2]
    # Weights for the region's global prior A0 (a strided subsample is plenty for that).
    k = max(1, int(min(H / h, W / w)) // 2)
    lo_weight = cv2.resize(np.ascontiguousarray(m_in[::k, ::k]), (w, h), interpolation=cv2.INTER_AREA)
    if smoothing is None:
        smoothing = DEFAULT_SMOOTHING
    flat = None
    if detail_gain is not None:
        if lo_photo is None:
            lo_photo = cv2.resize(src, (w, h), interpolation=cv2.INTER_AREA)
        elif lo_photo.shape[:2] != (h, w):
            raise ValueError(f"lo_photo {lo_photo.shape} must have lo_src's size {(h, w)}")
        flat = photo_flatness(lo_photo, lo_weight)
    T = fit_local_color_transform(lo_src, lo_res, radius=smoothing_radius(smoothing, lo_src.shape), eps=eps,
                                  weight=lo_weight, max_gain=detail_gain, flat=flat)
    plan = _Plan(src, T, box, max_mid_pixels)
    x0, y0, x1, y1 = box
    maxval = np.float32(plan.maxval)

    def do_strip(ry0: int) -> None:
        ry1 = min(y1, ry0 + strip_rows)
        s_int = src[ry0:ry1, x0:x1]
        m = m_crop[ry0 - y0 : ry1 - y0]
        if not m.any():
            return
        s = s_int.astype(np.float32)
        t = plan.strip(s, ry0, ry1)
        # o = s + (t - s) * m  (exactly s where m == 0, exactly t where m == 1)
        np.subtract(t, s, out=t)
        t *= m[:, :, None]
        t += s
        np.clip(t, 0.0, maxval, out=t)
        t += np.float32(0.5)
        res = t.astype(src.dtype)
        zero = m == 0.0
        if zero.any():
            res[zero] = s_int[zero]  # belt and braces: untouched means bit-identical
        out[ry0:ry1, x0:x1] = res

    starts = list(range(y0, y1, strip_rows))
    if threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=threads) as ex:
            list(ex.map(do_strip, starts))
    else:
        for r0 in starts:
            do_strip(r0)
    return out
