"""The "Style part" dialog (issue #13): brush the part of a region's style reference to take the
style from (its sky, say) instead of the whole photo.

The dialog edits a private copy of the mask; OK hands it to `Document.set_style_mask` (one undo
step), Cancel drops it. An empty mask means "the whole reference". "Match region" (when the
controller gives the dialog a `match` callable) asks the inference worker for the part of the
style photo that looks like the region (`TCPModel.match_style_part`); the controller answers with
`set_matched` / `match_failed`, and the answer replaces the canvas mask, to refine with the brush.
"Select" (when the controller gives a `select` callable) is Select similar on the style photo: a click
asks the worker for the part like the clicked point (`TCPModel.similar_region`), and `set_selected` adds
it to the mask (Alt+click takes it away). No torch, no tcp_core.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from . import mask_ops
from .qtimage import rgb_to_qimage
from .widgets import Slider

OVERLAY_RGB = (255, 64, 64)
OVERLAY_ALPHA = 0.5
DEFAULT_BRUSH = 40  # style photo pixels (radius)
MATCH_TIP = ("Select the part of the style photo that looks like the region being restyled "
             "(its sky for a sky, say); refine it with the brush afterwards")
MATCH_EMPTY_TIP = ("The region is empty: brush it on the photo first "
                   "(Match region looks for the part of the style photo that resembles it)")


class StylePartCanvas(QWidget):
    """The style photo, fitted to the widget, with the mask as a red overlay; left-drag paints
    (or erases, in erase mode or with Alt) with a soft round brush in the photo's pixels."""

    maskEdited = Signal()
    pointClicked = Signal(int, int, bool)  # select mode: a click at style-photo pixel (x, y); True with Alt

    def __init__(self, rgb: np.ndarray, mask: np.ndarray | None = None, parent=None) -> None:
        super().__init__(parent)
        self.rgb = np.ascontiguousarray(rgb[:, :, :3], np.uint8)
        h, w = self.rgb.shape[:2]
        self.mask = np.zeros((h, w), np.float32) if mask is None else np.array(mask, np.float32, copy=True)
        self.erase = False
        self.select = False  # a click asks for the part like the clicked point (pointClicked) instead of painting
        self.brush_radius = float(DEFAULT_BRUSH)
        self._image = rgb_to_qimage(self.rgb)
        self._overlay: QImage | None = None
        self._stroke: mask_ops.StrokeBuffer | None = None
        self._cursor: QPointF | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._update_overlay()

    # geometry ------------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the photo is drawn (fitted, centred) in widget coordinates."""
        h, w = self.rgb.shape[:2]
        s = min(self.width() / w, self.height() / h)
        dw, dh = w * s, h * s
        return QRectF((self.width() - dw) / 2, (self.height() - dh) / 2, dw, dh)

    def to_image(self, pos: QPointF) -> tuple[float, float]:
        r = self.image_rect()
        s = r.width() / self.rgb.shape[1]
        return (pos.x() - r.x()) / s - 0.5, (pos.y() - r.y()) / s - 0.5

    def to_widget(self, x: float, y: float) -> QPointF:
        """Widget position of photo pixel (x, y) (tests, the brush outline)."""
        r = self.image_rect()
        s = r.width() / self.rgb.shape[1]
        return QPointF(r.x() + (x + 0.5) * s, r.y() + (y + 0.5) * s)

    # editing -------------------------------------------------------------------------------
    def clear(self) -> None:
        self.mask[:] = 0.0
        self._update_overlay()
        self.maskEdited.emit()

    def set_mask(self, mask: np.ndarray) -> None:
        """Replace the whole mask (Match region's answer; resized to the style photo if needed).
        In place, so that a stroke in progress goes on painting onto the new mask."""
        m = np.clip(np.nan_to_num(np.asarray(mask, np.float32)), 0.0, 1.0)
        if m.ndim != 2:
            raise ValueError(f"a style mask is HxW, got shape {m.shape}")
        if m.shape != self.mask.shape:
            m = mask_ops.resize_mask(m, self.mask.shape)
        self.mask[:] = m
        if self._stroke is not None:
            self._stroke.before[:] = self.mask
            self._stroke.coverage[:] = 0.0
        self._update_overlay()
        self.maskEdited.emit()

    def _update_overlay(self) -> None:
        a = np.clip(self.mask * (255.0 * OVERLAY_ALPHA) + 0.5, 0, 255).astype(np.uint8)
        h, w = a.shape
        rgba = np.empty((h, w, 4), np.uint8)
        rgba[..., 0], rgba[..., 1], rgba[..., 2] = OVERLAY_RGB
        rgba[..., 3] = a
        self._overlay = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        alt = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        if self.select:
            x, y = (int(round(v)) for v in self.to_image(event.position()))  # the pixel under the pointer
            h, w = self.mask.shape
            if 0 <= x < w and 0 <= y < h:
                self.pointClicked.emit(x, y, alt)
            return
        erase = self.erase or alt
        self._stroke = mask_ops.StrokeBuffer(self.mask, self.brush_radius, 0.7, 1.0, erase)
        self._stroke.add_point(*self.to_image(event.position()))
        self._update_overlay()

    def mouseMoveEvent(self, event) -> None:
        self._cursor = event.position()
        if self._stroke is not None:
            self._stroke.add_point(*self.to_image(event.position()))
            self._update_overlay()
        else:
            self.update()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._stroke is not None:
            self._stroke.add_point(*self.to_image(event.position()))
            self._stroke = None
            self._update_overlay()
            self.maskEdited.emit()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        self._cursor = None
        self.update()
        super().leaveEvent(event)

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(40, 40, 40))
        r = self.image_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(r, self._image)
        if self._overlay is not None:
            p.drawImage(r, self._overlay)
        if self._cursor is not None and not self.select:
            rad = self.brush_radius * r.width() / self.rgb.shape[1]
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QPen(QColor(255, 255, 255, 200), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(self._cursor, rad, rad)
        p.end()


class StylePartDialog(QDialog):
    """Brush the part of a style reference to take the style from; `style_mask()` after OK.

    match: called (no arguments) when "Match region" is clicked; it submits the request and calls
    `match_started`, then `set_matched` or `match_failed` when the answer comes. None: no button.
    select: called with (x, y, subtract) for a click in Select mode; it submits the request and calls
    `match_started`, then `set_selected` or `match_failed`. None: no Select button."""

    def __init__(self, rgb: np.ndarray, mask: np.ndarray | None = None, name: str = "", parent=None,
                 match: Callable[[], object] | None = None,
                 select: Callable[[int, int, bool], object] | None = None) -> None:
        super().__init__(parent)
        self._match = match
        self._select = select
        self._match_ok = True  # the region can be matched (not empty)
        self._match_blocked = ""  # why not, when it cannot
        self.matching = False  # a Match region request is out
        self.setWindowTitle(f"Style part — {name}" if name else "Style part")
        self.setObjectName("stylePartDialog")
        lay = QVBoxLayout(self)
        help_ = QLabel("Brush the part of the style photo to take the style from (its sky, say)"
                       + (", click it with Select" if select else "")
                       + (", or let Match region find the part that looks like your region" if match else "")
                       + ". Nothing brushed: the whole photo, as before.")
        help_.setWordWrap(True)
        lay.addWidget(help_)
        self.canvas = StylePartCanvas(rgb, mask, self)
        self.canvas.setObjectName("stylePartCanvas")
        lay.addWidget(self.canvas, 1)
        row = QHBoxLayout()
        self.brush_btn = QPushButton("Brush")
        self.erase_btn = QPushButton("Erase")
        self.select_btn = QPushButton("Select")
        self.select_btn.setObjectName("stylePartSelect")
        group = QButtonGroup(self)
        for b, tip in ((self.brush_btn, "Add to the part (B)"),
                       (self.erase_btn, "Remove from the part (E; or Alt-drag)"),
                       (self.select_btn, "Click the style photo to add the part like the clicked point: its sky, "
                                         "say (W; Alt+click takes it away)")):
            b.setCheckable(True)
            b.setToolTip(tip)
            group.addButton(b)
            row.addWidget(b)
        self.brush_btn.setChecked(True)
        self.brush_btn.setShortcut("B")
        self.erase_btn.setShortcut("E")
        self.select_btn.setShortcut("W")
        if select is None:
            self.select_btn.hide()
        row.addWidget(QLabel("Size"))
        self.size = Slider(Qt.Orientation.Horizontal)
        self.size.setObjectName("stylePartSize")
        long_side = max(rgb.shape[:2])
        self.size.setRange(2, max(4, long_side // 2))
        self.size.setValue(min(DEFAULT_BRUSH, self.size.maximum()))
        self.size.setToolTip("Brush radius in style-photo pixels")
        row.addWidget(self.size, 1)
        self.match_btn = QPushButton("Match region")
        self.match_btn.setObjectName("stylePartMatch")
        self.match_btn.setToolTip(MATCH_TIP)
        if match is None:
            self.match_btn.hide()
        row.addWidget(self.match_btn)
        self.clear_btn = QPushButton("Clear")
        self.clear_btn.setToolTip("Clear the brushed part (OK then uses the whole photo)")
        row.addWidget(self.clear_btn)
        lay.addLayout(row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        lay.addWidget(self.buttons)
        self.status = QLabel("")
        self.status.setObjectName("stylePartStatus")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)

        self.erase_btn.toggled.connect(lambda on: setattr(self.canvas, "erase", on))
        self.select_btn.toggled.connect(lambda on: setattr(self.canvas, "select", on))
        self.canvas.pointClicked.connect(self._on_point)
        self.size.valueChanged.connect(lambda v: setattr(self.canvas, "brush_radius", float(v)))
        self.canvas.brush_radius = float(self.size.value())
        self.clear_btn.clicked.connect(self.canvas.clear)
        self.match_btn.clicked.connect(self._on_match_clicked)
        self.canvas.maskEdited.connect(self._update_status)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        h, w = rgb.shape[:2]
        s = min(1.0, 720 / max(h, w))
        self.resize(max(420, int(w * s) + 40), int(h * s) + 150)
        self._update_status()

    def style_mask(self) -> np.ndarray | None:
        """The brushed part (HxW float32 of the style photo's size), or None if nothing is brushed."""
        m = self.canvas.mask
        return m.copy() if np.any(m > 0) else None

    # Match region ----------------------------------------------------------------------------
    def set_match_available(self, ok: bool, reason: str = "") -> None:
        """Enable Match region, or disable it saying why (`reason`: tooltip and status line)."""
        self._match_ok = bool(ok)
        self._match_blocked = "" if ok else (reason or MATCH_EMPTY_TIP)
        self.match_btn.setEnabled(self._match_ok and not self.matching)
        self.match_btn.setToolTip(MATCH_TIP if ok else self._match_blocked)
        self._update_status()

    def _on_match_clicked(self) -> None:
        if self._match is not None and self._match_ok and not self.matching:
            self._match()

    def match_started(self, text: str = "Matching…") -> None:
        """A request is out: the button waits, the canvas stays editable."""
        self.matching = True
        self.match_btn.setEnabled(False)
        self.status.setToolTip("")
        self.status.setText(text)

    # Select -------------------------------------------------------------------------------------
    def _on_point(self, x: int, y: int, subtract: bool) -> None:
        if self._select is not None and not self.matching:
            self._select(int(x), int(y), bool(subtract))

    def set_selected(self, similarity: np.ndarray, subtract: bool = False) -> None:
        """Select's answer (HxW similarity of the style photo on the Select-similar slider's scale): the part at the
        default tolerance is added to the mask (taken away with `subtract`)."""
        self.matching = False
        self.match_btn.setEnabled(self._match_ok)
        sim = np.nan_to_num(np.asarray(similarity, np.float32))
        if sim.ndim != 2:
            raise ValueError(f"a selection is HxW, got shape {sim.shape}")
        if sim.shape != self.canvas.mask.shape:
            sim = mask_ops.resize_mask(sim, self.canvas.mask.shape)
        sel = mask_ops.threshold_similarity(sim, mask_ops.similar_threshold(mask_ops.SIMILAR_TOLERANCE_DEFAULT))
        self.canvas.set_mask(mask_ops.combine(self.canvas.mask, sel, "subtract" if subtract else "add"))
        share = float(np.mean(self.canvas.mask > 0.5)) * 100.0
        self.status.setText(f"Selected: the part is {share:.0f}% of the photo; click to add more, Alt+click to "
                            "take a part away, OK to use it")

    def set_matched(self, mask: np.ndarray) -> None:
        """The answer: it replaces the canvas mask (brush or erase to refine; OK commits it)."""
        self.matching = False
        self.match_btn.setEnabled(self._match_ok)
        self.canvas.set_mask(mask)
        share = float(np.mean(self.canvas.mask > 0.5)) * 100.0
        self.status.setText(f"Matched: {share:.0f}% of the photo; brush or erase to refine, OK to use it")

    def match_failed(self, message: str, details: str = "") -> None:
        """No answer (an error, or cancelled): say so in the status line; the mask is unchanged."""
        self.matching = False
        self.match_btn.setEnabled(self._match_ok)
        lines = (message or "Match region failed.").splitlines()
        self.status.setText(lines[0][:300] if lines else "Match region failed.")
        self.status.setToolTip(details[-4000:])

    def _update_status(self) -> None:
        share = float(np.mean(self.canvas.mask > 0.5)) * 100.0
        text = f"Part: {share:.0f}% of the photo" if np.any(self.canvas.mask > 0) else "Part: none (the whole photo)"
        if self._match is not None and self._match_blocked:
            text += f". {self._match_blocked}."
        self.status.setToolTip("")
        self.status.setText(text)
