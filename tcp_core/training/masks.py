"""Random free-form brush-stroke masks (for L_CA training, paper Sec. 3.3; in the spirit of
DeepFill v2's free-form masks): a few strokes of random vertices, widths and angles, plus an
occasional ellipse, so the model sees both thin strokes and large regions."""

from __future__ import annotations

import math

import cv2
import numpy as np

from tcp_core.base.config import CA_MASKS


def free_form_mask(
    size: int | tuple[int, int], rng: np.random.Generator, max_strokes: int = 4,
    min_coverage: float = 0.05, max_coverage: float = 0.7,
) -> np.ndarray:
    """One random mask, float32 [H, W] in {0, 1}, coverage in [min_coverage, max_coverage]."""
    h, w = (size, size) if isinstance(size, int) else size
    for _ in range(20):
        m = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, max_strokes + 1))):
            if rng.random() < 0.25:
                center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                axes = (int(rng.integers(w // 8, w // 2 + 1)), int(rng.integers(h // 8, h // 2 + 1)))
                cv2.ellipse(m, center, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
                continue
            x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
            width = int(rng.integers(max(2, w // 16), max(3, w // 4)))
            angle = rng.uniform(0, 2 * math.pi)
            for _ in range(int(rng.integers(2, 8))):
                angle += rng.uniform(-1.2, 1.2)
                length = rng.uniform(h / 8, h / 2)
                nx = float(np.clip(x + length * math.cos(angle), 0, w - 1))
                ny = float(np.clip(y + length * math.sin(angle), 0, h - 1))
                cv2.line(m, (int(x), int(y)), (int(nx), int(ny)), 1, width)
                cv2.circle(m, (int(nx), int(ny)), width // 2, 1, -1)
                x, y = nx, ny
        cov = m.mean()
        if min_coverage <= cov <= max_coverage:
            break
    return m.astype(np.float32)


def free_form_masks(n: int, size: int | tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A batch of masks [n, 1, H, W] float32."""
    return np.stack([free_form_mask(size, rng) for _ in range(n)])[:, None]


CA_MASK_KINDS = CA_MASKS  # the kinds `training_masks` makes: TrainConfig.ca_masks's choices


def training_masks(kind: str, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """L_CA's masks for a batch of content photos ``images`` (uint8 [n, H, W, 3]) -> [n, 1, H, W]
    float32: "strokes" = free-form strokes that ignore the photo (the paper's), "regions" = one
    content-following region per photo (``region_mask``, as a user brushes a sky), "mixed" = each
    mask either kind with probability 1/2."""
    if kind not in CA_MASK_KINDS:
        raise ValueError(f"mask kind must be one of {CA_MASK_KINDS}, got {kind!r}")
    n, h, w, _ = images.shape
    out = []
    for i in range(n):
        regions = kind == "regions" or (kind == "mixed" and rng.random() < 0.5)
        out.append(region_mask(images[i], rng, 0.05, 0.7) if regions else free_form_mask((h, w), rng))
    return np.stack(out)[:, None]


def region_mask(
    image: np.ndarray, rng: np.random.Generator, min_coverage: float = 0.1, max_coverage: float = 0.5,
) -> np.ndarray:
    """A mask that follows the photo's content, as a user brushes "the sky" or "the rock": one
    connected region of a colour-and-position clustering of ``image`` (uint8 RGB [H, W, 3]),
    cleaned of specks and holes. float32 [H, W] in {0, 1}; coverage in [min_coverage, max_coverage]
    when such a region exists, else the candidate closest to that range."""
    h, w = image.shape[:2]
    assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8, (image.shape, image.dtype)
    smooth = cv2.bilateralFilter(image, 9, 40, 7)
    lab = cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB).astype(np.float32).reshape(-1, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    pos = np.stack([yy.ravel() / max(h, w), xx.ravel() / max(h, w)], 1) * 25.0  # position weighs like ~25 Lab units
    feats = np.concatenate([lab, pos], 1)
    k_size = max(3, min(h, w) // 40) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k_size, k_size))
    best, best_gap = None, np.inf
    for _ in range(6):
        k = int(rng.integers(2, 6))
        centers = feats[rng.choice(len(feats), k, replace=False)]
        for _ in range(8):  # plain k-means, seeded by rng (reproducible)
            d = ((feats[:, None, :] - centers[None]) ** 2).sum(-1)
            labels = d.argmin(1)
            centers = np.stack([feats[labels == j].mean(0) if (labels == j).any() else centers[j] for j in range(k)])
        labels = labels.reshape(h, w)
        cands = []
        for j in range(k):
            n_cc, cc = cv2.connectedComponents((labels == j).astype(np.uint8), connectivity=8)
            for c in range(1, n_cc):
                m = cv2.morphologyEx((cc == c).astype(np.uint8), cv2.MORPH_CLOSE, kernel)
                m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
                m = fill_holes(m)
                cov = float(m.mean())
                gap = max(0.0, min_coverage - cov, cov - max_coverage)
                cands.append((gap, m))
        inside = [m for gap, m in cands if gap == 0.0]
        if inside:
            return inside[int(rng.integers(len(inside)))].astype(np.float32)
        gap, m = min(cands, key=lambda t: t[0])
        if gap < best_gap:
            best, best_gap = m, gap
    return best.astype(np.float32)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill the holes of a {0, 1} uint8 mask (background not reachable from the border)."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 1)
    holes = (flood == 0)[1:-1, 1:-1]
    return (mask | holes).astype(np.uint8)
