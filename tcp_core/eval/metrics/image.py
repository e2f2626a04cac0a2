"""Pixel metrics on HxWx3 uint8 images (0-255 scale), numpy/OpenCV only.

- `ssim`: Wang et al. 2004 with scikit-image's `structural_similarity(..., gaussian_weights=True,
  sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=-1)` conventions: 11x11
  Gaussian window (sigma 1.5, truncated at 3.5 sigma), K1 = 0.01, K2 = 0.03, reflected borders,
  the SSIM map averaged after cropping 5 px from each border. Default `mode="rgb"`: computed per
  RGB channel and averaged (skimage's multichannel SSIM, as SEAN/TCP-style tables use);
  `mode="luma"`: on BT.601 luminance Y = 0.299 R + 0.587 G + 0.114 B.
- `rmse`, `psnr`: over all pixels and channels; PSNR = 20 log10(255 / RMSE) (paper: RMSE 9.67 <->
  28.43 dB). Identical images give RMSE 0 and PSNR = `PSNR_CAP` (100 dB) instead of infinity,
  so reports stay finite JSON and averages stay meaningful.
- `bg_psnr`: PSNR outside the mask dilated by `dilate_px` (how much the edit leaked into pixels it
  should not touch); capped at `PSNR_CAP` like `psnr`.
- `seam`: excess gradient magnitude on a band along the mask border, result minus content.
- `seam_flat`: the same on the band's pixels where the photo is flat (no edge of its own), so only
  new edges count: the line a viewer calls a seam, apart from an edit raising the contrast of an
  edge the photo already has where the mask follows it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

PSNR_CAP = 100.0  # dB, reported for identical images (MSE 0); any real difference is far below
FLAT_GRADIENT = 4.0  # gray levels per pixel: below this `gradient_magnitude` a photo has no edge (`seam_flat`)


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"images must have the same shape, got {a.shape} and {b.shape}")
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3)):
        raise ValueError(f"expected HxW or HxWx3 images, got shape {a.shape}")
    if a.size == 0:
        raise ValueError("empty images")
    return a.astype(np.float64), b.astype(np.float64)


def binarize_mask(mask, shape: tuple[int, int]) -> np.ndarray:
    """Mask (bool, uint8 0..255, or float 0..1; HxW or HxWx1/3) -> bool HxW (value > 0.5)."""
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[:, :, 0]
    if m.shape != tuple(shape):
        raise ValueError(f"mask shape {m.shape} does not match the image shape {tuple(shape)}")
    if m.dtype == bool:
        return m
    if m.dtype == np.uint8:
        return m > 127
    return m.astype(np.float64) > 0.5


def _disk(r: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def dilate(mask: np.ndarray, r: int) -> np.ndarray:
    if r <= 0:
        return mask.copy()
    return cv2.dilate(mask.astype(np.uint8), _disk(r)).astype(bool)


def erode(mask: np.ndarray, r: int) -> np.ndarray:
    if r <= 0:
        return mask.copy()
    # OpenCV's default border for erosion is "+inf": a mask touching the image edge is not eroded
    # from that side (the image edge is not a mask border).
    return cv2.erode(mask.astype(np.uint8), _disk(r)).astype(bool)


# --------------------------------------------------------------------------------------------


def _luma(x: np.ndarray) -> np.ndarray:
    if x.ndim == 2:
        return x
    if x.shape[2] == 1:
        return x[:, :, 0]
    return x[:, :, 0] * 0.299 + x[:, :, 1] * 0.587 + x[:, :, 2] * 0.114


_WIN = 11
_SIGMA = 1.5


def _ssim_plane(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    k = cv2.getGaussianKernel(_WIN, _SIGMA, cv2.CV_64F)

    def blur(z):
        return cv2.sepFilter2D(z, cv2.CV_64F, k, k, borderType=cv2.BORDER_REFLECT)

    ux, uy = blur(x), blur(y)
    vx = blur(x * x) - ux * ux
    vy = blur(y * y) - uy * uy
    vxy = blur(x * y) - ux * uy
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    p = (_WIN - 1) // 2
    return float(s[p:-p, p:-p].mean())


def ssim(a, b, mode: str = "rgb", data_range: float = 255.0) -> float:
    """Mean SSIM (see the module docstring). Images at least 11x11."""
    x, y = _pair(a, b)
    if min(x.shape[:2]) < _WIN:
        raise ValueError(f"ssim needs images of at least {_WIN}x{_WIN}, got {x.shape[1]}x{x.shape[0]}")
    if mode == "luma":
        return _ssim_plane(_luma(x), _luma(y), data_range)
    if mode != "rgb":
        raise ValueError(f"mode must be 'rgb' or 'luma', got {mode!r}")
    if x.ndim == 2:
        return _ssim_plane(x, y, data_range)
    return float(np.mean([_ssim_plane(np.ascontiguousarray(x[:, :, c]), np.ascontiguousarray(y[:, :, c]),
                                      data_range) for c in range(x.shape[2])]))


def rmse(a, b) -> float:
    """Root mean squared error on the 0-255 scale, over all pixels and channels."""
    x, y = _pair(a, b)
    return float(np.sqrt(np.mean((x - y) ** 2)))


def psnr_from_mse(mse: float, peak: float = 255.0) -> float:
    if mse <= 0:
        return PSNR_CAP
    return float(min(PSNR_CAP, 10.0 * math.log10(peak * peak / mse)))


def psnr(a, b) -> float:
    """20 log10(255 / RMSE) in dB; identical images give `PSNR_CAP`."""
    x, y = _pair(a, b)
    return psnr_from_mse(float(np.mean((x - y) ** 2)))


def bg_psnr(result, content, mask, dilate_px: int = 4) -> float:
    """PSNR between result and content over the pixels outside the mask dilated by `dilate_px`.

    The dilation leaves room for a legitimate feathered transition at the border. Identical
    backgrounds give `PSNR_CAP`; a mask that covers the whole image (no background) gives NaN."""
    x, y = _pair(result, content)
    m = binarize_mask(mask, x.shape[:2])
    bg = ~dilate(m, int(dilate_px))
    if not bg.any():
        return float("nan")
    d = (x - y)[bg]
    return psnr_from_mse(float(np.mean(d * d)))


def gradient_magnitude(img) -> np.ndarray:
    """Per-pixel colour gradient magnitude sqrt(sum_c (dI_c/dx)^2 + (dI_c/dy)^2) on the 0-255 scale,
    with 3x3 Sobel derivatives normalised to units per pixel (divided by 8)."""
    x = np.asarray(img, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    g = np.zeros(x.shape[:2])
    for c in range(x.shape[2]):
        plane = np.ascontiguousarray(x[:, :, c])
        gx = cv2.Sobel(plane, cv2.CV_64F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT) / 8.0
        gy = cv2.Sobel(plane, cv2.CV_64F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT) / 8.0
        g += gx * gx + gy * gy
    return np.sqrt(g)


def border_band(mask, shape: tuple[int, int], band_px: int = 3) -> np.ndarray:
    """Pixels within `band_px` of the mask border, on both sides (bool HxW, ~2*band_px wide)."""
    m = binarize_mask(mask, shape)
    return dilate(m, band_px) & ~erode(m, band_px)


def seams(result, content, mask, band_px: int = 3, flat_below: float = FLAT_GRADIENT) -> tuple[float, float]:
    """(`seam`, `seam_flat`) from one pass: the border band and both gradient magnitudes are computed once."""
    x, y = _pair(result, content)
    band = border_band(mask, x.shape[:2], band_px)
    if not band.any():
        return float("nan"), float("nan")
    gx, gy = gradient_magnitude(x), gradient_magnitude(y)
    whole = max(0.0, float(gx[band].mean() - gy[band].mean()))
    flat = band & (gy < float(flat_below))
    return whole, (max(0.0, float(gx[flat].mean() - gy[flat].mean())) if flat.any() else float("nan"))


def seam(result, content, mask, band_px: int = 3) -> float:
    """Seam strength at the mask border, in gray levels per pixel (lower is better; 0 = none).

        seam = max(0, mean_band |grad result| - mean_band |grad content|)

    over the band of pixels within `band_px` of the (binarised) mask border. A visible seam is an
    edge the content did not have, so it shows up as extra gradient energy right on the border;
    an edit that keeps the content's edges there scores ~0. NaN when the mask has no border
    (empty or full mask)."""
    return seams(result, content, mask, band_px)[0]


def seam_flat(result, content, mask, band_px: int = 3, flat_below: float = FLAT_GRADIENT) -> float:
    """Seam strength where the photo has no edge of its own, in gray levels per pixel (lower is better).

        seam_flat = max(0, mean_flat |grad result| - mean_flat |grad content|)

    over the pixels of `seam`'s band whose content gradient magnitude is below `flat_below`. `seam`
    also counts an edit that changes the contrast of an edge the mask follows (a sky recoloured
    against a treeline); here only an edge the photo did not have counts. NaN when the band has no
    flat pixel (or the mask no border)."""
    return seams(result, content, mask, band_px, flat_below)[1]
