"""Frechet distance between Gaussians, and FID on feature sets (float64 numpy, no scipy).

    d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2)

tr sqrt(S1 S2) is computed as the sum of the square roots of the eigenvalues of the symmetric PSD
matrix sqrt(S1) S2 sqrt(S1), which has the same eigenvalues as S1 S2 (so no non-symmetric
`sqrtm` and no complex parts). Tiny negative eigenvalues from rounding are clipped to 0 and the
result is clipped at 0.
"""

from __future__ import annotations

import numpy as np


def _as_stats(mu, sigma) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1:
        raise ValueError(f"mean must be a vector, got shape {mu.shape}")
    if sigma.shape != (mu.size, mu.size):
        raise ValueError(f"covariance shape {sigma.shape} does not match mean size {mu.size}")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError("statistics contain NaN or infinite values")
    return mu, (sigma + sigma.T) / 2


def sqrtm_psd(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix (eigenvalues clipped at 0)."""
    w, v = np.linalg.eigh(np.asarray(s, dtype=np.float64))
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(s1: np.ndarray, s2: np.ndarray) -> float:
    """tr sqrt(S1 S2) for symmetric PSD S1, S2."""
    r = sqrtm_psd(s1)
    m = r @ s2 @ r
    w = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared Frechet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    Scalars are accepted for the 1-D case (sigma = variance)."""
    mu1, s1 = _as_stats(mu1, sigma1)
    mu2, s2 = _as_stats(mu2, sigma2)
    if mu1.shape != mu2.shape:
        raise ValueError(f"dimension mismatch: {mu1.size} vs {mu2.size}")
    diff = mu1 - mu2
    d = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt_product(s1, s2))
    return max(d, 0.0)


def feature_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, ddof=1) covariance of samples [N, D]; one sample gives a zero covariance."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim == 1:
        f = f[:, None]
    if f.ndim != 2 or f.shape[0] < 1:
        raise ValueError(f"features must be [N, D] with N >= 1, got shape {f.shape}")
    mu = f.mean(axis=0)
    if f.shape[0] == 1:
        return mu, np.zeros((f.shape[1], f.shape[1]))
    c = f - mu
    return mu, (c.T @ c) / (f.shape[0] - 1)


def _as_samples(f) -> np.ndarray:
    if hasattr(f, "detach"):
        f = f.detach().cpu().numpy()
    f = np.asarray(f, dtype=np.float64)
    if f.ndim == 1:
        f = f[:, None]
    if f.ndim != 2 or f.shape[0] < 1:
        raise ValueError(f"features must be [N, D] with N >= 1, got shape {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError("features contain NaN or infinite values")
    return f


def fid(features_a, features_b) -> float:
    """FID between two feature sets [Na, D] and [Nb, D] (e.g. `Backbone.pool` outputs).

    With fewer samples than dimensions the covariances are singular; the distance is still
    defined (and is what such small evaluations can measure: compare runs of equal size only).
    Then it is computed exactly in sample space, which is much cheaper than D x D
    eigendecompositions: with centred samples A [Na, D], B [Nb, D], S1 = A^T A / (Na - 1) and
    S2 = B^T B / (Nb - 1), the nonzero eigenvalues of S1 S2 are the squared singular values of
    M = A B^T / sqrt((Na - 1)(Nb - 1)), so tr sqrt(S1 S2) = the nuclear norm of M."""
    a, b = _as_samples(features_a), _as_samples(features_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"dimension mismatch: {a.shape[1]} vs {b.shape[1]}")
    n1, n2, d = a.shape[0], b.shape[0], a.shape[1]
    if n1 < 2 or n2 < 2 or max(n1, n2) >= d:
        mu1, s1 = feature_stats(a)
        mu2, s2 = feature_stats(b)
        return frechet_distance(mu1, s1, mu2, s2)
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    ca, cb = a - mu1, b - mu2
    tr1 = float((ca * ca).sum()) / (n1 - 1)
    tr2 = float((cb * cb).sum()) / (n2 - 1)
    m = (ca @ cb.T) / np.sqrt((n1 - 1) * (n2 - 1))
    nuclear = float(np.linalg.svd(m, compute_uv=False).sum())
    diff = mu1 - mu2
    return max(float(diff @ diff + tr1 + tr2 - 2.0 * nuclear), 0.0)
