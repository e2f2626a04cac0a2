"""Model loading: which weights, device and precision; loading in the worker thread; the status
label; the Model menu's Device and Precision choices (saved once a model loads with them)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup

from . import dialogs
from .services.inference import ModelInfo
from .services.requests import Failure

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "bf16", "fp32")  # tcp_core.networks.precision.PRECISION_CHOICES (no torch here)
PRECISION_LABELS = {"auto": "Auto", "bf16": "bf16", "fp32": "fp32"}
PRECISION_TIPS = {"auto": "bf16 where the device runs it natively, else fp32",
                  "bf16": "bfloat16: faster on CPUs with AVX512-BF16/AMX and on GPUs; slow where emulated",
                  "fp32": "float32 everywhere (the reference)"}


class ModelController(QObject):
    loaded = Signal(object)  # ModelInfo: a model is in use (also for a shared, already loaded one)

    def __init__(self, service, settings, feedback, label, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service, self.settings, self.feedback, self.label = service, settings, feedback, label
        self.info: ModelInfo | None = None
        self.spec: str | None = None
        self.preset: str | None = None
        self.device = str(settings.value("model/device", "auto"))
        precision = str(settings.value("model/precision", "auto")).lower()
        self.precision = precision if precision in PRECISIONS else "auto"
        self._good_args: tuple | None = None  # (spec, device, preset, precision) of the model in use
        self.device_group: QActionGroup | None = None
        self.precision_group: QActionGroup | None = None
        self._connected = False

    def connect_worker(self) -> None:
        w = self.service.signals  # the worker's signals, on the GUI thread
        w.modelLoaded.connect(self._on_loaded)
        w.modelFailed.connect(self._on_failed)
        self._connected = True
        info = self.service.worker.info
        if info is not None:  # a shared service whose model is already loaded
            self._on_loaded(info)

    def disconnect_worker(self) -> None:
        if not self._connected:
            return
        self._connected = False
        w = self.service.signals
        for sig, slot in ((w.modelLoaded, self._on_loaded), (w.modelFailed, self._on_failed)):
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass

    def build_menus(self, menu, owner) -> None:
        """Device and Precision sub-menus (radio groups) of the Model menu."""
        dm = menu.addMenu("&Device")
        self.device_group = QActionGroup(owner)
        for d in DEVICES:
            a = QAction(d.upper(), owner, checkable=True)
            a.setChecked(d == self.device)
            a.triggered.connect(lambda _=False, d=d: self.set_device(d))
            self.device_group.addAction(a)
            dm.addAction(a)
        pm = menu.addMenu("&Precision")
        pm.setToolTipsVisible(True)
        self.precision_group = QActionGroup(owner)
        for p in PRECISIONS:
            a = QAction(PRECISION_LABELS[p], owner, checkable=True)
            a.setData(p)
            a.setToolTip(PRECISION_TIPS[p])
            a.setChecked(p == self.precision)
            a.triggered.connect(lambda _=False, p=p: self.set_precision(p))
            self.precision_group.addAction(a)
            pm.addAction(a)

    # choices ------------------------------------------------------------------------------------
    def load(self, spec: str | None = None, device: str | None = None, preset: str | None = None,
             precision: str | None = None) -> None:
        self.spec, self.preset = spec, preset
        if device:
            self.device = device
        if precision:
            self.precision = precision
        self.label.setText("Model: loading…")
        self.service.load_model(spec, self.device, preset, self.precision)

    def set_device(self, device: str) -> None:
        self.load(self.spec, device, self.preset)

    def set_precision(self, precision: str) -> None:
        """"auto" | "bf16" | "fp32": reloads the model in that precision (saved once it loads)."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
        self.load(self.spec, self.device, self.preset, precision)

    def load_bundled(self) -> None:
        self.load(None, self.device)

    def load_demo(self) -> None:
        self.load(None, self.device, preset="demo128")

    def load_weights_dialog(self) -> None:
        path = dialogs.open_path(self.feedback.window, "Load model weights", "",
                                 "Model weights (*.safetensors);;All files (*)")
        if path:
            self.load(path, self.device)

    def load_hub_dialog(self) -> None:
        spec = dialogs.ask_text(self.feedback.window, "Load from Hugging Face",
                                "Weights (hf://OWNER/REPO/FILE.safetensors):", "hf://")
        if spec and spec.strip() not in ("", "hf://"):
            self.load(spec.strip(), self.device)

    # worker answers -----------------------------------------------------------------------------
    def _on_loaded(self, info: ModelInfo) -> None:
        self.info = info
        self.label.setText(info.label)
        self.label.setStyleSheet("color: #e0a020; font-weight: bold;" if info.demo else "")
        self.label.setToolTip(info.note or info.source)
        if info.demo and not self.preset:
            self.feedback.status("No trained weights found: using an UNTRAINED demo model. "
                                 "Load weights from the Model menu for real results.", 15000)
        self._good_args = (self.spec, self.device, self.preset, self.precision)
        self.settings.setValue("model/device", self.device)  # only a device that worked
        self.settings.setValue("model/precision", self.precision)  # the choice (auto stays auto)
        self._sync_menus()
        self.loaded.emit(info)

    def _sync_menus(self) -> None:
        if self.device_group is not None:
            for a in self.device_group.actions():
                a.setChecked(a.text().lower() == self.device)
        if self.precision_group is not None:
            for a in self.precision_group.actions():
                a.setChecked(a.data() == self.precision)

    def _on_failed(self, failure: Failure) -> None:
        keep = f"Still using {self.info.label}." if self.info else "No model is loaded."
        if self._good_args is not None:  # the menu and a later reload follow the model in use
            self.spec, self.device, self.preset, self.precision = self._good_args
            self._sync_menus()
        self.label.setText(self.info.label if self.info else "Model: none")
        self.feedback.error("Could not load the model", f"{failure.summary}\n\n{keep}", failure.details)
