"""He et al.'s guided filter with a colour guide (numpy + OpenCV, no torch): shared by the full-resolution colour
transform (`tcp_core.editing.fullres`), the export's interior ramp (`tcp_core.editing.apply.interior_weight`) and
the photo-guided feather (`tcp_core.editing.masks.guided_mask`, the fast subsampled form)."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["guided_coefficients", "guided_filter", "inv_sym3", "local_cov3"]


def inv_sym3(m: np.ndarray) -> np.ndarray:
    """Inverse of a stack (..., 3, 3) of symmetric positive definite matrices, by the adjugate."""
    a, b, c = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    d, e, f = m[..., 1, 1], m[..., 1, 2], m[..., 2, 2]
    i00 = d * f - e * e
    i01 = c * e - b * f
    i02 = b * e - c * d
    i11 = a * f - c * c
    i12 = b * c - a * e
    i22 = a * d - b * b
    det = a * i00 + b * i01 + c * i02
    inv = np.empty_like(m)
    for (r, k), v in {(0, 0): i00, (0, 1): i01, (0, 2): i02, (1, 1): i11, (1, 2): i12, (2, 2): i22}.items():
        inv[..., r, k] = v / det
        inv[..., k, r] = inv[..., r, k]
    return inv


def local_cov3(img: np.ndarray, mean: np.ndarray, box) -> np.ndarray:
    """Windowed colour covariance of `img` (HxWx3) with its windowed mean `mean` (= box(img)) and the
    window filter `box`: [H, W, 3, 3], symmetric."""
    cov = np.empty(img.shape[:2] + (3, 3))
    for i in range(3):
        for j in range(i, 3):
            cov[..., i, j] = cov[..., j, i] = box(img[..., i] * img[..., j]) - mean[..., i] * mean[..., j]
    return cov


def guided_coefficients(guide: np.ndarray, p: np.ndarray, radius: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """The guided filter's local linear model of `p` (HxW) in the colour `guide` (HxWx3 float, 0-1 scale) over
    (2 radius + 1)^2 windows with ridge `eps`, its coefficients averaged over the windows: (A [H, W, 3], b [H, W])
    float64, so that q = A . guide + b."""
    k = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)

    I = guide.astype(np.float64)
    p = p.astype(np.float64)
    mean_i, mean_p = box(I), box(p)
    cov_ip = box(I * p[..., None]) - mean_i * mean_p[..., None]  # [H, W, 3]
    A = np.einsum("hwij,hwj->hwi", inv_sym3(local_cov3(I, mean_i, box) + eps * np.eye(3)), cov_ip)
    b = mean_p - (A * mean_i).sum(-1)
    return box(A), box(b)


def guided_filter(guide: np.ndarray, p: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter of a one-channel image `p` (HxW float) with a colour guide (HxWx3 in
    [0, 1]): q = A(x) . I(x) + b(x), the local linear model of p in I over (2 radius + 1)^2 windows,
    ridge `eps` in variance units, coefficients averaged over the windows. Where the guide is flat q is
    a box blur of p; across the guide's edges q keeps p's steps. (`fullres.fit_local_color_transform` is the
    same model with a colour target and a ridge towards a global prior.)"""
    A, b = guided_coefficients(guide, p, radius, eps)
    return (A * guide.astype(np.float64)).sum(-1) + b
