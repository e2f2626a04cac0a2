"""Tool settings, view settings, global transfer and interpolation controls."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .document import (
    DEFAULT_DETAIL_GAIN,
    DEFAULT_FEATHER_EDGE,
    DEFAULT_INTERIOR_MODE,
    DEFAULT_PRE_TRANSFER_PERCENT,
    DEFAULT_PRIMING_PROFILE,
    DEFAULT_PRIMING_SPREAD,
    DEFAULT_SMOOTHING,
    FEATHER_EDGES,
    INTERIOR_MODES,
    MAX_PRE_TRANSFER_PERCENT,
    MAX_SMOOTHING,
    PRIMING_PROFILES,
    PRIMING_SPREADS,
)
from .mask_ops import SIMILAR_TOLERANCE_DEFAULT
from .widgets import ComboBox, Slider, SpinBox

# The Region interior modes in the user's words (the combo's item data is the mode itself).
INTERIOR_LABELS = {
    "guided": "Swap colours, follow photo",
    "fixed": "Swap colours, fixed ramp",
    "off": "Region edit only",
}
# What colour priming follows, in the user's words (item data: the PRIMING_PROFILES value).
PROFILE_LABELS = {
    "rows": "The reference's rows",
    "global": "One colour per region",
}
# What colour priming stretches, in the user's words (item data: the PRIMING_SPREADS value).
SPREAD_LABELS = {
    "detail": "Fine detail",
    "all": "All variation",
}
# The Sky grain guard (Document.detail_gain) in the user's words: its two standard items (item data: the gain; 0 is
# no cap). A project may carry another gain: the combo then shows it as an extra item (`_gain_item`).
GAIN_ON, GAIN_OFF = "On", "Off"
GAIN_ITEMS = ((GAIN_ON, DEFAULT_DETAIL_GAIN), (GAIN_OFF, 0.0))
# The Mask edge settings in the user's words (item data: the FEATHER_EDGES value).
EDGE_LABELS = {
    "across": "Blend across the edge",
    "inside": "Keep inside the mask",
}


def _choice_combo(name: str, choices: tuple[str, ...], labels: dict, default: str, tip: str) -> ComboBox:
    """A combo of a setting's `choices` in the user's words (`labels`; item data: the choice), set to `default`."""
    combo = ComboBox()
    combo.setObjectName(name)
    for value in choices:
        combo.addItem(labels.get(value, value), value)
    combo.setCurrentIndex(combo.findData(default))
    combo.setToolTip(tip)
    return combo


def _labelled(layout, label: str, widget) -> None:
    """Add a row to `layout`: `label` on the left, `widget` taking the rest of the width."""
    row = QHBoxLayout()
    row.addWidget(QLabel(label))
    row.addWidget(widget, 1)
    layout.addLayout(row)


def _slider(lo: int, hi: int, value: int, name: str, tip: str) -> Slider:
    s = Slider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setObjectName(name)
    s.setToolTip(tip)
    return s


class ControlsPanel(QWidget):
    secondPhotoRequested = Signal()
    secondPhotoCleared = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.document = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)

        brush = QGroupBox("Brush")
        f = QFormLayout(brush)
        self.brush_size = SpinBox()
        self.brush_size.setObjectName("brushSize")
        self.brush_size.setRange(1, 1000)
        self.brush_size.setValue(40)
        self.brush_size.setSuffix(" px")
        self.brush_size.setToolTip("Brush diameter in preview pixels ([ and ] change it)")
        f.addRow("Size", self.brush_size)
        self.hardness = _slider(0, 100, 70, "brushHardness", "Brush edge hardness")
        f.addRow("Hardness", self.hardness)
        self.opacity = _slider(1, 100, 100, "brushOpacity", "How much one stroke adds (or erases)")
        f.addRow("Opacity", self.opacity)
        lay.addWidget(brush)

        edit = QGroupBox("Transfer")
        v = QVBoxLayout(edit)
        self.global_cb = QCheckBox("Global transfer (ignore masks)")
        self.global_cb.setObjectName("globalTransfer")
        self.global_cb.setToolTip("Apply each region's style to the whole photo (Swapping Autoencoder global swap)")
        v.addWidget(self.global_cb)
        row = QHBoxLayout()
        self.second_btn = QPushButton("Second photo…")
        self.second_btn.setToolTip("Interpolate the photo's style or content towards a second photo")
        self.second_clear = QPushButton("Clear")
        row.addWidget(self.second_btn)
        row.addWidget(self.second_clear)
        v.addLayout(row)
        self.second_label = QLabel("No second photo")
        self.second_label.setWordWrap(True)
        v.addWidget(self.second_label)
        self.interp_what = ComboBox()
        self.interp_what.addItems(["style", "content"])
        _labelled(v, "Interpolate", self.interp_what)
        self.interp_amount = _slider(0, 100, 0, "interpAmount", "0 = the photo, 1 = the second photo's style/content")
        v.addWidget(self.interp_amount)
        self.smoothing = SpinBox()
        self.smoothing.setObjectName("colourSmoothing")
        self.smoothing.setRange(0, MAX_SMOOTHING)
        self.smoothing.setValue(DEFAULT_SMOOTHING)
        self.smoothing.setKeyboardTracking(False)
        self.smoothing.setToolTip(
            "How the edit is carried to full resolution. Low: follow the network's local colours closely "
            "(more restyling, more of its artefacts). High: keep more of the photo's own texture and "
            f"change its colours more evenly. Default {DEFAULT_SMOOTHING}.")
        _labelled(v, "Colour smoothing", self.smoothing)
        self.interior = _choice_combo("interiorMode", INTERIOR_MODES, INTERIOR_LABELS, DEFAULT_INTERIOR_MODE,
            "How the inside of each brushed region is coloured.\n"
            "Swap colours: away from the region's edge, take the colours of the style applied to the whole "
            "photo, which carry more of the style reference's look; the edge keeps the gentler region edit, "
            "so the region still blends into the rest of the photo.\n"
            f"{INTERIOR_LABELS['guided']}: the change from edge to inside follows the photo: tight along its "
            "edges, gradual across smooth areas such as skies, so no band shows.\n"
            f"{INTERIOR_LABELS['fixed']}: the change happens over the same short distance everywhere.\n"
            f"{INTERIOR_LABELS['off']}: the region edit alone, milder and closer to the original photo.\n"
            f"Default: {INTERIOR_LABELS.get(DEFAULT_INTERIOR_MODE, DEFAULT_INTERIOR_MODE)}.")
        _labelled(v, "Region interior", self.interior)
        self.edge = _choice_combo("maskEdge", FEATHER_EDGES, EDGE_LABELS, DEFAULT_FEATHER_EDGE,
            "How each region's edit fades out at the edge of its mask.\n"
            f"{EDGE_LABELS['across']}: the fade straddles the mask's edge and follows the photo: sharp where the "
            "mask runs along an edge in the photo (a roof line, a window frame), gradual over a few pixels on "
            "either side where it crosses smooth areas, so no band shows where the brush stopped. The solid "
            "outline on the canvas shows how far the edit may reach.\n"
            f"{EDGE_LABELS['inside']}: the fade stays within the mask, so nothing outside it changes; a band can "
            "show along the mask's edge on smooth areas.\n"
            f"Default: {EDGE_LABELS.get(DEFAULT_FEATHER_EDGE, DEFAULT_FEATHER_EDGE)}.")
        _labelled(v, "Mask edge", self.edge)
        self.pre_transfer = SpinBox()
        self.pre_transfer.setObjectName("colourPriming")
        self.pre_transfer.setRange(0, MAX_PRE_TRANSFER_PERCENT)
        self.pre_transfer.setValue(DEFAULT_PRE_TRANSFER_PERCENT)
        self.pre_transfer.setSuffix(" %")
        self.pre_transfer.setKeyboardTracking(False)
        self.pre_transfer.setToolTip(
            "Before the network restyles a region, move its colours this far towards the style photo's "
            "(a classical colour transfer); higher takes more of the reference, 0 is the network alone. "
            f"Default {DEFAULT_PRE_TRANSFER_PERCENT} %.")
        _labelled(v, "Colour priming", self.pre_transfer)
        self.priming_profile = _choice_combo("primingProfile", PRIMING_PROFILES, PROFILE_LABELS,
                                             DEFAULT_PRIMING_PROFILE,
            "What Colour priming moves each region towards.\n"
            f"{PROFILE_LABELS['rows']}: the reference's colours row by row, at the same height in the region as "
            "in the reference (or in its style part), so a sunset sky's gradient from glow to blue comes through.\n"
            f"{PROFILE_LABELS['global']}: one average colour and contrast for the whole region.\n"
            f"Default: {PROFILE_LABELS.get(DEFAULT_PRIMING_PROFILE, DEFAULT_PRIMING_PROFILE)}.")
        _labelled(v, "Priming follows", self.priming_profile)
        self.priming_spread = _choice_combo("primingSpread", PRIMING_SPREADS, SPREAD_LABELS, DEFAULT_PRIMING_SPREAD,
            "How much of a region's light and shade Colour priming stretches to the style photo's contrast.\n"
            f"{SPREAD_LABELS['detail']}: only fine texture; a smooth sky's gentle shading stays as smooth as in "
            "the photo.\n"
            f"{SPREAD_LABELS['all']}: all of it, as the editor did before this setting existed (projects saved "
            "then keep it). Stretching all variation can turn a smooth sky's shading into a dark patch under a "
            "busy reference (storm clouds, rock and snow).\n"
            f"Default: {SPREAD_LABELS.get(DEFAULT_PRIMING_SPREAD, DEFAULT_PRIMING_SPREAD)}.")
        _labelled(v, "Priming stretches", self.priming_spread)
        self.detail_gain = ComboBox()
        self.detail_gain.setObjectName("skyGrainGuard")
        for label, gain in GAIN_ITEMS:
            self.detail_gain.addItem(label, float(gain))
        self.detail_gain.setCurrentIndex(self._gain_item(DEFAULT_DETAIL_GAIN))
        self.detail_gain.setToolTip(
            "Whether the edit may strengthen the photo's own fine detail where the photo is smooth.\n"
            f"{GAIN_ON}: in smooth areas (a clear sky, fog) the photo's detail is strengthened at most "
            f"{DEFAULT_DETAIL_GAIN:g}x, so a recoloured sky stays clean; grass, rock and clouds keep the edit's "
            "full contrast.\n"
            f"{GAIN_OFF}: no limit. Off lets a recoloured smooth sky show the photo's sensor noise as grain "
            "(how the editor worked before this setting existed; projects saved then keep it).\n"
            "A project saved with another limit shows it as a third item.\n"
            f"Default: {GAIN_ON if DEFAULT_DETAIL_GAIN else GAIN_OFF}.")
        _labelled(v, "Sky grain guard", self.detail_gain)
        lay.addWidget(edit)
        sel = QGroupBox("Selection tools")
        f = QFormLayout(sel)
        self.tolerance = SpinBox()
        self.tolerance.setRange(0, 255)
        self.tolerance.setValue(24)
        self.tolerance.setToolTip("Colour flood fill tolerance (per channel)")
        f.addRow("Fill tolerance", self.tolerance)
        self.similarity = _slider(0, 100, SIMILAR_TOLERANCE_DEFAULT, "similarTolerance",
                                  "Select similar (W): how different from the clicked pixel a pixel may be and "
                                  "still be selected. Left is stricter (selects less), right selects more. "
                                  "Moving it updates the last Select-similar click on the canvas.")
        self.similarity_label = QLabel()
        self.similarity_label.setObjectName("similarToleranceLabel")
        row = QHBoxLayout()
        row.addWidget(QLabel("strict"))
        row.addWidget(self.similarity, 1)
        row.addWidget(QLabel("more"))
        f.addRow("Similar: tolerance", row)
        f.addRow("", self.similarity_label)
        self.similarity.valueChanged.connect(self._on_similarity_label)
        self._on_similarity_label(self.similarity.value())
        self.grow_px = SpinBox()
        self.grow_px.setRange(1, 200)
        self.grow_px.setValue(8)
        self.grow_px.setSuffix(" px")
        f.addRow("Grow/shrink by", self.grow_px)
        self.feather_px = SpinBox()
        self.feather_px.setRange(1, 200)
        self.feather_px.setValue(8)
        self.feather_px.setSuffix(" px")
        self.feather_px.setToolTip("Mask > Feather: blur the active mask's edge by this radius (it softens the "
                                   "selection on both sides of its edge). Without it the edit already fades out "
                                   "inside the brushed mask (the dashed outline on the canvas).")
        f.addRow("Feather radius", self.feather_px)
        lay.addWidget(sel)

        view = QGroupBox("View")
        f = QFormLayout(view)
        self.overlay_opacity = _slider(0, 100, 45, "overlayOpacity", "Opacity of the active region's mask overlay")
        f.addRow("Mask overlay", self.overlay_opacity)
        lay.addWidget(view)

        lay.addStretch(1)

        self.global_cb.toggled.connect(self._on_global)
        self.second_btn.clicked.connect(self.secondPhotoRequested)
        self.second_clear.clicked.connect(self.secondPhotoCleared)
        self.interp_what.currentTextChanged.connect(self._on_what)
        self.interp_amount.valueChanged.connect(self._on_amount)
        self.interp_amount.sliderReleased.connect(lambda: self.document and self.document.end_merge())
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.interior.currentIndexChanged.connect(lambda i: self._on_choice(self.interior, "set_interior", i))
        self.pre_transfer.valueChanged.connect(self._on_pre_transfer)
        self.edge.currentIndexChanged.connect(lambda i: self._on_choice(self.edge, "set_edge", i))
        self.priming_profile.currentIndexChanged.connect(
            lambda i: self._on_choice(self.priming_profile, "set_priming_profile", i))
        self.priming_spread.currentIndexChanged.connect(
            lambda i: self._on_choice(self.priming_spread, "set_priming_spread", i))
        self.detail_gain.currentIndexChanged.connect(lambda i: self._on_choice(self.detail_gain, "set_detail_gain", i))

    def _on_similarity_label(self, value: int) -> None:
        self.similarity_label.setText(f"{value} % (higher selects more; default {SIMILAR_TOLERANCE_DEFAULT} %)")

    def set_document(self, doc) -> None:
        self.document = doc
        doc.settingsChanged.connect(self.sync)
        doc.photoChanged.connect(self.sync)
        self.sync()

    def sync(self) -> None:
        doc = self.document
        has = bool(doc and doc.has_photo)
        for w in (self.global_cb, self.second_btn, self.interp_what, self.interp_amount, self.smoothing,
                  self.interior, self.pre_transfer, self.edge, self.priming_profile, self.priming_spread,
                  self.detail_gain):
            w.setEnabled(has)
        if doc is None:
            return
        for w, setter, value in ((self.global_cb, "setChecked", doc.global_transfer),
                                 (self.interp_what, "setCurrentText", doc.interp_what),
                                 (self.interp_amount, "setValue", int(round(doc.interp_amount * 100))),
                                 (self.smoothing, "setValue", int(doc.smoothing)),
                                 (self.interior, "setCurrentIndex", self.interior.findData(doc.interior)),
                                 (self.pre_transfer, "setValue", int(doc.pre_transfer)),
                                 (self.edge, "setCurrentIndex", self.edge.findData(doc.edge)),
                                 (self.priming_profile, "setCurrentIndex",
                                  self.priming_profile.findData(doc.priming_profile)),
                                 (self.priming_spread, "setCurrentIndex",
                                  self.priming_spread.findData(doc.priming_spread)),
                                 (self.detail_gain, "setCurrentIndex", None)):
            w.blockSignals(True)
            if w is self.detail_gain:
                value = self._gain_item(doc.detail_gain)  # (may add or remove the extra item: signals blocked)
            getattr(w, setter)(value)
            w.blockSignals(False)
        has_second = doc.interp_image is not None
        self.second_clear.setEnabled(has_second)
        self.interp_amount.setEnabled(has and has_second)
        self.interp_what.setEnabled(has and has_second)
        import os

        self.second_label.setText(f"Second photo: {os.path.basename(doc.interp_path) or '(image)'}" if has_second
                                  else "No second photo")

    def _on_global(self, on: bool) -> None:
        if self.document and self.document.has_photo:
            self.document.set_global_transfer(on)

    def _on_what(self, what: str) -> None:
        if self.document and self.document.has_photo:
            self.document.set_interp_what(what)

    def _on_smoothing(self, value: int) -> None:
        doc = self.document
        if doc and doc.has_photo:
            doc.set_smoothing(value)
            doc.end_merge()  # each spin-box step is one undo step

    def _gain_item(self, gain: float) -> int:
        """The Sky grain guard's item for the detail gain `gain`: On or Off, or else an extra item showing that gain (a
        project saved with another cap), added here; an extra item for any other gain is removed."""
        combo = self.detail_gain
        gain = float(gain)
        for i in reversed(range(len(GAIN_ITEMS), combo.count())):  # extra items other than this gain
            if not math.isclose(float(combo.itemData(i)), gain, rel_tol=0, abs_tol=1e-9):
                combo.removeItem(i)
        for i in range(combo.count()):
            if math.isclose(float(combo.itemData(i)), gain, rel_tol=0, abs_tol=1e-9):
                return i
        combo.addItem(f"On, at most {gain:g}x", gain)
        return combo.count() - 1

    def _on_choice(self, combo: ComboBox, setter: str, index: int) -> None:
        """A choice combo (Region interior, Mask edge, Priming follows, Priming stretches, Sky grain guard) moved: the
        document's `setter` takes it."""
        doc = self.document
        value = combo.itemData(index)
        if doc and doc.has_photo and value is not None:
            getattr(doc, setter)(value)

    def _on_pre_transfer(self, value: int) -> None:
        doc = self.document
        if doc and doc.has_photo:
            doc.set_pre_transfer(int(value))  # one undo step per spin-box step

    def _on_amount(self, value: int) -> None:
        doc = self.document
        if doc and doc.has_photo:
            doc.set_interp_amount(value / 100.0)
            if not self.interp_amount.isSliderDown():
                doc.end_merge()
