"""Metrics on backbone features: SIFID, SSD (STROTSS self-similarity distance), style distance.

Images are HxWx3 uint8 arrays (or [3,H,W] / [1,3,H,W] float tensors in [0, 1]); `backbone` is a
`tcp_core.eval.metrics.backbones.Backbone`. Numbers depend on the backbone: label them with
`backbone.short` (e.g. `SIFID-mnv2`).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from tcp_core.eval.metrics.backbones import Backbone
from tcp_core.eval.metrics.frechet import feature_stats, frechet_distance


def _hw(img) -> tuple[int, int]:
    if isinstance(img, torch.Tensor):
        return int(img.shape[-2]), int(img.shape[-1])
    a = np.asarray(img)
    return int(a.shape[0]), int(a.shape[1])


def early_samples(img, backbone: Backbone) -> np.ndarray:
    """Early feature vectors of one image, every spatial position a sample: [h*w, C] float64."""
    f = backbone.early(img)[0]  # [C, h, w]
    return f.reshape(f.shape[0], -1).T.double().cpu().numpy()


def sifid_from_samples(fa: np.ndarray, fb: np.ndarray) -> float:
    mu1, s1 = feature_stats(fa)
    mu2, s2 = feature_stats(fb)
    return frechet_distance(mu1, s1, mu2, s2)


def sifid(img_a, img_b, backbone: Backbone) -> float:
    """Single-image FID (SinGAN): Frechet distance between the distributions of the two images'
    early-layer feature vectors (`backbone.early`, each spatial position one sample). The images
    may differ in size."""
    return sifid_from_samples(early_samples(img_a, backbone), early_samples(img_b, backbone))


# --------------------------------------------------------------------------------------------


def sample_locations(h: int, w: int, n: int = 1024, seed: int = 0) -> np.ndarray:
    """min(n, h*w) distinct pixel locations [K, 2] (row, col), reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    k = min(int(n), h * w)
    flat = rng.choice(h * w, size=k, replace=False)
    return np.stack([flat // w, flat % w], axis=1)


def self_similarity(features) -> np.ndarray:
    """STROTSS self-similarity matrix of hypercolumns [K, C]: cosine distances D_ij = 1 - cos(f_i, f_j),
    each column normalised to sum 1. float64 [K, K]."""
    f = torch.as_tensor(features).float()
    f = f / f.norm(dim=1, keepdim=True).clamp_min(1e-12)
    d = (1.0 - f @ f.T).clamp_min(0.0).double()  # float32 Gram matrix (cosines need no more)
    d.fill_diagonal_(0.0)
    d = d / d.sum(dim=0, keepdim=True).clamp_min(1e-12)
    return d.cpu().numpy()


def ssd_from_matrices(dx: np.ndarray, dy: np.ndarray) -> float:
    """SSD = mean |D_x - D_y| * K for two column-normalised K x K self-similarity matrices."""
    if dx.shape != dy.shape:
        raise ValueError(f"self-similarity matrices differ in shape: {dx.shape} vs {dy.shape}")
    return float(np.abs(dx - dy).mean() * dx.shape[0])


def ssd(img_a, img_b, backbone: Backbone, n: int = 1024, seed: int = 0) -> float:
    """Self-similarity distance (STROTSS; SwapAE's structure metric): the same `n` random
    locations (from `seed`) in both images, hypercolumn features there, each image's K x K
    column-normalised cosine-distance matrix, SSD = mean |D_a - D_b| * K. Lower = structure kept.
    The images must have the same size."""
    ha, hb = _hw(img_a), _hw(img_b)
    if ha != hb:
        raise ValueError(f"ssd compares images of the same size, got {ha} and {hb}")
    idx = sample_locations(ha[0], ha[1], n, seed)
    fa = backbone.hypercolumn(img_a, idx)[0]
    fb = backbone.hypercolumn(img_b, idx)[0]
    return ssd_from_matrices(self_similarity(fa), self_similarity(fb))


# --------------------------------------------------------------------------------------------


def masked_moments(fmap: torch.Tensor, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of a [C, h, w] map, weighted by `weights` [h, w]
    (None = uniform). float64 numpy vectors."""
    f = fmap.double().reshape(fmap.shape[0], -1).cpu().numpy()
    if weights is None:
        return f.mean(axis=1), f.std(axis=1)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    total = w.sum()
    if total <= 1e-8:
        raise ValueError("empty mask")
    mu = (f * w).sum(axis=1) / total
    var = (((f - mu[:, None]) ** 2) * w).sum(axis=1) / total
    return mu, np.sqrt(np.clip(var, 0.0, None))


def mask_weights(mask, shape_img: tuple[int, int], shape_feat: tuple[int, int]) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[:, :, 0]
    if m.shape != tuple(shape_img):
        raise ValueError(f"mask shape {m.shape} does not match the image shape {tuple(shape_img)}")
    if m.dtype == bool:
        m = m.astype(np.float32)
    elif m.dtype == np.uint8:
        m = m.astype(np.float32) / 255.0
    else:
        m = np.clip(m.astype(np.float32), 0.0, 1.0)
    h, w = shape_feat
    return cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA).astype(np.float64)


def style_distance_from_moments(mu_r, sd_r, mu_s, sd_s) -> float:
    """RMS over channels of the mean difference plus RMS of the standard-deviation difference."""
    return float(np.sqrt(np.mean((mu_r - mu_s) ** 2)) + np.sqrt(np.mean((sd_r - sd_s) ** 2)))


def style_dist(result, style, mask, backbone: Backbone) -> float:
    """How far the masked region of `result` is from the style reference in feature statistics
    (lower = the style moved more):

        style_dist = RMS_c(mu_r - mu_s) + RMS_c(sigma_r - sigma_s)

    mu/sigma: per-channel mean/std of `backbone.early` features; for the result weighted by the mask
    area-downsampled to the feature grid, for the style over the whole style image (any size).
    NaN for an empty mask."""
    fr = backbone.early(result)[0]
    w = mask_weights(mask, _hw(result), tuple(fr.shape[-2:]))
    if w.sum() <= 1e-8:
        return float("nan")
    mu_r, sd_r = masked_moments(fr, w)
    mu_s, sd_s = masked_moments(backbone.early(style)[0], None)
    return style_distance_from_moments(mu_r, sd_r, mu_s, sd_s)
