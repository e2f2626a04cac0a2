"""The photo canvas: QGraphicsView with zoom/pan, before/after split, mask overlay and mask tools.

Scene units are *preview* pixels (the masks' resolution). The original photo is drawn from its
full-resolution pixmap when zoomed in past one preview pixel per device pixel (sharp on high-DPI
screens at any zoom) and from the preview pixmap otherwise (fast). "100%" means one photo pixel
per device pixel.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QCursor,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsView

from . import mask_ops
from .canvas_items import ImageItem, MaskOverlayItem, OutlineImageItem, region_colour  # noqa: F401 (re-exported)
from .services import extent

TOOLS = ("brush", "eraser", "lasso", "flood", "similar", "pan")
MIN_ZOOM, MAX_ZOOM = 0.01, 64.0
MAX_DISPLAY_PIXELS = 40_000_000  # larger photos are shown from a downscaled copy when zoomed in


class CanvasView(QGraphicsView):
    zoomChanged = Signal(float)  # percent (photo pixels per device pixel * 100)
    fileDropped = Signal(str)  # a photo or project dropped onto the canvas
    polygonFinished = Signal(object, str)  # list of (x, y) in mask pixels, mode ("add"/"subtract")
    floodRequested = Signal(int, int, str)  # x, y (mask pixels), mode
    similarRequested = Signal(int, int, str)
    strokeFinished = Signal()
    brushSizeChanged = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setBackgroundBrush(QBrush(QColor(40, 40, 43)))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image_item = ImageItem()
        self.overlay = MaskOverlayItem()
        self.scene().addItem(self.image_item)
        self.scene().addItem(self.overlay)
        self._lasso_item = QGraphicsPathItem()
        pen = QPen(QColor(255, 255, 255), 0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._lasso_item.setPen(pen)
        self._lasso_item.setZValue(3)
        self.scene().addItem(self._lasso_item)
        # The edit's extent (issue #15): a solid line where it stops and a dashed one from where it has full
        # strength; the automatic feather fades it in between. Both are the outlines of the feather the export
        # blends the edit with (`services.extent`): it follows the photo, so along the photo's edges the lines
        # hug them and across smooth parts they lie a few pixels out and in (with Mask edge "inside" the solid
        # line is the mask's own border).
        # Drawn into an image (numpy), not as a QPainterPath: building a path costs one Qt call per
        # point, and PySide6 6.12 on Python 3.11 drops a reference to None on every such call (a
        # noise-like mask has ~10^5 border points: "Fatal Python error: none_dealloc").
        self.extent_item = OutlineImageItem()
        self.extent_item.setZValue(2)
        self.scene().addItem(self.extent_item)
        self.extent: tuple[list, list] = ([], [])  # (outer, inner) contours shown
        self.model_info = None  # the loaded model's ModelInfo (the feather's width); None: the mask's own border
        self.edge = "across"  # the document's Mask edge
        self._outline_timer = QTimer(self)
        self._outline_timer.setSingleShot(True)
        self._outline_timer.setInterval(60)
        self._outline_timer.timeout.connect(self.update_extent_outline)
        self.document = None
        self.tool = "brush"
        self.brush_size = 40.0  # diameter in mask (preview) pixels
        self.brush_hardness = 0.7
        self.brush_opacity = 1.0
        self._stroke: mask_ops.StrokeBuffer | None = None
        self._stroke_uid = -1
        self._panning = False
        self._pan_last = QPointF()
        self._space_down = False
        self._lasso: list[tuple[float, float]] = []
        self._lasso_pressed = False
        self._lasso_dragged = False
        self._cursor_scene: QPointF | None = None
        self._fitted = True
        self._photo_scale = 1.0  # preview pixels per full-res pixel

    # document ---------------------------------------------------------------------------
    def set_document(self, doc) -> None:
        self.document = doc
        doc.photoChanged.connect(self._on_photo)
        doc.maskChanged.connect(self._on_mask)
        doc.activeRegionChanged.connect(lambda _uid: self.refresh_overlay())
        doc.regionsChanged.connect(self.refresh_overlay)

    def _on_photo(self) -> None:
        doc = self.document
        self.cancel_lasso()
        self._stroke = None
        if doc.preview is None:
            return
        full = doc.photo
        if full.shape[0] * full.shape[1] > MAX_DISPLAY_PIXELS:  # bound the display pixmap's memory
            s = (MAX_DISPLAY_PIXELS / (full.shape[0] * full.shape[1])) ** 0.5
            full = cv2.resize(full, (max(1, int(full.shape[1] * s)), max(1, int(full.shape[0] * s))),
                              interpolation=cv2.INTER_AREA)
        self.image_item.set_original(doc.preview, full)
        self._photo_scale = doc.preview_scale
        self.scene().setSceneRect(QRectF(0, 0, doc.preview.shape[1], doc.preview.shape[0]))
        self.refresh_overlay()
        self.fit()

    def _on_mask(self, uid: int, rect) -> None:
        r = self.document.active_region if self.document else None
        if r is not None and r.uid == uid:
            self.overlay.update_rect(r.mask, rect)
            self._outline_timer.start()

    def refresh_overlay(self) -> None:
        doc = self.document
        r = doc.active_region if doc else None
        if r is None:
            self.overlay.set_mask(None)
        else:
            self.overlay.set_mask(r.mask, region_colour(doc.index_of(r.uid)))
        self._outline_timer.start()

    def set_feather(self, info, edge: str) -> None:
        """The export's feather on this preview: the loaded model's `ModelInfo` (None: none yet) and the Mask edge
        ("across" the mask's edge or "inside" it)."""
        if (info, edge) != (self.model_info, self.edge):
            self.model_info, self.edge = info, edge
            self._outline_timer.start()

    def update_extent_outline(self) -> None:
        """Outline the active region's edit: where it stops and where it reaches full strength. Not while a brush
        stroke goes on (the feather costs tens of ms, a pause in the stroke would stutter): after it."""
        self._outline_timer.stop()
        if self.stroking:
            self._outline_timer.start()
            return
        doc = self.document
        r = doc.active_region if doc else None
        if r is None or not r.mask.any():
            self.extent = ([], [])
            self.extent_item.set_image(None)
            return
        same = doc.preview is not None and doc.preview.shape[:2] == r.mask.shape
        feathered = extent.edit_extent(r.mask, doc.preview, self.model_info, self.edge) if same else None
        self.extent = mask_ops.extent_outlines(r.mask if feathered is None else feathered)
        self.extent_item.set_image(mask_ops.extent_outline_image(r.mask.shape, *self.extent))

    def set_result(self, rgb: np.ndarray | None) -> None:
        doc = self.document
        self.image_item.set_result(rgb, doc.preview if doc is not None else None)

    def set_overlay_opacity(self, value: float) -> None:
        self.overlay.setOpacity(float(np.clip(value, 0.0, 1.0)))

    def set_show_original(self, on: bool) -> None:
        self.image_item.show_original = bool(on)
        self.image_item.update()

    def set_split(self, fraction: float | None) -> None:
        self.image_item.split = None if fraction is None else float(np.clip(fraction, 0.0, 1.0))
        self.image_item.update()
        self.viewport().update()

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        if tool != "lasso":
            self.cancel_lasso()
        self.tool = tool
        self._update_cursor()
        self.viewport().update()

    def set_brush_size(self, size: float) -> None:
        self.brush_size = float(np.clip(size, 1.0, 1000.0))
        self.brushSizeChanged.emit(self.brush_size)
        self.viewport().update()

    # zoom ---------------------------------------------------------------------------------
    def _dpr(self) -> float:
        return self.viewport().devicePixelRatioF() or 1.0

    def zoom_percent(self) -> float:
        return self.transform().m11() * self._photo_scale * self._dpr() * 100.0

    def fit(self) -> None:
        r = self.scene().sceneRect()
        if r.isEmpty():
            return
        self.fitInView(r, Qt.AspectRatioMode.KeepAspectRatio)
        self._fitted = True
        self.zoomChanged.emit(self.zoom_percent())

    def zoom_100(self) -> None:
        s = 1.0 / (self._photo_scale * self._dpr())
        self.setTransform(QTransform.fromScale(s, s))
        self._fitted = False
        self.zoomChanged.emit(self.zoom_percent())

    def zoom_by(self, factor: float, anchor_view: QPointF | None = None) -> None:
        cur = self.transform().m11()
        new = float(np.clip(cur * factor, MIN_ZOOM, MAX_ZOOM))
        if new == cur:
            return
        f = new / cur
        if anchor_view is not None:
            before = self.mapToScene(anchor_view.toPoint())
            old_anchor = self.transformationAnchor()
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
            self.scale(f, f)
            after = self.mapToScene(anchor_view.toPoint())
            d = after - before
            self.translate(d.x(), d.y())
            self.setTransformationAnchor(old_anchor)
        else:
            self.scale(f, f)
        self._fitted = False
        self.zoomChanged.emit(self.zoom_percent())

    def wheelEvent(self, event: QWheelEvent) -> None:
        dy = event.angleDelta().y() or event.pixelDelta().y()
        if dy == 0:
            return
        self.zoom_by(math.pow(1.0015, dy), event.position())
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    # mouse ---------------------------------------------------------------------------------
    def _scene_xy(self, pos) -> tuple[float, float]:
        p = self.mapToScene(pos.toPoint() if hasattr(pos, "toPoint") else pos)
        return p.x(), p.y()

    def _mode(self, event) -> str:
        return "subtract" if event.modifiers() & Qt.KeyboardModifier.AltModifier else "add"

    def _pan_active(self) -> bool:
        return self.tool == "pan" or self._space_down

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self._pan_active()):
            self._panning = True
            self._pan_last = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        doc = self.document
        if event.button() != Qt.MouseButton.LeftButton or doc is None or not doc.has_photo:
            super().mousePressEvent(event)
            return
        x, y = self._scene_xy(event.position())
        if self.tool in ("brush", "eraser"):
            self._begin_stroke(x, y, erase=self.tool == "eraser" or self._mode(event) == "subtract")
        elif self.tool == "lasso":
            self._lasso_pressed = True
            self._lasso_dragged = False
            self._lasso.append((x, y))
            self._update_lasso_item()
        elif self.tool == "flood":
            self.floodRequested.emit(int(x), int(y), self._mode(event))
        elif self.tool == "similar":
            self.similarRequested.emit(int(x), int(y), self._mode(event))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._panning:
            d = event.position() - self._pan_last
            self._pan_last = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(round(d.x())))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(round(d.y())))
            self._fitted = False
            event.accept()
            return
        x, y = self._scene_xy(event.position())
        old = self._cursor_scene
        self._cursor_scene = QPointF(x, y)
        if self._stroke is not None:
            rect = self._stroke.add_point(x, y)
            if rect is not None:
                self.document.notify_mask(self._stroke_uid, rect)
        elif self.tool == "lasso" and self._lasso_pressed:
            lx, ly = self._lasso[-1]
            if math.hypot(x - lx, y - ly) * self.transform().m11() > 3:
                self._lasso.append((x, y))
                self._lasso_dragged = True
                self._update_lasso_item()
        elif self.tool == "lasso" and self._lasso:
            self._update_lasso_item((x, y))
        if self.tool in ("brush", "eraser"):
            self._update_brush_cursor(old)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._panning and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._panning = False
            self._update_cursor()
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            if self._stroke is not None:
                self._end_stroke()
            elif self.tool == "lasso" and self._lasso_pressed:
                self._lasso_pressed = False
                if self._lasso_dragged and len(self._lasso) >= 3:
                    self.finish_lasso(self._mode(event))
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool == "lasso" and event.button() == Qt.MouseButton.LeftButton:
            self.finish_lasso(self._mode(event))
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def leaveEvent(self, event) -> None:
        old = self._cursor_scene
        self._cursor_scene = None
        self._update_brush_cursor(old)
        super().leaveEvent(event)

    # keys -----------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        k = event.key()
        if k == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self._update_cursor()
        elif k == Qt.Key.Key_BracketLeft:
            self.set_brush_size(self.brush_size / 1.15)
        elif k == Qt.Key.Key_BracketRight:
            self.set_brush_size(self.brush_size * 1.15)
        elif k in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._lasso:
            self.finish_lasso("add")
        elif k == Qt.Key.Key_Escape and self._lasso:
            self.cancel_lasso()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            self._panning = False
            self._update_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    # strokes ---------------------------------------------------------------------------------
    def _begin_stroke(self, x: float, y: float, erase: bool) -> None:
        doc = self.document
        region = doc.active_region
        if region is None:
            if erase:
                return
            doc.add_region()
            region = doc.active_region
        self._stroke_uid = region.uid
        self._stroke = mask_ops.StrokeBuffer(region.mask, self.brush_size / 2.0, self.brush_hardness,
                                             self.brush_opacity, erase)
        rect = self._stroke.add_point(x, y)
        if rect is not None:
            doc.notify_mask(region.uid, rect)

    def _end_stroke(self) -> None:
        s, uid = self._stroke, self._stroke_uid
        self._stroke = None
        if s is None or s.dirty is None:
            return
        x0, y0, x1, y1 = s.dirty
        text = "Erase" if s.erase else "Brush stroke"
        self.document.commit_stroke(uid, s.dirty, s.before[y0:y1, x0:x1].copy(), text)
        self.strokeFinished.emit()

    @property
    def stroking(self) -> bool:
        return self._stroke is not None

    # lasso ------------------------------------------------------------------------------------
    def _update_lasso_item(self, hover=None) -> None:
        path = QPainterPath()
        pts = list(self._lasso) + ([hover] if hover else [])
        if pts:
            if len(pts) > 2:
                pts.append(pts[0])
            # one call for the whole outline (not lineTo per point: see pyside_fix)
            path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in pts]))
        self._lasso_item.setPath(path)

    def finish_lasso(self, mode: str = "add") -> None:
        pts = list(self._lasso)
        self.cancel_lasso()
        if len(pts) >= 3:
            self.polygonFinished.emit(pts, mode)

    def cancel_lasso(self) -> None:
        self._lasso = []
        self._lasso_pressed = False
        self._lasso_item.setPath(QPainterPath())

    # cursor -------------------------------------------------------------------------------------
    def _update_cursor(self) -> None:
        if self._pan_active():
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif self.tool in ("brush", "eraser"):
            self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        elif self.tool in ("flood", "similar", "lasso"):
            self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.viewport().setCursor(QCursor())

    def _brush_view_rect(self, p: QPointF | None):
        if p is None:
            return None
        r = self.brush_size / 2.0
        return self.mapFromScene(QRectF(p.x() - r, p.y() - r, 2 * r, 2 * r)).boundingRect().adjusted(-3, -3, 3, 3)

    def _update_brush_cursor(self, old: QPointF | None) -> None:
        for p in (old, self._cursor_scene):
            rect = self._brush_view_rect(p)
            if rect is not None:
                self.viewport().update(rect)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        split = self.image_item.split
        if split is not None and self.image_item.preview_pix is not None and self.image_item.result_pix is not None:
            pen = QPen(QColor(255, 255, 255, 220), 0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            x = self.image_item._w * split
            painter.drawLine(QPointF(x, 0), QPointF(x, self.image_item._h))
        if self._cursor_scene is not None and self.tool in ("brush", "eraser") and not self._pan_active():
            r = self.brush_size / 2.0
            for colour, width in ((QColor(0, 0, 0, 160), 3), (QColor(255, 255, 255, 230), 1)):
                pen = QPen(colour, width)
                pen.setCosmetic(True)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(self._cursor_scene, r, r)

    # drag and drop ------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if not urls:
            event.ignore()
            return
        event.acceptProposedAction()
        # defer: the drop handler may open a modal error dialog
        path = urls[0].toLocalFile()
        QTimer.singleShot(0, lambda: self.fileDropped.emit(path))
