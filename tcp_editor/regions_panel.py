"""Regions panel (list, add/delete/rename/reorder/hide, strength, style) and the style gallery."""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QMimeData, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .canvas import region_colour
from .document import MAX_PRE_TRANSFER_PERCENT, MAX_STRENGTH
from .qtimage import thumbnail
from .widgets import Slider, SpinBox

UID_ROLE = Qt.ItemDataRole.UserRole
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
THUMB = 40


def _local_paths(mime: QMimeData) -> list[str]:
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []


class RegionList(QListWidget):
    """Rows are regions. Dropping photo files on a row sets its style; dragging rows reorders."""

    styleDropped = Signal(int, str)  # uid, path
    moveRequested = Signal(int, int)  # uid, new index

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)

    def uid_at(self, pos) -> int:
        item = self.itemAt(pos)
        return int(item.data(UID_ROLE)) if item is not None else -1

    def dragEnterEvent(self, event) -> None:
        if event.source() is self or _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.source() is self:
            super().dragMoveEvent(event)
            event.accept()
        elif _local_paths(event.mimeData()) and self.itemAt(event.position().toPoint()) is not None:
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        pos = event.position().toPoint()
        if event.source() is self:
            item = self.currentItem()
            if item is None:
                event.ignore()
                return
            target = self.itemAt(pos)
            index = self.row(target) if target is not None else self.count() - 1
            uid = int(item.data(UID_ROLE))
            event.setDropAction(Qt.DropAction.IgnoreAction)  # the document re-orders; we rebuild
            event.accept()
            QTimer.singleShot(0, lambda: self.moveRequested.emit(uid, index))
            return
        paths = _local_paths(event.mimeData())
        uid = self.uid_at(pos)
        if not paths or uid < 0:
            event.ignore()
            return
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        QTimer.singleShot(0, lambda: self.styleDropped.emit(uid, paths[0]))


class StyleGallery(QListWidget):
    """Thumbnails of style photos (bundled + dropped). Drag one onto a region, or double-click it."""

    pathsDropped = Signal(list)
    styleActivated = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(72, 72))
        self.setGridSize(QSize(84, 92))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setWordWrap(True)
        self.itemDoubleClicked.connect(lambda it: self.styleActivated.emit(it.data(PATH_ROLE)))

    def paths(self) -> list[str]:
        return [self.item(i).data(PATH_ROLE) for i in range(self.count())]

    def add_style(self, path: str, rgb) -> None:
        if path in self.paths():
            return
        dpr = self.devicePixelRatioF() or 1.0
        item = QListWidgetItem(QIcon(thumbnail(rgb, 72, dpr)), os.path.splitext(os.path.basename(path))[0])
        item.setData(PATH_ROLE, path)
        item.setToolTip(path)
        self.addItem(item)

    def mimeData(self, items) -> QMimeData:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(it.data(PATH_ROLE)) for it in items])
        return mime

    def mimeTypes(self) -> list[str]:
        return ["text/uri-list"]

    def supportedDropActions(self):
        return Qt.DropAction.CopyAction

    def dragEnterEvent(self, event) -> None:
        if event.source() is not self and _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.source() is not self and _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        paths = _local_paths(event.mimeData())
        if event.source() is self or not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        QTimer.singleShot(0, lambda: self.pathsDropped.emit(paths))


