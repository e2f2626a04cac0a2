"""Scene items the canvas draws: the photo/result with its before/after split, the active region's
mask overlay (premultiplied ARGB, dirty-rectangle updates) and the edit's extent outline."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from .qtimage import rgb_to_pixmap, rgba_to_pixmap

REGION_COLOURS = [(255, 64, 64), (64, 160, 255), (64, 220, 96), (255, 200, 40), (200, 80, 255), (40, 220, 220),
                  (255, 128, 0), (255, 90, 180)]


def region_colour(index: int) -> tuple[int, int, int]:
    return REGION_COLOURS[index % len(REGION_COLOURS)]


class ImageItem(QGraphicsItem):
    """Original photo + edit result, with a before/after split and a hold-to-see-original mode."""

    def __init__(self) -> None:
        super().__init__()
        self.preview_pix: QPixmap | None = None
        self.full_pix: QPixmap | None = None
        self.result_pix: QPixmap | None = None
        self.show_original = False
        self.split: float | None = None  # None: no split; else fraction of the width showing the original
        self._w, self._h = 0, 0
        self.setZValue(0)

    def set_original(self, preview: np.ndarray, full: np.ndarray | None) -> None:
        self.prepareGeometryChange()
        self.preview_pix = rgb_to_pixmap(preview)
        self.full_pix = rgb_to_pixmap(full) if full is not None and full.shape != preview.shape else None
        self._h, self._w = preview.shape[:2]
        self.result_pix = None
        self.update()

    def set_result(self, rgb: np.ndarray | None, base: np.ndarray | None = None) -> None:
        """Show an edit result. With `base` (the preview it was computed from), pixels the edit did
        not change are left transparent, so there the original shows through at full resolution
        (sharp when zoomed in or on high-DPI screens); only edited pixels come from the preview."""
        if rgb is None:
            self.result_pix = None
        elif base is not None and base.shape == rgb.shape:
            # per-channel OR of |rgb - base| (cv2 on contiguous planes: ~10x faster than
            # np.any(rgb != base, axis=2) on a 1024 px preview, which runs on every slider step)
            d0, d1, d2 = cv2.split(cv2.absdiff(np.ascontiguousarray(rgb), np.ascontiguousarray(base)))
            changed = cv2.bitwise_or(cv2.bitwise_or(d0, d1), d2)
            if cv2.countNonZero(changed) == changed.size:
                self.result_pix = rgb_to_pixmap(rgb)
            else:
                rgba = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2RGBA)
                rgba[:, :, 3] = cv2.dilate((changed > 0).view(np.uint8) * np.uint8(255), np.ones((3, 3), np.uint8))
                self.result_pix = rgba_to_pixmap(rgba)
        else:
            self.result_pix = rgb_to_pixmap(rgb)
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._w, self._h)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        if self.preview_pix is None:
            return
        target = QRectF(0, 0, self._w, self._h)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        pix = self.full_pix if (self.full_pix is not None and lod * dpr > 1.01) else self.preview_pix
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, lod * dpr < 4)
        painter.drawPixmap(target, pix, QRectF(pix.rect()))
        if self.result_pix is None or self.show_original:
            return
        painter.save()
        if self.split is not None:
            x = self._w * float(self.split)
            painter.setClipRect(QRectF(x, 0, self._w - x, self._h))
        painter.drawPixmap(target, self.result_pix, QRectF(self.result_pix.rect()))
        painter.restore()


class MaskOverlayItem(QGraphicsItem):
    """The active region's mask as a translucent colour (premultiplied ARGB, dirty-rect updates)."""

    def __init__(self) -> None:
        super().__init__()
        self._buf: np.ndarray | None = None  # HxWx4 uint8 BGRA premultiplied
        self._img: QImage | None = None
        self.colour = region_colour(0)
        self.setZValue(1)
        self.setOpacity(0.45)

    def boundingRect(self) -> QRectF:
        if self._buf is None:
            return QRectF()
        return QRectF(0, 0, self._buf.shape[1], self._buf.shape[0])

    def set_mask(self, mask: np.ndarray | None, colour=None) -> None:
        self.prepareGeometryChange()
        if colour is not None:
            self.colour = colour
        if mask is None:
            self._buf, self._img = None, None
            self.update()
            return
        h, w = mask.shape
        self._buf = np.zeros((h, w, 4), np.uint8)
        self._img = QImage(self._buf.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        self.update_rect(mask, (0, 0, w, h))

    def update_rect(self, mask: np.ndarray, rect) -> None:
        if self._buf is None or mask.shape != self._buf.shape[:2]:
            self.set_mask(mask)
            return
        x0, y0, x1, y1 = rect if rect is not None else (0, 0, mask.shape[1], mask.shape[0])
        a = mask[y0:y1, x0:x1]
        r, g, b = self.colour
        patch = self._buf[y0:y1, x0:x1]
        patch[:, :, 3] = np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
        patch[:, :, 2] = np.clip(a * r + 0.5, 0, 255).astype(np.uint8)
        patch[:, :, 1] = np.clip(a * g + 0.5, 0, 255).astype(np.uint8)
        patch[:, :, 0] = np.clip(a * b + 0.5, 0, 255).astype(np.uint8)
        # a margin: at fractional zoom the view's repaint region is rounded; without it thin seams
        # of the old overlay survive at the rectangle's edges
        self.update(QRectF(x0 - 2, y0 - 2, x1 - x0 + 4, y1 - y0 + 4))

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._img is not None:
            painter.drawImage(QPointF(0, 0), self._img)


class OutlineImageItem(QGraphicsItem):
    """A premultiplied BGRA image over the photo (the edit-extent outline), one preview pixel each."""

    def __init__(self) -> None:
        super().__init__()
        self._buf: np.ndarray | None = None
        self._img: QImage | None = None

    def boundingRect(self) -> QRectF:
        if self._buf is None:
            return QRectF()
        return QRectF(0, 0, self._buf.shape[1], self._buf.shape[0])

    def set_image(self, bgra: np.ndarray | None) -> None:
        self.prepareGeometryChange()
        if bgra is None:
            self._buf, self._img = None, None
        else:
            self._buf = np.ascontiguousarray(bgra)
            h, w = self._buf.shape[:2]
            self._img = QImage(self._buf.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._img is not None:
            painter.drawImage(QPointF(0, 0), self._img)
