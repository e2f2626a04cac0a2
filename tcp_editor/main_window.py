"""The editor's main window: assembles the canvas, the docks and the controllers, and builds its
menus and tool bar from the action table (`actions.py`).

The work is done by `PreviewScheduler` (previews), `FilesController` (open, save, export, recent),
`SelectionController` (mask tools), `StylesController` (styles, gallery, warm-up), `ModelController`
(weights, device, precision) and `AutosaveController`; the window routes signals to them.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal
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

from . import actions as act
from .autosave import AutosaveController, default_autosave_dir  # noqa: F401 (default_autosave_dir: re-exported)
from .canvas import CanvasView
from .controls_panel import ControlsPanel
from .document import Document
from .feedback import Feedback
from .files_controller import FilesController
from .model_controller import ModelController
from .preview_scheduler import PreviewScheduler, qt_timer_factory
from .pyside_fix import protect_leaked_singletons
from .regions_panel import RegionsPanel
from .selection_controller import SelectionController
from .services.inference import InferenceService, ModelInfo
from .services.requests import Failure
from .styles_controller import StylesController

DEFAULT_OVERLAY_OPACITY = 45  # %
MIN_RESTORED_OVERLAY_OPACITY = 10  # % : a saved overlay fainter than this is not restored


class MainWindow(QMainWindow):
    previewApplied = Signal(int, float)  # request id (-1: cleared), elapsed ms
    closed = Signal()  # the window accepted a close

    def __init__(self, service: InferenceService | None = None, settings: QSettings | None = None,
                 autosave_dir: str | None = None, autosave_interval_s: int | None = None,
                 preview_long_side: int = 1024, max_pixels: int = 100_000_000) -> None:
        protect_leaked_singletons()  # PySide6 6.12 on Python 3.11 (see pyside_fix)
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.service = service if service is not None else InferenceService(self)
        self._owns_service = service is None
        self.max_pixels = max_pixels
        self.doc = Document(self, preview_long_side)
        self.feedback = Feedback(self)
        self.setWindowTitle("TCP Editor")
        self.resize(1280, 820)
        self.canvas = CanvasView(self)
        self.canvas.setObjectName("canvas")
        self.setCentralWidget(self.canvas)
        self.canvas.set_document(self.doc)
        self.regions_panel = RegionsPanel(self)
        self.regions_panel.set_document(self.doc)
        self.regions_dock = self._dock("Regions", "regionsDock", self.regions_panel)
        self.controls = ControlsPanel(self)
        self.controls.set_document(self.doc)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.controls)
        self.controls_dock = self._dock("Tools and transfer", "controlsDock", scroll)
        self._build_status()

        doc, svc, fb = self.doc, self.service, self.feedback
        self.previews = PreviewScheduler(doc, svc, qt_timer_factory(self), is_stroking=lambda: self.canvas.stroking,
                                         is_dragging=self.regions_panel.strength.isSliderDown,
                                         on_shown=self._show_preview, on_cleared=self._clear_preview)
        self.files = FilesController(doc, svc, self.settings, fb, max_pixels, self)
        self.selection = SelectionController(doc, svc, self.controls, fb, max_pixels,
                                             lambda: self.previews.photo_gen, self)
        self.styles = StylesController(doc, svc, self.settings, fb, self.regions_panel.gallery, max_pixels, self)
        self.models = ModelController(svc, self.settings, fb, self.model_label, self)
        self.autosave = AutosaveController(doc, self.settings, fb, autosave_dir, autosave_interval_s, self)

        self._build_actions()
        self._connect()
        self.styles.load_gallery()
        self._restore_view_settings()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._update_title()
        self._update_actions()
        self.models.connect_worker()  # (a shared service's model, if loaded, is taken up here)

    # construction ---------------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _make_action(self, spec: act.ActionSpec) -> QAction:
        a = spec.factory(self) if spec.factory is not None else QAction(spec.text, self)
        keys = act.shortcuts(spec)
        if keys:
            a.setShortcuts(keys)
        if spec.tip:
            a.setStatusTip(spec.tip)
            a.setToolTip(spec.tip)
        if spec.checkable:
            a.setCheckable(True)
            a.toggled.connect(lambda on, h=spec.handler: h(self, on))
        elif spec.handler is not None:
            a.triggered.connect(lambda _=False, h=spec.handler: h(self))
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        self.action_map: dict[str, QAction] = {s.name: self._make_action(s) for s in act.ACTIONS}
        for title, items in act.MENUS:
            m = self.menuBar().addMenu(title)
            for item in items:
                if item == act.SEPARATOR:
                    m.addSeparator()
                elif item == act.RECENT_MENU:
                    self.recent_menu = m.addMenu("Open &Recent")
                    self.recent_menu.aboutToShow.connect(lambda: self.files.fill_recent_menu(self.recent_menu))
                elif item == act.MODEL_CHOICES:
                    self.models.build_menus(m, self)
                else:
                    m.addAction(self.action_map[item])
        tb = self.addToolBar("Tools")
        tb.setObjectName("toolsToolbar")
        self.tool_group = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}
        for tool, label, key, tip in act.TOOLS:
            a = QAction(label, self, checkable=True)
            a.setShortcut(QKeySequence(key))
            a.setToolTip(f"{tip} ({key})")
            a.triggered.connect(lambda _=False, t=tool: self.set_tool(t))
            self.tool_group.addAction(a)
            tb.addAction(a)
            self.addAction(a)
            self.tool_actions[tool] = a
        self.tool_actions["brush"].setChecked(True)
        self.split_slider = QSlider(Qt.Orientation.Horizontal)
        self.split_slider.setObjectName("splitSlider")
        self.split_slider.setRange(0, 100)
        self.split_slider.setValue(50)
        self.split_slider.setFixedWidth(140)
        self.split_slider.setToolTip("Split position: original on the left, edit on the right")
        self.split_slider.valueChanged.connect(self._on_split_moved)
        for item in act.TOOLBAR:
            if item == act.SEPARATOR:
                tb.addSeparator()
            elif item == act.SPLIT_SLIDER:
                tb.addWidget(self.split_slider)
            else:
                tb.addAction(self.action_map[item])

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

    def _worker_slots(self):
        w, sel = self.service.signals, self.selection  # the worker's signals, on this (the GUI) thread
        return ((w.result, self._on_result), (w.discarded, self._on_discarded), (w.failed, self._on_failed),
                (w.similarity, sel.on_similarity), (w.exported, self.files.on_exported), (w.busy, self._on_busy),
                (w.progress, self.files.on_progress), (w.called, self.styles.on_called))

    def _connect(self) -> None:
        doc = self.doc
        doc.changed.connect(self.previews.schedule)
        doc.photoChanged.connect(self._on_photo_changed)
        doc.settingsChanged.connect(self._sync_feather)  # the Mask edge setting moves the canvas's outlines
        doc.settingsChanged.connect(self._update_actions)  # Update Priming to Current Defaults follows the priming
        doc.activeRegionChanged.connect(lambda _u: self._update_actions())
        doc.regionsChanged.connect(self._update_actions)
        doc.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._clean_connected = True
        for sig, slot in self._worker_slots():
            sig.connect(slot)
        self._service_connected = True
        self.models.loaded.connect(self._on_model_loaded)
        self.files.pathChanged.connect(self._update_title)
        self.autosave.restored.connect(self._update_title)
        c, sel, st = self.canvas, self.selection, self.styles
        c.fileDropped.connect(self.files.open_path)
        c.strokeFinished.connect(self._on_stroke_finished)
        c.polygonFinished.connect(sel.on_polygon)
        c.floodRequested.connect(sel.on_flood)
        c.similarRequested.connect(sel.on_similar_click)
        c.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z:.0f}%"))
        c.brushSizeChanged.connect(self._on_canvas_brush_size)
        rp = self.regions_panel
        rp.styleDropped.connect(st.set_region_style_from_path)
        rp.chooseStyleRequested.connect(st.choose_style_dialog)
        rp.stylePartRequested.connect(st.style_part_dialog)
        rp.stylePartCleared.connect(st.clear_style_part)
        rp.styleMatchRequested.connect(st.match_now)
        rp.galleryStyleChosen.connect(st.on_gallery_chosen)
        rp.galleryPathsDropped.connect(st.add_gallery_paths)
        rp.strength.sliderReleased.connect(self.previews.strength_released)
        ct = self.controls
        ct.brush_size.valueChanged.connect(lambda v: self.canvas.brush_size != v and self.canvas.set_brush_size(v))
        ct.hardness.valueChanged.connect(lambda v: setattr(self.canvas, "brush_hardness", v / 100.0))
        ct.opacity.valueChanged.connect(lambda v: setattr(self.canvas, "brush_opacity", v / 100.0))
        ct.overlay_opacity.valueChanged.connect(self._on_overlay_opacity)
        ct.similarity.valueChanged.connect(sel.on_tolerance)
        ct.secondPhotoRequested.connect(st.choose_second_photo_dialog)
        ct.secondPhotoCleared.connect(lambda: self.doc.set_interp_image(None))

    def _disconnect_service(self) -> None:
        if not self._service_connected:
            return
        self._service_connected = False
        for sig, slot in self._worker_slots():
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self.models.disconnect_worker()

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
            self.feedback.notify(f"The mask overlay was set to {max(0, opacity)} % (invisible) last time; it is "
                                 f"back at {DEFAULT_OVERLAY_OPACITY} % (Tools and transfer > View > Mask overlay).",
                                 15000)
            opacity = DEFAULT_OVERLAY_OPACITY
        self.controls.overlay_opacity.setValue(opacity)
        try:
            self.controls.brush_size.setValue(int(float(s.value("brush/size", 40))))
        except (TypeError, ValueError):
            pass
        self._on_overlay_opacity(self.controls.overlay_opacity.value())

    # tools and view --------------------------------------------------------------------------
    def open_path(self, path: str) -> bool:
        return self.files.open_path(path)

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
            self.feedback.status("The mask overlay is (almost) invisible: brushing will not show. "
                                 "It is back at the default on the next start.", 8000)

    def set_split(self, on: bool) -> None:
        self.canvas.set_split(self.split_slider.value() / 100.0 if on else None)

    def _on_split_moved(self, v: int) -> None:
        if not self.action_map["split"].isChecked():
            self.action_map["split"].setChecked(True)
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

    # previews and the worker -------------------------------------------------------------------
    def _show_preview(self, rid: int, image, ms: float) -> None:
        self.canvas.set_result(image)
        self.time_label.setText(f"Edit: {ms:.0f} ms")
        self.previewApplied.emit(rid, ms)

    def _clear_preview(self) -> None:
        self.canvas.set_result(None)
        self.previewApplied.emit(-1, 0.0)

    def _on_stroke_finished(self) -> None:
        self.previews.stroke_finished()
        r = self.doc.active_region
        if r is not None and r.style is None:
            self.styles.request_warm()  # brushing before a style is chosen: get its first preview ready

    def _on_photo_changed(self) -> None:
        self.previews.photo_changed()
        self.selection.photo_changed()
        self._sync_feather()
        self.canvas.set_result(None)
        self._update_title()
        self._update_actions()
        self.styles.request_warm()

    def _on_result(self, rid: int, image, ms: float) -> None:
        self.previews.on_result(rid, image, ms)

    def _on_discarded(self, rid: int) -> None:
        self.styles.on_request_gone(rid)
        self.selection.on_request_gone(rid)
        self.previews.on_discarded(rid)

    def _on_failed(self, failure: Failure) -> None:
        if self.files.on_failed(failure) or self.styles.on_failed(failure):
            return  # (a Match region failure is told in its dialog)
        ours = self.selection.on_request_gone(failure.id)
        ours = self.previews.on_failed(failure.id) or ours
        if not ours:
            return  # another window's request (shared service)
        summary = failure.summary
        self.feedback.status(summary.splitlines()[0][:200] if summary else "The edit failed.")
        self.feedback.error("Edit failed", summary + "\n\nYour photo, regions and masks are unchanged; the last "
                                                     "good preview stays on screen.", failure.details)

    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setText("● computing" if busy else "")

    def _sync_feather(self) -> None:
        self.canvas.set_feather(self.models.info, self.doc.edge)

    def _on_model_loaded(self, _info: ModelInfo) -> None:
        self._sync_feather()
        self.previews.schedule()
        self.styles.request_warm()

    # window -----------------------------------------------------------------------------------------
    def _on_clean_changed(self, _clean: bool) -> None:
        self._update_title()

    def _update_title(self) -> None:
        name = os.path.basename(self.doc.project_path or self.doc.path) if self.doc.has_photo else ""
        self.setWindowTitle(f"{name}[*] — TCP Editor" if name else "TCP Editor")
        self.setWindowModified(self.doc.has_photo and not self.doc.undo_stack.isClean())

    def _update_actions(self) -> None:
        has, has_region = self.doc.has_photo, self.doc.active_region is not None
        current = self.doc.priming_is_current()
        for spec in act.ACTIONS:
            if spec.needs is not act.Needs.NOTHING:
                self.action_map[spec.name].setEnabled(act.is_enabled(spec.needs, has, has_region, current))

    def closeEvent(self, event) -> None:
        if not self.files.maybe_save_changes():
            event.ignore()
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("view/overlay_opacity", self.controls.overlay_opacity.value())
        self.settings.setValue("brush/size", self.controls.brush_size.value())
        self.autosave.clean_exit()
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