class RegionsPanel(QWidget):
    """The region list with its buttons, the active region's strength and style, and the gallery."""

    styleDropped = Signal(int, str)
    chooseStyleRequested = Signal()
    stylePartRequested = Signal()  # brush the part of the active region's style photo to use
    stylePartCleared = Signal()  # use the whole style photo again
    styleMatchRequested = Signal()  # take the style from the part of the style photo like the region
    galleryStyleChosen = Signal(str)
    galleryPathsDropped = Signal(list)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.document = None
        self._rebuilding = False
        self._thumbs: dict = {}  # (id(style image), dpr) -> (image, QIcon): no re-scaling per slider step
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.list = RegionList(self)
        self.list.setObjectName("regionList")
        lay.addWidget(self.list, 2)
        row = QHBoxLayout()
        self.add_btn = QPushButton("Add")
        self.del_btn = QPushButton("Delete")
        self.up_btn = QPushButton("Up")
        self.down_btn = QPushButton("Down")
        for b, tip in ((self.add_btn, "Add a region (then brush its mask)"), (self.del_btn, "Delete the region"),
                       (self.up_btn, "Move up (applied earlier)"), (self.down_btn, "Move down (applied later)")):
            b.setToolTip(tip)
            row.addWidget(b)
        lay.addLayout(row)
        srow = QHBoxLayout()
        srow.addWidget(QLabel("Strength"))
        self.strength = Slider(Qt.Orientation.Horizontal)
        self.strength.setObjectName("strengthSlider")
        self.strength.setRange(0, round(MAX_STRENGTH * 100))
        self.strength.setTickPosition(Slider.TickPosition.TicksBelow)
        self.strength.setTickInterval(50)  # a tick at 100 %: the reference's own style
        self.strength.setToolTip(f"Style strength of the active region: 0 % the photo's own style, 100 % the "
                                 f"reference's, up to {MAX_STRENGTH * 100:.0f} % more of the reference's look")
        srow.addWidget(self.strength, 1)
        self.strength_label = QLabel("100%")
        self.strength_label.setMinimumWidth(38)
        srow.addWidget(self.strength_label)
        lay.addLayout(srow)
        grow = QHBoxLayout()
        grow.addWidget(QLabel("Colour priming"))
        self.priming = SpinBox()
        self.priming.setObjectName("regionPriming")
        self.priming.setRange(-1, MAX_PRE_TRANSFER_PERCENT)  # -1: the document's (the special value's text)
        self.priming.setSuffix(" %")
        self.priming.setKeyboardTracking(False)
        self.priming.setSpecialValueText("As the Transfer panel")
        self.priming.setValue(-1)
        self.priming.setToolTip(
            "The active region's colour priming: how far its colours are moved towards its style photo's before "
            "the network restyles it. Higher takes more of the reference (a grey sky under a sunset), lower keeps "
            "more of the photo's own colours (skin, a building); 0 is the network alone. Step below 0 to follow "
            "the Transfer panel's Colour priming again.")
        grow.addWidget(self.priming, 1)
        lay.addLayout(grow)
        strow = QHBoxLayout()
        self.style_label = QLabel("No style: drop a photo on the region")
        self.style_label.setWordWrap(True)
        strow.addWidget(self.style_label, 1)
        self.style_btn = QPushButton("Style…")
        self.style_btn.setToolTip("Choose the active region's style reference photo")
        strow.addWidget(self.style_btn)
        lay.addLayout(strow)
        prow = QHBoxLayout()
        self.part_label = QLabel("")
        self.part_label.setObjectName("stylePartLabel")
        self.part_label.setWordWrap(True)
        prow.addWidget(self.part_label, 1)
        self.part_btn = QPushButton("Style part…")
        self.part_btn.setObjectName("stylePartButton")
        self.part_btn.setToolTip("Take the style from part of the reference (brush its sky, say) instead of all of it")
        prow.addWidget(self.part_btn)
        self.match_btn = QPushButton("Match")
        self.match_btn.setObjectName("styleMatchButton")
        self.match_btn.setToolTip("Take the style from the part of the reference that looks like the region (its "
                                  "sky for a sky), in one click; Style part… refines it, Whole undoes it")
        prow.addWidget(self.match_btn)
        self.part_clear_btn = QPushButton("Whole")
        self.part_clear_btn.setObjectName("stylePartClearButton")
        self.part_clear_btn.setToolTip("Take the style from the whole reference again")
        prow.addWidget(self.part_clear_btn)
        lay.addLayout(prow)
        lay.addWidget(QLabel("Style gallery (drag onto a region, or double-click):"))
        self.gallery = StyleGallery(self)
        self.gallery.setObjectName("styleGallery")
        lay.addWidget(self.gallery, 3)

        self.add_btn.clicked.connect(self._add)
        self.del_btn.clicked.connect(self._delete)
        self.up_btn.clicked.connect(lambda: self._move(-1))
        self.down_btn.clicked.connect(lambda: self._move(+1))
        self.style_btn.clicked.connect(self.chooseStyleRequested)
        self.part_btn.clicked.connect(self.stylePartRequested)
        self.part_clear_btn.clicked.connect(self.stylePartCleared)
        self.match_btn.clicked.connect(self.styleMatchRequested)
        self.list.currentItemChanged.connect(self._on_current)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.styleDropped.connect(self.styleDropped)
        self.list.moveRequested.connect(self._on_move_requested)
        self.strength.valueChanged.connect(self._on_strength)
        self.strength.sliderReleased.connect(self._end_merge)
        self.priming.valueChanged.connect(self._on_priming)
        self.gallery.styleActivated.connect(self.galleryStyleChosen)
        self.gallery.pathsDropped.connect(self.galleryPathsDropped)

    def set_document(self, doc) -> None:
        self.document = doc
        doc.regionsChanged.connect(self.rebuild)
        doc.regionChanged.connect(self._on_region_changed)
        doc.activeRegionChanged.connect(self._on_active)
        doc.settingsChanged.connect(self._sync_controls)  # the Transfer panel's priming, named by "As the ..."
        doc.photoChanged.connect(self.rebuild)
        self.rebuild()

    # document -> widgets ----------------------------------------------------------------------
    def rebuild(self) -> None:
        doc = self.document
        self._rebuilding = True
        try:
            self.list.clear()
            for i, r in enumerate(doc.regions):
                item = QListWidgetItem(r.name)
                item.setData(UID_ROLE, r.uid)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable | Qt.ItemFlag.ItemIsUserCheckable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                item.setCheckState(Qt.CheckState.Checked if r.visible else Qt.CheckState.Unchecked)
                item.setIcon(self._icon(r, i))
                item.setToolTip(self._item_tip(r))
                self.list.addItem(item)
                if r.uid == doc.active_uid:
                    self.list.setCurrentItem(item)
        finally:
            self._rebuilding = False
        self._sync_controls()

    @staticmethod
    def _item_tip(r) -> str:
        style = r.style.name if r.style else "(none)"
        if r.style is not None and r.style_mask is not None:
            style += " (from the brushed part)"
        return f"{r.name}: style {style}; drop a photo here to set its style; double-click to rename"

    def _icon(self, r, index: int) -> QIcon:
        dpr = self.devicePixelRatioF() or 1.0
        if r.style is not None:
            part = r.style_mask
            key = (id(r.style.image), id(part), dpr)
            icon = self._thumbs.get(key)
            if icon is None or icon[0] is not r.style.image or icon[1] is not part:
                if len(self._thumbs) > 64:
                    self._thumbs.clear()
                rgb = r.style.image
                if part is not None:  # the style part bright, the rest dimmed
                    rgb = (rgb * (0.3 + 0.7 * part[:, :, None])).astype(np.uint8)
                icon = (r.style.image, part, QIcon(thumbnail(rgb, THUMB, dpr)))
                self._thumbs[key] = icon
            return icon[2]
        pm = QPixmap(int(THUMB * dpr), int(THUMB * dpr))
        pm.setDevicePixelRatio(dpr)
        pm.fill(QColor(*region_colour(index)))
        return QIcon(pm)

    def _on_region_changed(self, uid: int) -> None:
        doc = self.document
        for i in range(self.list.count()):
            item = self.list.item(i)
            if int(item.data(UID_ROLE)) == uid:
                self._rebuilding = True
                item.setIcon(self._icon(doc.region(uid), i))
                item.setToolTip(self._item_tip(doc.region(uid)))
                self._rebuilding = False
        if uid == doc.active_uid:
            self._sync_controls()

    def _on_active(self, uid: int) -> None:
        for i in range(self.list.count()):
            if int(self.list.item(i).data(UID_ROLE)) == uid:
                self._rebuilding = True
                self.list.setCurrentRow(i)
                self._rebuilding = False
        self._sync_controls()

    def _sync_controls(self) -> None:
        doc = self.document
        r = doc.active_region if doc else None
        has = r is not None
        for w in (self.del_btn, self.up_btn, self.down_btn, self.strength, self.style_btn, self.priming):
            w.setEnabled(has)
        if doc is not None:
            self.priming.setSpecialValueText(f"As the Transfer panel ({int(doc.pre_transfer)} %)")
        self.priming.blockSignals(True)
        self.priming.setValue(-1 if r is None or r.priming is None else int(r.priming))
        self.priming.blockSignals(False)
        self.add_btn.setEnabled(bool(doc and doc.has_photo))
        if has:
            self.strength.blockSignals(True)
            self.strength.setValue(int(round(r.strength * 100)))
            self.strength.blockSignals(False)
            self.strength_label.setText(f"{int(round(r.strength * 100))}%")
            self.style_label.setText(f"Style: {r.style.name}" if r.style else "No style: drop a photo on the region")
            part = r.style is not None and r.style_mask is not None
            self.part_btn.setEnabled(r.style is not None)
            self.match_btn.setEnabled(r.style is not None)  # (an empty region: match_now says to brush it)
            self.part_clear_btn.setEnabled(part)
            self.part_label.setText("From: the brushed part of the style" if part else
                                    "From: the whole style photo" if r.style is not None else "")
        else:
            self.strength.blockSignals(True)
            self.strength.setValue(100)
            self.strength.blockSignals(False)
            self.strength_label.setText("–")
            self.style_label.setText("Add a region, brush its mask, then give it a style")
            self.part_btn.setEnabled(False)
            self.match_btn.setEnabled(False)
            self.part_clear_btn.setEnabled(False)
            self.part_label.setText("")

    # widgets -> document ----------------------------------------------------------------------
    def _add(self) -> None:
        if self.document and self.document.has_photo:
            self.document.add_region()

    def _delete(self) -> None:
        r = self.document.active_region
        if r is not None:
            self.document.delete_region(r.uid)

    def _move(self, delta: int) -> None:
        r = self.document.active_region
        if r is not None:
            self.document.move_region(r.uid, self.document.index_of(r.uid) + delta)

    def _on_move_requested(self, uid: int, index: int) -> None:
        try:
            self.document.move_region(uid, index)
        except KeyError:
            pass

    def _on_current(self, cur, _prev) -> None:
        if self._rebuilding or cur is None:
            return
        self.document.set_active(int(cur.data(UID_ROLE)))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._rebuilding:
            return
        # read everything first: a document change rebuilds the list and deletes `item`
        uid = int(item.data(UID_ROLE))
        visible = item.checkState() == Qt.CheckState.Checked
        name = item.text().strip()
        doc = self.document
        try:
            r = doc.region(uid)
        except KeyError:
            return
        if visible != r.visible:
            doc.set_region_visible(uid, visible)
        elif name and name != r.name:
            doc.rename_region(uid, name)
        elif not name:
            QTimer.singleShot(0, self.rebuild)

    def _on_strength(self, value: int) -> None:
        r = self.document.active_region
        self.strength_label.setText(f"{value}%")
        if r is not None:
            self.document.set_strength(r.uid, value / 100.0)
            if not self.strength.isSliderDown():
                self.document.end_merge()  # keyboard/click steps are separate undo steps

    def _on_priming(self, value: int) -> None:
        r = self.document.active_region if self.document else None
        if r is not None:
            self.document.set_region_priming(r.uid, None if value < 0 else int(value))  # one undo step per step

    def _end_merge(self) -> None:
        self.document.end_merge()
