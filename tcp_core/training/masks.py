"""Random free-form brush-stroke masks (for L_CA training, paper Sec. 3.3; in the spirit of
DeepFill v2's free-form masks): a few strokes of random vertices, widths and angles, plus an
occasional ellipse, so the model sees both thin strokes and large regions."""

from __future__ import annotations

import math

import cv2
import numpy as np


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
