"""numpy <-> QImage/QPixmap conversions (copies; no shared buffers escape)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    a = np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def rgb_to_pixmap(rgb: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(rgb_to_qimage(rgb))


def rgba_to_pixmap(rgba: np.ndarray) -> QPixmap:
    """HxWx4 uint8 RGBA (straight alpha) -> QPixmap."""
    a = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = a.shape[:2]
    return QPixmap.fromImage(QImage(a.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy())


def qimage_to_rgb(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return buf[:, : 3 * w].reshape(h, w, 3).copy()


def thumbnail(rgb: np.ndarray, size: int, dpr: float = 1.0) -> QPixmap:
    """A devicePixelRatio-aware thumbnail whose long side is `size` logical pixels."""
    px = max(1, int(round(size * dpr)))
    pm = rgb_to_pixmap(rgb).scaled(px, px, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
    pm.setDevicePixelRatio(dpr)
    return pm
