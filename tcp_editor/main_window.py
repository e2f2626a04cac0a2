"""The editor's main window: canvas, regions and controls docks, menus, status bar, preview loop.

Preview loop: a document change starts a 30 ms timer (if not already running); when it fires, the current
`RenderState` goes to the inference worker. At most one preview request is in flight: changes
that arrive meanwhile are coalesced and the newest state is sent as soon as the running edit
finishes (so dragging a slider shows previews at the rate the model can produce them, and the
last state always wins). The worker itself also drops superseded requests (latest wins).

Progressive preview: interactive previews run the network on the whole photo (its encoding and
the style swap stay cached while masks change: about twice as fast per stroke); after 400 ms
without changes, if a region is small, the preview is recomputed the export's way (on a crop
around each region, full network resolution for the region).
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSettings, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QScrollArea,
    QSlider,
    QTextEdit,
)

from . import dialogs, mask_ops, project
from .canvas import CanvasView
from .controls_panel import ControlsPanel
from .document import Document, StyleRef
from .pyside_fix import protect_none
from .regions_panel import RegionsPanel
from .resources import bundled_styles
from .services.images import (
    ImageLoadError,
    ImageSaveError,
    is_image_path,
    load_mask_file,
    load_photo,
    remove_stale_temp_files,
    same_file,
)
from .services.inference import InferenceService, ModelInfo
from .services.requests import ExportJob, Failure

MAX_RECENT = 10
DEBOUNCE_MS = 30
LIVE_STROKE_PREVIEW_MS = 150  # previews during a brush stroke only when an edit is this fast
REFINE_DELAY_MS = 400  # idle time before the fast preview is refined
DRAG_KEYFRAME_STEP = 0.25  # strength-slider drags: exact key frames every 0.25, interpolated between
REFINE_MAX_AREA = 0.5  # refine when a region's bounding box covers less than this of the photo
AUTOSAVE_NAME = "autosave.tcpproj"
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "bf16", "fp32")  # tcp_core.networks.precision.PRECISION_CHOICES (no torch here)
PRECISION_LABELS = {"auto": "Auto", "bf16": "bf16", "fp32": "fp32"}
DEFAULT_OVERLAY_OPACITY = 45  # %
WARM_GALLERY_STYLES = 6  # gallery styles whose swap with the photo is computed ahead
MIN_RESTORED_OVERLAY_OPACITY = 10  # % : a saved overlay fainter than this is not restored


def default_autosave_dir() -> str:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return os.path.join(base or os.path.expanduser("~/.tcp-editor"), "autosave")


class MainWindow(QMainWindow):
    previewApplied = Signal(int, float)  # request id (-1: cleared), elapsed ms
    exportFinished = Signal(str)  # path
    exportFailed = Signal(str)
    selectionApplied = Signal()
    autosaved = Signal(str)
    closed = Signal()  # the window accepted a close

    def __init__(self, service: InferenceService | None = None, settings: QSettings | None = None,
                 autosave_dir: str | None = None, autosave_interval_s: int | None = None,
                 preview_long_side: int = 1024, max_pixels: int = 100_000_000) -> None:
        protect_none()  # PySide6 6.12 on Python 3.11 (see pyside_fix)
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.service = service if service is not None else InferenceService(self)
        self._owns_service = service is None
        self.max_pixels = max_pixels
        self.doc = Document(self, preview_long_side)
        self.last_result: np.ndarray | None = None
        self.last_edit_ms: float | None = None
        self.model_info: ModelInfo | None = None
        self.model_spec: str | None = None
        self.model_device = str(self.settings.value("model/device", "auto"))
        precision = str(self.settings.value("model/precision", "auto")).lower()
        self.model_precision = precision if precision in PRECISIONS else "auto"
        self.model_preset: str | None = None
        self._good_model_args: tuple | None = None
        self._in_flight: int | None = None
        self._in_flight_gen = 0
        self._preview_dirty = False
        self._in_flight_refine = False
        self._in_flight_approx = False
        self._approx_shown = False  # the canvas shows a key-frame (slider drag) preview
        self.progressive_preview = True  # fast whole-image preview first, region crops when idle
        self.prewarm = True  # prepare the first preview in the worker while the user brushes
        self._stroke_pending = False
        self._photo_gen = 0
        self._sim_requests: dict[int, tuple[int, str, int]] = {}
        self._last_similar: dict | None = None  # the last Select-similar click (see _on_similar_tolerance)
        self._export_requests: dict[int, str] = {}
        self._error_showing = False
        self.notices: list[str] = []
        self._style_cache: dict[str, StyleRef] = {}
        self.style_part = None  # the open Style part dialog
        self._autosave_dirty = False
        self._autosave_thread: threading.Thread | None = None
        self.autosave_dir = autosave_dir or default_autosave_dir()

        self.setWindowTitle("TCP Editor")
        self.resize(1280, 820)
        self.canvas = CanvasView(self)
        self.canvas.setObjectName("canvas")
        self.setCentralWidget(self.canvas)
        self.canvas.set_document(self.doc)

        self.regions_panel = RegionsPanel(self)
        self.regions_panel.set_document(self.doc)
        dock = QDockWidget("Regions", self)
        dock.setObjectName("regionsDock")
        dock.setWidget(self.regions_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.regions_dock = dock

        self.controls = ControlsPanel(self)
        self.controls.set_document(self.doc)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.controls)
        dock2 = QDockWidget("Tools and transfer", self)
        dock2.setObjectName("controlsDock")
        dock2.setWidget(scroll)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock2)
        self.controls_dock = dock2

        self._build_actions()
        self._build_status()
        self._connect()
        self._load_gallery()
        self._restore_view_settings()

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._fire_preview)
        self._refine_timer = QTimer(self)
        self._refine_timer.setSingleShot(True)
        self._refine_timer.setInterval(REFINE_DELAY_MS)
        self._refine_timer.timeout.connect(self._fire_refine)
        self.regions_panel.strength.sliderReleased.connect(self._on_strength_released)

        interval = autosave_interval_s if autosave_interval_s is not None else int(
            self.settings.value("autosave/interval_s", 60))
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(max(1, interval) * 1000)
        self._autosave_timer.timeout.connect(self.autosave_now)
        self._autosave_timer.start()

        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._update_title()
        self._update_actions()
        if self.service.worker.info is not None:  # a shared service whose model is already loaded
            self._on_model_loaded(self.service.worker.info)

    # construction ---------------------------------------------------------------------------
    def _act(self, text: str, slot=None, shortcut=None, checkable=False, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if checkable:
            a.setCheckable(True)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(tip)
        if slot is not None:
            (a.toggled if checkable else a.triggered).connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        self.act_open = self._act("&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        m.addSeparator()
        self.act_save = self._act("&Save Project", self.save_project_dialog, QKeySequence.StandardKey.Save)
        self.act_save_as = self._act("Save Project &As…", lambda: self.save_project_dialog(True),
                                     QKeySequence.StandardKey.SaveAs)
        self.act_export = self._act("&Export Image…", self.export_dialog, "Ctrl+E",
                                    tip="Export the edited photo at full resolution (PNG, JPEG, WebP)")
        for a in (self.act_save, self.act_save_as, self.act_export):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self._act("&Quit", self.close, QKeySequence.StandardKey.Quit))

        m = mb.addMenu("&Edit")
        self.act_undo = self.doc.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence.StandardKey.Undo)
        self.act_redo = self.doc.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
        m.addAction(self.act_undo)
        m.addAction(self.act_redo)
        m.addSeparator()
        self.act_add_region = self._act("Add &Region", lambda: self.doc.has_photo and self.doc.add_region(), "Ctrl+R")
        m.addAction(self.act_add_region)

        m = mb.addMenu("&View")
        self.act_fit = self._act("&Fit", self.canvas.fit, "Ctrl+0")
        self.act_100 = self._act("&100%", self.canvas.zoom_100, "Ctrl+1")
        self.act_zoom_in = self._act("Zoom &In", lambda: self.canvas.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
        self.act_zoom_out = self._act("Zoom &Out", lambda: self.canvas.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
        self.act_split = self._act("&Split Before/After", self._on_split_toggled, "Ctrl+\\", checkable=True,
                                   tip="Show the original left of the split line (hold \\ to see the original)")
        for a in (self.act_fit, self.act_100, self.act_zoom_in, self.act_zoom_out, self.act_split):
            m.addAction(a)

        m = mb.addMenu("&Mask")
        self.act_fill = self._act("&Fill", lambda: self._mask_op("fill"), tip="Select the whole photo")
        self.act_invert = self._act("&Invert", lambda: self._mask_op("invert"), "Ctrl+I")
        self.act_grow = self._act("&Grow", lambda: self._mask_op("grow"))
        self.act_shrink = self._act("&Shrink", lambda: self._mask_op("shrink"))
        self.act_feather = self._act("F&eather", lambda: self._mask_op("feather"))
        self.act_clear = self._act("&Clear", lambda: self._mask_op("clear"), "Ctrl+Shift+X")
        self.act_import_mask = self._act("I&mport Mask…", self.import_mask_dialog)
        self.act_export_mask = self._act("E&xport Mask…", self.export_mask_dialog)
        self.mask_actions = [self.act_fill, self.act_invert, self.act_grow, self.act_shrink, self.act_feather,
                             self.act_clear, self.act_import_mask, self.act_export_mask]
        for a in self.mask_actions[:6]:
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_import_mask)
        m.addAction(self.act_export_mask)

        m = mb.addMenu("M&odel")
        m.addAction(self._act("Use &Bundled Model", lambda: self.load_model(None, self.model_device)))
        m.addAction(self._act("Load &Weights File…", self.load_weights_dialog))
        m.addAction(self._act("Load from &Hugging Face…", self.load_hub_dialog))
        m.addAction(self._act("Use &Untrained Demo Model", lambda: self.load_model(None, self.model_device,
                                                                                    preset="demo128")))
        dm = m.addMenu("&Device")
        self.device_group = QActionGroup(self)
        for d in DEVICES:
            a = QAction(d.upper() if d != "auto" else "AUTO", self, checkable=True)
            a.setChecked(d == self.model_device)
            a.triggered.connect(lambda _=False, d=d: self.set_device(d))
            self.device_group.addAction(a)
            dm.addAction(a)
        pm = m.addMenu("&Precision")
        pm.setToolTipsVisible(True)
        self.precision_group = QActionGroup(self)
        for p, tip in (("auto", "bf16 where the device runs it natively, else fp32"),
                       ("bf16", "bfloat16: faster on CPUs with AVX512-BF16/AMX and on GPUs; slow where emulated"),
                       ("fp32", "float32 everywhere (the reference)")):
            a = QAction(PRECISION_LABELS[p], self, checkable=True)
            a.setData(p)
            a.setToolTip(tip)
            a.setChecked(p == self.model_precision)
            a.triggered.connect(lambda _=False, p=p: self.set_precision(p))
            self.precision_group.addAction(a)
            pm.addAction(a)

        tb = self.addToolBar("Tools")
        tb.setObjectName("toolsToolbar")
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for tool, label, key, tip in (
                ("brush", "Brush", "B", "Paint the active region's mask (Alt: erase)"),
                ("eraser", "Eraser", "E", "Erase from the mask"),
                ("lasso", "Lasso", "L", "Polygon lasso: click points, double-click or Enter to close; drag for "
                                        "freehand (Alt: subtract)"),
                ("flood", "Fill Colour", "G", "Colour flood fill from the clicked pixel (Alt: subtract)"),
                ("similar", "Similar", "W", "Select content similar to the clicked pixel (network content codes)"),
                ("pan", "Pan", "H", "Pan (or hold Space, or drag with the middle button)")):
            a = QAction(label, self, checkable=True)
            a.setShortcut(QKeySequence(key))
            a.setToolTip(f"{tip} ({key})")
            a.triggered.connect(lambda _=False, t=tool: self.set_tool(t))
            self.tool_group.addAction(a)
            tb.addAction(a)
            self.addAction(a)
            self.tool_actions[tool] = a
        self.tool_actions["brush"].setChecked(True)
        tb.addSeparator()
        tb.addAction(self.act_fit)
        tb.addAction(self.act_100)
        tb.addSeparator()
        tb.addAction(self.act_split)
        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setObjectName("splitSlider")
        self.split_slider.setRange(0, 100)
        self.split_slider.setValue(50)
        self.split_slider.setFixedWidth(140)
        self.split_slider.setToolTip("Split position: original on the left, edit on the right")
        self.split_slider.valueChanged.connect(self._on_split_moved)
        tb.addWidget(self.split_slider)

    def _build_status(self) -> None:
        sb = self.statusBar()
        self.busy_label = QLabel("")
        self.time_label = QLabel("Edit: –")
        self.zoom_label = QLabel("")
        self.model_label = QLabel("Model: loading…")
        self.model_label.setObjectName("modelLabel")
        for w in (self.busy_label, self.time_label, self.zoom_label, self.model_label):
            sb.addPermanentWidget(w)
        sb.showMessage("Open a photo (Ctrl+O) or drop one here.")

    def _connect(self) -> None:
        doc, w = self.doc, self.service.worker
        doc.changed.connect(self._schedule_preview)
        doc.changed.connect(self._mark_autosave)
        doc.photoChanged.connect(self._on_photo_changed)
        doc.activeRegionChanged.connect(lambda _u: self._update_actions())
        doc.regionsChanged.connect(self._update_actions)
        doc.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._clean_connected = True
        w.result.connect(self._on_result)
        w.discarded.connect(self._on_discarded)
        w.failed.connect(self._on_failed)
        w.similarity.connect(self._on_similarity)
        w.exported.connect(self._on_exported)
        w.busy.connect(self._on_busy)
        w.progress.connect(self._on_progress)
        w.modelLoaded.connect(self._on_model_loaded)
        w.modelFailed.connect(self._on_model_failed)
        self._service_connected = True
        c = self.canvas
        c.fileDropped.connect(self.open_path)
        c.strokeFinished.connect(self._on_stroke_finished)
        c.polygonFinished.connect(self._on_polygon)
        c.floodRequested.connect(self._on_flood)
        c.similarRequested.connect(self._on_similar_click)
        c.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z:.0f}%"))
        c.brushSizeChanged.connect(self._on_canvas_brush_size)
        rp = self.regions_panel
        rp.styleDropped.connect(self.set_region_style_from_path)
        rp.chooseStyleRequested.connect(self.choose_style_dialog)
        rp.stylePartRequested.connect(self.style_part_dialog)
        rp.stylePartCleared.connect(self.clear_style_part)
        rp.galleryStyleChosen.connect(self._on_gallery_chosen)
        rp.galleryPathsDropped.connect(self.add_gallery_paths)
        ct = self.controls
        ct.brush_size.valueChanged.connect(lambda v: self.canvas.brush_size != v and self.canvas.set_brush_size(v))
        ct.hardness.valueChanged.connect(lambda v: setattr(self.canvas, "brush_hardness", v / 100.0))
        ct.opacity.valueChanged.connect(lambda v: setattr(self.canvas, "brush_opacity", v / 100.0))
        ct.overlay_opacity.valueChanged.connect(self._on_overlay_opacity)
        ct.similarity.valueChanged.connect(self._on_similar_tolerance)
        ct.secondPhotoRequested.connect(self.choose_second_photo_dialog)
        ct.secondPhotoCleared.connect(lambda: self.doc.set_interp_image(None))

    def _restore_view_settings(self) -> None:
        s = self.settings
        geo = s.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = s.value("window/state")
        if state is not None:
            self.restoreState(state)
        try:
            opacity = int(float(s.value("view/overlay_opacity", DEFAULT_OVERLAY_OPACITY)))
        except (TypeError, ValueError):
            opacity = DEFAULT_OVERLAY_OPACITY
        if opacity < MIN_RESTORED_OVERLAY_OPACITY:
            # An overlay this faint makes brushing look like it does nothing: never bring it back
            # silently (issue #15); this session starts at the default and says so.
            self.notify(f"The mask overlay was set to {max(0, opacity)} % (invisible) last time; it is back at "
                        f"{DEFAULT_OVERLAY_OPACITY} % (Tools and transfer > View > Mask overlay).", 15000)
            opacity = DEFAULT_OVERLAY_OPACITY
        self.controls.overlay_opacity.setValue(opacity)
        try:
            self.controls.brush_size.setValue(int(float(s.value("brush/size", 40))))
        except (TypeError, ValueError):
            pass
        self._on_overlay_opacity(self.controls.overlay_opacity.value())

    def notify(self, text: str, timeout_ms: int = 10000) -> None:
        """A status-bar message that matters to the user; also kept in `self.notices` (tests)."""
        self.notices.append(text)
        self.statusBar().showMessage(text, timeout_ms)

    # tools ------------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        self.canvas.set_tool(tool)
        a = self.tool_actions.get(tool)
        if a is not None and not a.isChecked():
            a.setChecked(True)

    def _on_canvas_brush_size(self, size: float) -> None:
        sb = self.controls.brush_size
        if sb.value() != int(round(size)):
            sb.blockSignals(True)
            sb.setValue(int(round(size)))
            sb.blockSignals(False)

    def _on_overlay_opacity(self, v: int) -> None:
        self.canvas.set_overlay_opacity(v / 100.0)
        if v < MIN_RESTORED_OVERLAY_OPACITY and self.controls.overlay_opacity.isSliderDown():
            self.statusBar().showMessage("The mask overlay is (almost) invisible: brushing will not show. "
                                         "It is back at the default on the next start.", 8000)

    def _on_split_toggled(self, on: bool) -> None:
        self.canvas.set_split(self.split_slider.value() / 100.0 if on else None)

    def _on_split_moved(self, v: int) -> None:
        if not self.act_split.isChecked():
            self.act_split.setChecked(True)
        self.canvas.set_split(v / 100.0)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        """Hold backslash (anywhere in this window, outside text fields) to see the original."""
        et = event.type()
        if et in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and event.key() == Qt.Key.Key_Backslash \
                and not event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.MetaModifier):
            w = obj if hasattr(obj, "window") else None
            if w is not None and callable(getattr(w, "window", None)) and w.window() is self \
                    and not isinstance(QApplication.focusWidget(), (QLineEdit, QTextEdit)):
                if not event.isAutoRepeat():
                    self.canvas.set_show_original(et == QEvent.Type.KeyPress)
                return True
        return super().eventFilter(obj, event)

    # preview loop -----------------------------------------------------------------------------
    def _schedule_preview(self) -> None:
        # Throttle, not a restarting debounce: a continuous drag (a change every 16 ms) would keep
        # restarting a 30 ms debounce and no preview would be computed until the drag stops.
        self._refine_timer.stop()
        if not self._debounce.isActive():
            self._debounce.start()

    def _on_stroke_finished(self) -> None:
        if self._stroke_pending:
            self._stroke_pending = False
            self.request_preview_now()
        r = self.doc.active_region
        if r is not None and r.style is None:
            self.request_warm()  # brushing before a style is chosen: get its first preview ready

    # warm-up ----------------------------------------------------------------------------------
    def warm_styles(self) -> list[np.ndarray]:
        """Style images a first preview is likely to use: the active region's, then the gallery's."""
        out: list[np.ndarray] = []
        r = self.doc.active_region
        if r is not None and r.style is not None:
            out.append(r.style.image)
        for p in (bundled_styles() + self._saved_gallery())[:WARM_GALLERY_STYLES]:
            style = self._style_cache.get(p)
            if style is None and os.path.isfile(p):
                try:
                    style = StyleRef.from_array(load_photo(p, self.max_pixels, keep_alpha=False).rgb, p)
                except ImageLoadError:
                    continue
                self._style_cache[p] = style
            if style is not None and not any(style.image is o for o in out):
                out.append(style.image)
        return out

    def request_warm(self) -> int | None:
        """Let the worker prepare the first preview (the photo's encoding, the gallery styles' swaps,
        the network's kernels at this size) while the user brushes; see render.warm_steps."""
        doc = self.doc
        if not self.prewarm or (doc.interp_image is not None and doc.interp_amount > 0):
            return None
        if doc.preview is None:
            # No photo yet: the network's first passes (its kernels' set-up, about 0.25 s on 2 cores)
            # and the gallery styles' encodings, on a stand-in photo of the usual 4:3 shape.
            stand_in = np.full((768, 1024, 3), 128, np.uint8)
            return self.service.submit_warm(stand_in, self.warm_styles(), None, 1.0, int(doc.smoothing))
        r = doc.active_region
        mask = r.mask.copy() if r is not None and r.mask.any() else None
        strength = float(r.strength) if r is not None else 1.0
        return self.service.submit_warm(doc.preview, self.warm_styles(), mask, strength, int(doc.smoothing))

    def request_preview_now(self) -> None:
        self._debounce.stop()
        self._refine_timer.stop()
        self._fire_preview()

    def _fire_refine(self) -> None:
        if self._in_flight is None and not self._preview_dirty and self._needs_refine():
            self._fire_preview(refine=True)

    def _needs_refine(self) -> bool:
        """Would the region-crop pipeline (the export's) look different from the fast preview?"""
        doc = self.doc
        if not self.progressive_preview or doc.global_transfer or doc.preview is None:
            return False
        h, w = doc.preview_shape
        for r in doc.regions:
            if not (r.visible and r.style is not None):
                continue
            rows, cols = np.flatnonzero(r.mask.any(axis=1)), np.flatnonzero(r.mask.any(axis=0))
            if rows.size and (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1) < REFINE_MAX_AREA * h * w:
                return True
        return False

    def _fire_preview(self, refine: bool = False) -> None:
        slow = self.last_edit_ms is None or self.last_edit_ms > LIVE_STROKE_PREVIEW_MS
        if not refine and self.canvas.stroking and slow:
            # slow model: an edit started mid-stroke would only delay the one after the release
            self._stroke_pending = True
            return
        state = self.doc.render_state()
        if state is None:
            return
        if state.is_identity:
            self.service.cancel("preview")
            self._in_flight = None
            self._preview_dirty = False
            self.last_result = None
            self.canvas.set_result(None)
            self.previewApplied.emit(-1, 0.0)
            return
        if self._in_flight is not None:
            self._preview_dirty = True
            return
        self._preview_dirty = False
        self._in_flight_gen = self._photo_gen
        crop = refine or not self.progressive_preview
        self._in_flight_refine = refine
        # While the strength slider is held, previews interpolate between exact strength key
        # frames (one G pass per step); the release brings the exact preview.
        approx = not refine and self.regions_panel.strength.isSliderDown()
        self._in_flight_approx = approx
        self._in_flight = self.service.submit_render(
            state, crop=crop, keyframe_step=DRAG_KEYFRAME_STEP if approx else None)

    def _on_strength_released(self) -> None:
        # (a key-frame request still running is followed by the exact one in _on_result)
        if self._approx_shown and self._in_flight is None:
            self._schedule_preview()

    def _preview_done(self, rid: int) -> bool:
        if rid != self._in_flight:
            return False
        self._in_flight = None
        if self._preview_dirty:
            self._preview_dirty = False
            self._fire_preview()
        return True

    def _on_result(self, rid: int, image, ms: float) -> None:
        gen = self._in_flight_gen
        if rid != self._in_flight:
            return
        self._in_flight = None
        refined, approx = self._in_flight_refine, self._in_flight_approx
        self._in_flight_approx = False
        # Pipelining: hand the worker the next pending state first, so it computes while this
        # thread converts and paints the result (a slider drag keeps the worker busy).
        if self._preview_dirty:
            self._preview_dirty = False
            self._fire_preview()
        elif approx and not self.regions_panel.strength.isSliderDown():
            self._fire_preview()  # the drag ended while this ran: the exact preview now
        elif not refined and self._needs_refine():
            self._refine_timer.start()
        if gen == self._photo_gen and image is not None and image.shape[:2] == self.doc.preview_shape:
            self._approx_shown = approx
            self.last_result = image
            self.last_edit_ms = ms
            self.canvas.set_result(image)
            self.time_label.setText(f"Edit: {ms:.0f} ms")
            self.previewApplied.emit(rid, ms)

    def _on_discarded(self, rid: int) -> None:
        self._sim_requests.pop(rid, None)
        self._preview_done(rid)

    def _on_failed(self, failure: Failure) -> None:
        rid, summary, details = failure.id, failure.summary, failure.details
        if rid in self._export_requests:
            path = self._export_requests.pop(rid)
            self.statusBar().showMessage(f"Export to {os.path.basename(path)} failed.")
            self.exportFailed.emit(summary)
            self._show_error("Export failed", summary + "\n\nThe document is unchanged; try another file name "
                                                        "or format.", details)
            return
        if rid != self._in_flight and rid not in self._sim_requests:
            return  # another window's request (shared service)
        self._sim_requests.pop(rid, None)
        self._preview_done(rid)
        self.statusBar().showMessage(summary.splitlines()[0][:200] if summary else "The edit failed.")
        self._show_error("Edit failed", summary + "\n\nYour photo, regions and masks are unchanged; the last "
                                                  "good preview stays on screen.", details)

    def _show_error(self, title: str, text: str, details: str = "") -> None:
        if self._error_showing:  # one dialog at a time; the status bar has the rest
            return
        self._error_showing = True
        try:
            dialogs.error(self, title, text, details)
        finally:
            self._error_showing = False

    # model ------------------------------------------------------------------------------------
    def load_model(self, spec: str | None = None, device: str | None = None, preset: str | None = None,
                   precision: str | None = None) -> None:
        self.model_spec, self.model_preset = spec, preset
        if device:
            self.model_device = device
        if precision:
            self.model_precision = precision
        self.model_label.setText("Model: loading…")
        self.service.load_model(spec, self.model_device, preset, self.model_precision)

    def set_device(self, device: str) -> None:
        self.load_model(self.model_spec, device, self.model_preset)

    def set_precision(self, precision: str) -> None:
        """"auto" | "bf16" | "fp32": reloads the model in that precision (saved once it loads)."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        self.load_model(self.model_spec, self.model_device, self.model_preset, precision)

    def _on_progress(self, rid: int, done: int, total: int) -> None:
        if rid in self._export_requests and total > 0:
            name = os.path.basename(self._export_requests[rid])
            self.statusBar().showMessage(f"Exporting {name} at full resolution… {100 * done // total}%")

    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setText("● computing" if busy else "")

    def _disconnect_service(self) -> None:
        if not self._service_connected:
            return
        self._service_connected = False
        w = self.service.worker
        for sig, slot in ((w.result, self._on_result), (w.discarded, self._on_discarded), (w.failed, self._on_failed),
                          (w.similarity, self._on_similarity), (w.exported, self._on_exported),
                          (w.busy, self._on_busy), (w.progress, self._on_progress),
                          (w.modelLoaded, self._on_model_loaded),
                          (w.modelFailed, self._on_model_failed)):
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass

    def _sync_feather(self) -> None:
        if self.model_info is not None and self.doc.preview is not None:
            self.canvas.set_feather_px(self.model_info.feather_px(*self.doc.preview_shape))

    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.model_info = info
        self._sync_feather()
        self.model_label.setText(info.label)
        self.model_label.setStyleSheet("color: #e0a020; font-weight: bold;" if info.demo else "")
        self.model_label.setToolTip(info.note or info.source)
        if info.demo and not self.model_preset:
            self.statusBar().showMessage("No trained weights found: using an UNTRAINED demo model. "
                                         "Load weights from the Model menu for real results.", 15000)
        self._good_model_args = (self.model_spec, self.model_device, self.model_preset, self.model_precision)
        self.settings.setValue("model/device", self.model_device)  # only a device that worked
        self.settings.setValue("model/precision", self.model_precision)  # the choice (auto stays auto)
        self._sync_device_menu()
        self._schedule_preview()
        self.request_warm()

    def _sync_device_menu(self) -> None:
        for a in self.device_group.actions():
            a.setChecked(a.text().lower() == self.model_device)
        for a in self.precision_group.actions():
            a.setChecked(a.data() == self.model_precision)

    def _on_model_failed(self, failure: Failure) -> None:
        summary, details = failure.summary, failure.details
        keep = f"Still using {self.model_info.label}." if self.model_info else "No model is loaded."
        if self._good_model_args is not None:  # the menu and a later reload follow the model in use
            self.model_spec, self.model_device, self.model_preset, self.model_precision = self._good_model_args
            self._sync_device_menu()
        self.model_label.setText(self.model_info.label if self.model_info else "Model: none")
        self._show_error("Could not load the model", f"{summary}\n\n{keep}", details)

    def load_weights_dialog(self) -> None:
        path = dialogs.open_path(self, "Load model weights", "", "Model weights (*.safetensors);;All files (*)")
        if path:
            self.load_model(path, self.model_device)

    def load_hub_dialog(self) -> None:
        spec = dialogs.ask_text(self, "Load from Hugging Face", "Weights (hf://OWNER/REPO/FILE.safetensors):",
                                "hf://")
        if spec and spec.strip() not in ("", "hf://"):
            self.load_model(spec.strip(), self.model_device)

    # files ------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = os.path.dirname(self.doc.path) if self.doc.path else ""
        path = dialogs.open_path(self, "Open photo or project", start)
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> bool:
        if str(path).lower().endswith(project.EXTENSION):
            return self.open_project(path)
        return self.open_photo(path)

    def _maybe_save_changes(self) -> bool:
        """Ask before discarding unsaved edits; False if the user cancelled."""
        if not self.doc.has_photo or self.doc.undo_stack.isClean():
            return True
        ans = dialogs.ask_save_changes(self, os.path.basename(self.doc.project_path or self.doc.path) or "the photo")
        if ans == "save":
            return self.save_project_dialog()
        return ans == "discard"

    def open_photo(self, path: str) -> bool:
        try:
            photo = load_photo(path, self.max_pixels)
        except ImageLoadError as e:
            self._show_error("Cannot open photo", str(e))
            return False
        except MemoryError:
            self._show_error("Cannot open photo", f"'{os.path.basename(path)}' is too large for the memory left.")
            return False
        if not self._maybe_save_changes():
            return False
        self.doc.set_photo(photo.rgb, photo.path, photo.exif, photo.icc, photo.alpha)
        self.doc.undo_stack.setClean()
        self._prewarm_photo_png()
        self._add_recent(path)
        h, w = photo.rgb.shape[:2]
        self.statusBar().showMessage(f"Opened {os.path.basename(path)} ({w}x{h}). Brush a region, then drop a "
                                     "style photo on it.", 10000)
        return True

    def _prewarm_photo_png(self) -> None:
        """Encode the photo for project files in the background now (PIL's encoder releases the
        GIL), so the first Save does not spend ~1 s per 12 MP on it in the GUI thread."""
        doc, photo = self.doc, self.doc.photo

        def work() -> None:
            try:
                project.photo_png(doc, photo)
            except Exception:  # noqa: BLE001 - Save encodes it itself then
                pass

        threading.Thread(target=work, name="tcp-photo-png", daemon=True).start()

    def _on_photo_changed(self) -> None:
        self._photo_gen += 1
        self.service.cancel("preview")
        self.service.cancel("similarity")
        self._sim_requests.clear()
        self._last_similar = None
        self._sync_feather()
        self._in_flight = None
        self._preview_dirty = False
        self.last_result = None
        self.canvas.set_result(None)
        self._update_title()
        self._update_actions()
        self.request_warm()

    def open_project(self, path: str) -> bool:
        try:
            snap = project.load(path)
        except project.ProjectError as e:
            self._show_error("Cannot open project", str(e))
            return False
        except MemoryError:
            self._show_error("Cannot open project", "The project is too large for the memory left.")
            return False
        if not self._maybe_save_changes():
            return False
        project.restore(self.doc, snap, path)
        self._add_recent(path)
        self._update_title()
        self.statusBar().showMessage(f"Opened project {os.path.basename(path)}.", 8000)
        return True

    def save_project(self, path: str) -> bool:
        if not self.doc.has_photo:
            return False
        if not path.lower().endswith(project.EXTENSION):
            path += project.EXTENSION
        try:
            project.save(path, self.doc)
        except (project.ProjectError, OSError) as e:
            self._show_error("Cannot save project", str(e))
            return False
        self.doc.project_path = path
        self.doc.undo_stack.setClean()
        self._add_recent(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def save_project_dialog(self, save_as: bool = False) -> bool:
        if not self.doc.has_photo:
            return False
        path = self.doc.project_path
        if save_as or not path:
            stem = os.path.splitext(self.doc.path)[0] if self.doc.path else "untitled"
            path = dialogs.save_path(self, "Save project", stem + project.EXTENSION, dialogs.PROJECT_FILTER)
            if not path:
                return False
        return self.save_project(path)

    def export_dialog(self) -> None:
        if not self.doc.has_photo:
            return
        stem, ext = os.path.splitext(self.doc.path or "untitled.png")
        ext = ext.lower() if ext.lower() in (".png", ".jpg", ".jpeg", ".webp") else ".png"
        name = f"{stem}_tcp{ext}"
        path = dialogs.save_path(self, "Export image", name, dialogs.EXPORT_FILTER, dialogs.export_filter_for(name))
        if path:
            self.export_to(path)

    def export_to(self, path: str, quality: int = 92) -> int | None:
        """Export at full resolution (asynchronously, in the worker). Returns the request id."""
        doc = self.doc
        if not doc.has_photo:
            return None
        if not os.path.splitext(path)[1]:
            path += ".png"
        protect = doc.path or None
        if doc.path and same_file(path, doc.path):
            if not dialogs.confirm(self, "Overwrite the original?",
                                   f"'{os.path.basename(path)}' is the original photo. Replace it with the edit? "
                                   "This cannot be undone.", default_yes=False):
                return None
            protect = None
        regions = [(r.style.image, r.mask.copy(), float(r.strength), r.style_mask) for r in doc.regions
                   if r.visible and r.style is not None and (doc.global_transfer or r.mask.max() > 0)]
        rid = self.service.submit_export(ExportJob(
            photo=doc.photo, alpha=doc.alpha, exif=doc.exif, icc=doc.icc, regions=regions,
            global_=doc.global_transfer, interp_image=doc.interp_image if doc.interp_amount > 0 else None,
            interp_what=doc.interp_what, interp_amount=doc.interp_amount, smoothing=doc.smoothing, path=path,
            quality=quality, protect=protect))
        self._export_requests[rid] = path
        self.statusBar().showMessage(f"Exporting {os.path.basename(path)} at full resolution…")
        return rid

    def _on_exported(self, rid: int, path: str, ms: float) -> None:
        self._export_requests.pop(rid, None)
        self.statusBar().showMessage(f"Exported {path} ({ms / 1000:.1f} s)", 10000)
        self.exportFinished.emit(path)

    # recent files -------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        v = self.settings.value("recent/files", [])
        if isinstance(v, str):
            v = [v]
        return [p for p in (v or []) if isinstance(p, str)]

    def _add_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        files = [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent/files", [path] + files[: MAX_RECENT - 1])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = [p for p in self.recent_files() if os.path.exists(p)]
        if not files:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
            return
        for p in files:
            a = self.recent_menu.addAction(os.path.basename(p))
            a.setToolTip(p)
            a.triggered.connect(lambda _=False, p=p: self.open_path(p))

    # styles --------------------------------------------------------------------------------------
    def load_style(self, path: str) -> StyleRef | None:
        if path in self._style_cache:
            return self._style_cache[path]
        try:
            photo = load_photo(path, self.max_pixels, keep_alpha=False)
        except ImageLoadError as e:
            self._show_error("Cannot use this style photo", str(e))
            return None
        style = StyleRef.from_array(photo.rgb, path)
        self._style_cache[path] = style
        return style

    def set_region_style_from_path(self, uid: int, path: str) -> bool:
        style = self.load_style(path)
        if style is None:
            return False
        try:
            self.doc.set_style(uid, style)
        except KeyError:
            return False
        self.regions_panel.gallery.add_style(path, style.image)
        self._remember_gallery(path)
        return True

    def choose_style_dialog(self) -> None:
        r = self.doc.active_region
        if r is None:
            return
        path = dialogs.open_path(self, "Choose a style photo", "", dialogs.IMAGE_FILTER)
        if path:
            self.set_region_style_from_path(r.uid, path)

    def style_part_dialog(self, uid: int | None = None):
        """Open the Style part dialog for a region (the active one by default): OK sets the brushed
        part of its style photo as one undo step. Window-modal, not blocking; returns the dialog."""
        from .style_part import StylePartDialog

        if uid is None:
            r = self.doc.active_region
            if r is None:
                return None
            uid = r.uid
        r = self.doc.region(uid)
        if r.style is None:
            return None
        if self.style_part is not None:
            self.style_part.reject()
        dlg = StylePartDialog(r.style.image, r.style_mask, r.style.name, self)
        style = r.style

        def accepted() -> None:
            try:
                region = self.doc.region(uid)
            except KeyError:  # deleted meanwhile (undo)
                return
            if region.style is style:  # not if the style changed meanwhile: the part was of the old one
                self.doc.set_style_mask(uid, dlg.style_mask())

        def finished(_result: int) -> None:
            if self.style_part is dlg:
                self.style_part = None
            dlg.deleteLater()  # its copy of the style photo and mask go with it

        dlg.accepted.connect(accepted)
        dlg.finished.connect(finished)
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        self.style_part = dlg
        dlg.open()
        return dlg

    def clear_style_part(self, uid: int | None = None) -> bool:
        """Take the active region's style from the whole reference again (one undo step)."""
        r = self.doc.active_region if uid is None else self.doc.region(uid)
        return r is not None and self.doc.set_style_mask(r.uid, None)

    def _on_gallery_chosen(self, path: str) -> None:
        if not self.doc.has_photo:
            return
        r = self.doc.active_region
        if r is None:
            self.doc.add_region()
            r = self.doc.active_region
        self.set_region_style_from_path(r.uid, path)

    def _load_gallery(self) -> None:
        paths = bundled_styles() + [p for p in self._saved_gallery() if os.path.isfile(p)]
        for p in paths:
            try:
                ph = load_photo(p, self.max_pixels, keep_alpha=False)
            except ImageLoadError:
                continue
            self.regions_panel.gallery.add_style(p, ph.rgb)

    def _saved_gallery(self) -> list[str]:
        v = self.settings.value("gallery/paths", [])
        if isinstance(v, str):
            v = [v]
        return [p for p in (v or []) if isinstance(p, str)]

    def _remember_gallery(self, path: str) -> None:
        if path in bundled_styles():
            return
        paths = [p for p in self._saved_gallery() if p != path]
        self.settings.setValue("gallery/paths", ([path] + paths)[:50])

    def add_gallery_paths(self, paths: list[str]) -> None:
        bad = []
        for p in paths:
            if not is_image_path(p):
                bad.append(f"{os.path.basename(p)}: not an image file")
                continue
            style = self.load_style(p)
            if style is not None:
                self.regions_panel.gallery.add_style(p, style.image)
                self._remember_gallery(p)
        if bad:
            self._show_error("Not added to the gallery", "\n".join(bad))

    def choose_second_photo_dialog(self) -> None:
        path = dialogs.open_path(self, "Second photo for interpolation", "", dialogs.IMAGE_FILTER)
        if path:
            self.set_second_photo(path)

    def set_second_photo(self, path: str) -> bool:
        try:
            ph = load_photo(path, self.max_pixels, keep_alpha=False)
        except ImageLoadError as e:
            self._show_error("Cannot open the second photo", str(e))
            return False
        self.doc.set_interp_image(ph.rgb, path)
        return True

    # mask tools ------------------------------------------------------------------------------------
    def _target_region(self, create: bool = True):
        r = self.doc.active_region
        if r is None and create and self.doc.has_photo:
            self.doc.add_region()
            r = self.doc.active_region
        return r

    def _mask_op(self, op: str) -> None:
        r = self._target_region(create=op == "fill")
        if r is None:
            return
        m = r.mask
        c = self.controls
        new = {
            "fill": lambda: np.ones_like(m),
            "invert": lambda: mask_ops.invert(m),
            "grow": lambda: mask_ops.grow(m, c.grow_px.value()),
            "shrink": lambda: mask_ops.grow(m, -c.grow_px.value()),
            "feather": lambda: mask_ops.feather(m, c.feather_px.value()),
            "clear": lambda: np.zeros_like(m),
        }[op]()
        self.doc.apply_mask(r.uid, new, op.capitalize() + " mask")

    def _on_polygon(self, points, mode: str) -> None:
        r = self._target_region(create=mode == "add")
        if r is None:
            return
        sel = mask_ops.polygon_mask(r.mask.shape, points)
        self.doc.apply_mask(r.uid, mask_ops.combine(r.mask, sel, mode), "Lasso")
        self.selectionApplied.emit()

    def _on_flood(self, x: int, y: int, mode: str) -> None:
        r = self._target_region(create=mode == "add")
        if r is None:
            return
        sel = mask_ops.flood_fill(self.doc.preview, x, y, self.controls.tolerance.value())
        if sel.any():
            self.doc.apply_mask(r.uid, mask_ops.combine(r.mask, sel, mode), "Colour fill")
        self.selectionApplied.emit()

    def _on_similar_click(self, x: int, y: int, mode: str) -> None:
        h, w = self.doc.preview_shape
        if not (0 <= x < w and 0 <= y < h):
            return
        r = self._target_region(create=mode == "add")
        if r is None:
            return
        rid = self.service.submit_similarity(self.doc.preview, x, y)
        self._sim_requests[rid] = (r.uid, mode, self._photo_gen)
        self.statusBar().showMessage("Selecting similar content…", 3000)

    def _on_similarity(self, rid: int, sim, ms: float) -> None:
        req = self._sim_requests.pop(rid, None)
        if req is None:
            return
        uid, mode, gen = req
        if gen != self._photo_gen:
            return
        try:
            r = self.doc.region(uid)
        except KeyError:
            return
        if sim.shape != r.mask.shape:
            sim = mask_ops.resize_mask(sim, r.mask.shape)
        # kept, so that moving the tolerance slider re-thresholds this click live
        self._last_similar = {"uid": uid, "mode": mode, "sim": sim, "base": r.mask.copy(), "applied": False}
        self._apply_similar()
        self.selectionApplied.emit()

    def _apply_similar(self) -> None:
        ls = self._last_similar
        stack = self.doc.undo_stack
        if ls["applied"]:
            stack.undo()  # back to the mask before the click: one undo step for the click in all
        sel = mask_ops.threshold_similarity(ls["sim"], mask_ops.similar_threshold(self.controls.similarity.value()))
        ls["applied"] = self.doc.apply_mask(ls["uid"], mask_ops.combine(ls["base"], sel, ls["mode"]),
                                            "Select similar")
        ls["index"] = stack.index()

    def _on_similar_tolerance(self, _value: int) -> None:
        """Tolerance slider moved: show the last Select-similar click at the new tolerance, as long
        as nothing else was edited since (then the slider only sets the next click's tolerance)."""
        ls = self._last_similar
        if ls is None:
            return
        if self.doc.undo_stack.index() != ls["index"] or ls["uid"] not in {r.uid for r in self.doc.regions}:
            self._last_similar = None
            return
        self._apply_similar()

    def import_mask_dialog(self) -> None:
        path = dialogs.open_path(self, "Import mask", "", dialogs.MASK_FILTER)
        if path:
            self.import_mask(path)

    def import_mask(self, path: str) -> bool:
        r = self._target_region()
        if r is None:
            return False
        h, w = r.mask.shape
        try:
            m = load_mask_file(path, (w, h), self.max_pixels)
        except ImageLoadError as e:
            self._show_error("Cannot import mask", str(e))
            return False
        self.doc.apply_mask(r.uid, m, "Import mask")
        return True

    def export_mask_dialog(self) -> None:
        r = self.doc.active_region
        if r is None:
            return
        stem = os.path.splitext(self.doc.path)[0] if self.doc.path else "mask"
        path = dialogs.save_path(self, "Export mask (full resolution)", f"{stem}_{r.name}_mask.png",
                                 "PNG (*.png)")
        if path:
            self.export_mask(path)

    def export_mask(self, path: str) -> bool:
        from .services.images import save_mask_png

        r = self.doc.active_region
        if r is None:
            return False
        if not path.lower().endswith(".png"):
            path += ".png"
        if self.doc.path and same_file(path, self.doc.path):
            self._show_error("Cannot export mask", "That is the original photo; choose another name.")
            return False
        try:
            save_mask_png(path, self.doc.full_mask(r))
        except (ImageSaveError, OSError) as e:
            self._show_error("Cannot export mask", str(e))
            return False
        self.statusBar().showMessage(f"Mask saved to {path}", 5000)
        return True

    # autosave -------------------------------------------------------------------------------------
    @property
    def autosave_path(self) -> str:
        return os.path.join(self.autosave_dir, AUTOSAVE_NAME)

    def _mark_autosave(self) -> None:
        self._autosave_dirty = True

    def autosave_now(self, wait: bool = False) -> bool:
        """Write the autosave in a background thread (atomic). Returns False if nothing to do."""
        if not self.doc.has_photo or not self._autosave_dirty:
            return False
        if self._autosave_thread is not None and self._autosave_thread.is_alive():
            return False
        snap = project.snapshot(self.doc)
        self._autosave_dirty = False
        doc, path = self.doc, self.autosave_path

        def work() -> None:
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if snap._photo_png is None:
                    snap._photo_png = project.photo_png(doc, snap.photo)
                project.write(path, snap)
            except Exception:  # noqa: BLE001 - autosave must never take the editor down
                self._autosave_dirty = True
                return

        self._autosave_thread = threading.Thread(target=work, name="tcp-autosave", daemon=True)
        self._autosave_thread.start()
        if wait:
            self._autosave_thread.join()
        self.autosaved.emit(path)
        return True

    def check_autosave(self) -> bool:
        """Offer to restore an autosave newer than the last clean exit. True if restored."""
        path = self.autosave_path
        # A kill during an autosave leaves its temp file (the autosave itself is the previous one).
        # Only old ones go: another editor instance may be writing one right now.
        remove_stale_temp_files(path, older_than_s=60)
        if not os.path.isfile(path):
            return False
        try:
            clean = float(self.settings.value("session/clean_exit", 0) or 0)
        except (TypeError, ValueError):
            clean = 0.0
        mtime = os.path.getmtime(path)
        if mtime <= clean:
            return False
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime))
        if not dialogs.ask_restore_autosave(self, when):
            return False
        try:
            snap = project.load(path)
        except project.ProjectError as e:
            self._show_error("Cannot restore the autosave", str(e))
            return False
        project.restore(self.doc, snap, "")
        self.doc.project_path = ""
        self._autosave_dirty = True
        # mark as modified so that closing asks to save it somewhere
        self.doc.undo_stack.resetClean()
        self._update_title()
        self.statusBar().showMessage("Restored the autosaved project. Save it with Ctrl+S.", 10000)
        return True

    # window -----------------------------------------------------------------------------------------
    def _on_clean_changed(self, _clean: bool) -> None:
        self._update_title()

    def _update_title(self) -> None:
        name = os.path.basename(self.doc.project_path or self.doc.path) if self.doc.has_photo else ""
        self.setWindowTitle(f"{name}[*] — TCP Editor" if name else "TCP Editor")
        self.setWindowModified(self.doc.has_photo and not self.doc.undo_stack.isClean())

    def _update_actions(self) -> None:
        has = self.doc.has_photo
        has_region = self.doc.active_region is not None
        for a in (self.act_save, self.act_save_as, self.act_export, self.act_add_region):
            a.setEnabled(has)
        for a in self.mask_actions:
            a.setEnabled(has and (has_region or a in (self.act_fill, self.act_import_mask)))

    def closeEvent(self, event) -> None:
        if not self._maybe_save_changes():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("view/overlay_opacity", self.controls.overlay_opacity.value())
        self.settings.setValue("brush/size", self.controls.brush_size.value())
        self.settings.setValue("session/clean_exit", time.time())
        self._autosave_timer.stop()
        if self._autosave_thread is not None:
            self._autosave_thread.join(10)
        try:
            os.remove(self.autosave_path)
        except OSError:
            pass
        self.settings.sync()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._disconnect_service()
        # The undo stack is a child of this window: destroying the window clears it, which emits
        # cleanChanged after the C++ window is gone (Quit -> Discard printed a RuntimeError).
        if self._clean_connected:
            self._clean_connected = False
            self.doc.undo_stack.cleanChanged.disconnect(self._on_clean_changed)
        if self._owns_service:
            self.service.shutdown()
        event.accept()
        self.closed.emit()
