"""The inference worker: owns the TCPModel in its own QThread.

Requests (`requests.Request`: an id, a channel and a job dataclass whose `kind` is a
`RequestKind`) carry a monotonically increasing id (shared by all kinds); failures are emitted as
`requests.Failure`. Per channel ("preview", "similarity", "match", "export") the latest request wins: a
pending request is dropped when a newer one arrives before it started, and the result of a
request that was superseded while it ran is discarded (signal `discarded`) instead of being
delivered. `cancel()` drops everything pending
and discards whatever is running.

torch and tcp_core.editing.inference are imported lazily, inside the worker thread.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from tcp_core.base.memory import release_free_memory
from tcp_core.base.openmp import short_openmp_waits
from tcp_core.editing.masks import fade_depth, feather_reach
from tcp_core.editing.regions import RegionEdit

from .images import ExportConfig
from .requests import (
    CallJob,
    ExportJob,
    Failure,
    Job,
    RenderJob,
    Request,
    RequestKind,
    SimilarityJob,
    WarmJob,
)

DEMO_PRESET = "demo128"
IDLE_TRIM_DELAY_MS = 300  # malloc_trim after this long with an empty queue (BENCHMARKS.md, soak)
_UNFINISHED: list = []  # worker threads that did not stop in time at shutdown


@dataclass
class ModelInfo:
    source: str  # weights path or "untrained <preset>"
    device: str  # "cpu" / "cuda" / "mps"
    device_description: str
    demo: bool  # an untrained model (no weights found, or a preset was asked for)
    note: str = ""
    resolution: int = 0  # the network's working short side (px); 0: unknown
    size_multiple: int = 0  # step of its working long side (tcp_core.editing.inference.size_multiple)
    precision: str = ""  # what the network computes in: "bf16" / "fp32" ("" unknown: fakes)

    def working_size(self, h: int, w: int) -> tuple[int, int] | None:
        """The network's (height, width) for an h x w input (tcp_core.editing.inference.working_size), or None."""
        if self.resolution <= 0 or self.size_multiple <= 0 or min(h, w) <= 0:
            return None
        r, m = self.resolution, self.size_multiple
        long_px = min(round(max(h, w) * r / min(h, w)), 2 * r)
        long_px = max(m, int(round(long_px / m)) * m)
        return (r, long_px) if h <= w else (long_px, r)

    def feather_px(self, h: int, w: int) -> int:
        """The edit's automatic feather radius on an h x w image edited whole (the fast preview):
        two network pixels (tcp_core.editing.fullres.auto_feather_px); 0 when unknown."""
        ws = self.working_size(h, w)
        if ws is None:
            return 0
        return max(1, int(round(2.0 * max(h / ws[0], w / ws[1]))))

    def fade_px(self, h: int, w: int, edge: str = "inside") -> int:
        """How deep inside a brushed mask the edit of an h x w image may still be fading in, with the feather
        `edge` ("inside" or "across"): the photo-guided feather (tcp_core.editing.masks) fades over up to twice
        its radius (GUIDED_FEATHER_SCALE[...] x `feather_px`) where the photo is smooth, and less along the
        photo's edges; 0 when unknown."""
        r = self.feather_px(h, w)
        return fade_depth(r) if edge == "inside" else feather_reach(r, True)

    def reach_px(self, h: int, w: int, edge: str = "across") -> int:
        """How far beyond a brushed mask the edit of an h x w image may reach with the feather `edge`: none
        inside; across, as deep as it fades in (the photo-guided feather's support); 0 when unknown."""
        return 0 if edge == "inside" else feather_reach(self.feather_px(h, w), True)

    @property
    def label(self) -> str:
        name = os.path.basename(self.source) if not self.demo else self.source
        prec = f" · {self.precision}" if self.precision else ""
        if self.demo:
            return f"UNTRAINED DEMO MODEL ({name}): results are not meaningful · {self.device_description}{prec}"
        return f"Model {name} · {self.device_description}{prec}"


def _fraction(percent: int | None) -> float | None:
    """A region's colour priming as RegionEdit takes it (0..1), from the editor's percent; None stays None."""
    return None if percent is None else percent / 100


def default_torch_threads() -> int:
    """All cores. The compute thread runs at a lower priority (nice 5, inherited by the OpenMP
    threads it starts), so the GUI thread still gets a core the moment it needs one: measured on
    2 cores, two torch threads halve a generator pass (46 -> 21 ms) and the event loop's longest
    stall stays under 40 ms (BENCHMARKS.md)."""
    return max(1, os.cpu_count() or 1)


class _IdleTrim:
    """The idle-trim timer's job: give the C heap's freed pages back to the OS if the worker is still idle.

    A plain object holding only the worker's lock, its pending-request dict and its running id: the timer's thread
    must not hold the worker (a QObject), since a thread that drops the last reference to a Qt object destroys it
    on the wrong thread."""

    def __init__(self, lock: threading.Lock, pending: dict) -> None:
        self.lock, self.pending = lock, pending
        self.running = 0
        self.count = 0

    def __call__(self) -> None:
        with self.lock:
            if self.pending or self.running:
                return
        if release_free_memory():
            self.count += 1



def select_similar(model, image: np.ndarray, x: int, y: int, tolerance: float) -> np.ndarray:
    """Select similar at (x, y) of `image`, seeded at `tolerance` (0..1): `TCPModel.similar_region`'s HxW float32 map
    on the tolerance slider's scale; a model without it answers with its content codes' cosine."""
    similar = getattr(model, "similar_region", None)
    if similar is None:
        return np.asarray(model.content_similarity(image, int(x), int(y)), np.float32)
    return np.asarray(similar(image, int(x), int(y), float(tolerance)), np.float32)

class InferenceWorker(QObject):
    result = Signal(int, object, float)  # id, HxWx3 uint8 image, elapsed ms
    similarity = Signal(int, object, float)  # id, HxW float32 in [0, 1], elapsed ms
    exported = Signal(int, str, float)  # id, written path, elapsed ms
    called = Signal(int, object, float)  # id, return value of a "call" request
    failed = Signal(object)  # requests.Failure (summary line; the traceback in `details`)
    discarded = Signal(int)  # id of a request that was dropped, superseded or cancelled
    progress = Signal(int, int, int)  # id, done, total
    busy = Signal(bool)
    modelLoaded = Signal(object)  # ModelInfo
    modelFailed = Signal(object)  # requests.Failure (kind LOAD); the previous model stays in use
    warmed = Signal(int, int, object)  # id, steps run, list of ms per step (a warm-up finished)

    _wake = Signal(str)
    _wake_queued = Signal(str)  # from the worker thread itself: through the event queue, not a direct call
    _load = Signal(object, str, object, str)  # spec, device, preset, precision
    _install = Signal(object, object)  # model, ModelInfo

    def __init__(self, torch_threads: int | None = None) -> None:
        super().__init__()
        self.model: Any = None
        self.info: ModelInfo | None = None
        self.torch_threads = torch_threads
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[str, Request] = {}
        self._latest: dict[str, int] = {}
        self._cancelled_upto = 0
        self._idle = _IdleTrim(self._lock, self._pending)  # what the idle-trim timer thread may touch (not self)
        self._cache = None
        self._niced = False
        self._trim_timer: threading.Timer | None = None
        self._wake.connect(self._process)
        self._wake_queued.connect(self._process, Qt.ConnectionType.QueuedConnection)
        self._load.connect(self._do_load)
        self._install.connect(self._do_install)

    # thread-safe API (any thread) ----------------------------------------------------------
    def submit(self, job: Job, channel: str | None = None) -> int:
        """Queue a job (a `requests` dataclass) on its channel (default: its kind's name);
        a pending request of that channel is dropped (latest wins)."""
        channel = channel or job.kind.value
        with self._lock:
            rid = next(self._ids)
            old = self._pending.get(channel)
            self._pending[channel] = Request(rid, channel, job)
            self._latest[channel] = rid
        if old is not None:
            self.discarded.emit(old.id)
        self._wake.emit(channel)
        return rid

    def cancel(self, channel: str | None = None) -> None:
        with self._lock:
            if channel is None:
                dropped = list(self._pending.values())
                self._pending.clear()
                self._cancelled_upto = max(self._latest.values(), default=0)
            else:
                dropped = [self._pending.pop(channel)] if channel in self._pending else []
                # mark this channel's latest as superseded
                self._latest[channel] = -1
        for r in dropped:
            self.discarded.emit(r.id)

    def is_latest(self, rid: int, channel: str) -> bool:
        with self._lock:
            return self._latest.get(channel) == rid and rid > self._cancelled_upto

    def load_model(self, spec: str | None = None, device: str = "auto", preset: str | None = None,
                   precision: str = "auto") -> None:
        """Load in the worker thread; emits modelLoaded or modelFailed (the old model stays).
        precision: "auto" | "bf16" | "fp32" (TCPModel.from_pretrained)."""
        self._load.emit(spec, device, preset, precision or "auto")

    def set_model(self, model: Any, info: ModelInfo | None = None) -> None:
        """Install an already built model (tests, fakes)."""
        self._install.emit(model, info)

    # worker thread ----------------------------------------------------------------------
    def _setup_torch(self) -> None:
        if not self._niced:
            self._niced = True
            # Linux: nice is per thread. A slightly lower priority for the compute thread keeps the
            # GUI thread responsive when the CPU is contended (no effect elsewhere).
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 5)
            except (AttributeError, OSError, PermissionError):
                pass
        short_openmp_waits()  # before torch loads OpenMP: no spinning through a busy CPU's waits
        try:
            import torch
        except ImportError:
            return
        n = self.torch_threads or default_torch_threads()
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)

    @Slot(object, object)
    def _do_install(self, model, info) -> None:
        self.model = model
        self._cache = None
        dev = getattr(model, "device_name", "cpu")
        self.info = info or ModelInfo(getattr(model, "source", "custom model"), dev,
                                      getattr(model, "device_description", dev), False, "", *_model_sizes(model),
                                      _model_precision(model))
        self.modelLoaded.emit(self.info)
        self._wake_all()

    @Slot(object, str, object, str)
    def _do_load(self, spec, device, preset, precision="auto") -> None:
        self.busy.emit(True)
        try:
            self._setup_torch()
            from tcp_core.editing.inference import TCPModel

            note = ""
            if preset:
                model = TCPModel.from_config(preset, device=device, seed=0, precision=precision)
                demo = True
            else:
                try:
                    model = TCPModel.from_pretrained(spec, device=device, precision=precision)
                    demo = False
                except FileNotFoundError as e:  # hub.WeightsNotFound
                    if spec not in (None, "", "default"):
                        raise
                    model = TCPModel.from_config(DEMO_PRESET, device=device, seed=0, precision=precision)
                    demo, note = True, str(e)
            info = ModelInfo(model.source, model.device_name, model.device_description, demo, note,
                             *_model_sizes(model), model.precision_name)
        except Exception as e:  # noqa: BLE001 - everything goes to the dialog; old model stays
            self.modelFailed.emit(_failure(0, RequestKind.LOAD, e, f"Could not load the model {spec or 'default'!s}"))
            self.busy.emit(False)
            return
        self.model, self.info, self._cache = model, info, None
        self.modelLoaded.emit(info)
        self.busy.emit(False)
        self._wake_all()

    def _wake_all(self) -> None:
        with self._lock:
            channels = list(self._pending)
        for c in channels:
            self._process(c)

    @Slot(str)
    def _process(self, channel: str) -> None:
        if self.model is None:  # still loading: the request stays pending until a model arrives (_wake_all)
            return  # (not popped and put back: a newer request submitted in between would drop it unannounced)
        with self._lock:
            req = self._pending.pop(channel, None)
        if req is None:
            return
        if not self.is_latest(req.id, channel) and req.kind is not RequestKind.EXPORT:
            self.discarded.emit(req.id)
            return
        if req.kind is RequestKind.WARM:
            self._warm_step(req)
            return
        self._cancel_trim()
        self._running = req.id
        self.busy.emit(True)
        t0 = time.perf_counter()
        try:
            self._setup_torch()
            out = self._run(req)
        except Exception as e:  # noqa: BLE001
            self._running = 0
            what = getattr(req.job, "what", "") or _WHAT.get(req.kind, "The edit failed")
            self.failed.emit(_failure(req.id, req.kind, e, what))
            self._end_busy()
            return
        ms = (time.perf_counter() - t0) * 1000.0
        self._running = 0
        if req.kind is not RequestKind.EXPORT and not self.is_latest(req.id, channel):
            self.discarded.emit(req.id)  # superseded while running: latest wins
        elif req.kind is RequestKind.RENDER:
            self.result.emit(req.id, out, ms)
        elif req.kind is RequestKind.SIMILARITY:
            self.similarity.emit(req.id, out, ms)
        elif req.kind is RequestKind.EXPORT:
            self.exported.emit(req.id, out, ms)
        else:
            self.called.emit(req.id, out, ms)
        self._end_busy()

    def _warm_step(self, req: Request) -> None:
        """One step of a warm-up (`render.warm_steps`), then the rest is queued behind whatever
        the user asked for meanwhile: a preview waits for at most one step. Silent: no busy
        indicator, no result; a failing step only ends the warm-up."""
        p: WarmJob = req.job
        self._cancel_trim()
        try:
            self._setup_torch()
            if p.steps is None:
                from .render import warm_steps

                p.steps = warm_steps(self.model, p.image, p.styles, p.mask, p.strength, export=p.export)
                p.done = 0
            steps = p.steps
            if steps:
                t0 = time.perf_counter()
                steps.pop(0)()
                p.done += 1
                p.ms.append((time.perf_counter() - t0) * 1000.0)
        except Exception:  # noqa: BLE001 - warming is an optimisation; the preview reports real errors
            p.steps = []
        if p.steps:
            with self._lock:
                if self._latest.get(req.channel) != req.id or req.channel in self._pending:
                    return  # superseded or cancelled
                self._pending[req.channel] = req
            self._wake_queued.emit(req.channel)  # behind anything submitted meanwhile
        else:
            self.warmed.emit(req.id, p.done, p.ms)
            self._end_busy_quiet()

    def _end_busy_quiet(self) -> None:
        with self._lock:
            more = bool(self._pending)
        if not more:
            self._schedule_trim()

    def _end_busy(self) -> None:
        with self._lock:
            more = bool(self._pending)
        if not more:
            self.busy.emit(False)
            # Idle for a while (the user paused): hand the C heap's freed pages back to the OS, so
            # a long session's resident memory stays flat (BENCHMARKS.md, soak). Not after every
            # request: the next edit would page-fault its buffers back in (~60 ms on 2 cores).
            self._schedule_trim()

    def _schedule_trim(self) -> None:
        """The idle trim, IDLE_TRIM_DELAY_MS from now unless a request comes first. (A plain timer thread: a
        QTimer of the worker thread would outlive the thread at shutdown; malloc_trim is thread-safe.)"""
        self._cancel_trim()
        t = threading.Timer(IDLE_TRIM_DELAY_MS / 1000.0, self._idle)
        t.daemon = True
        self._trim_timer = t
        t.start()

    def _cancel_trim(self) -> None:
        t, self._trim_timer = self._trim_timer, None
        if t is not None:
            t.cancel()

    @property
    def _running(self) -> int:
        """Id of the request being computed, 0 when none (kept where the idle-trim timer can read it)."""
        return self._idle.running

    @_running.setter
    def _running(self, rid: int) -> None:
        self._idle.running = rid

    @property
    def trims(self) -> int:
        """How many times the idle worker gave freed memory back to the OS."""
        return self._idle.count

    def _run(self, req: Request):
        p = req.job
        if isinstance(p, RenderJob):
            from .render import FrameCache, render

            if self._cache is None:
                self._cache = FrameCache()
            n = len(p.regions)
            self.progress.emit(req.id, 0, max(1, n))
            out = render(self.model, p.image, p.regions, p.global_, p.interp_image, p.interp_what, p.interp_amount,
                         self._cache, crop=p.crop, keyframe_step=p.keyframe_step, export=p.export)
            self.progress.emit(req.id, max(1, n), max(1, n))
            return out
        if isinstance(p, SimilarityJob):
            return select_similar(self.model, p.image, p.x, p.y, p.tolerance)
        if isinstance(p, ExportJob):
            return self._export(req)
        if isinstance(p, CallJob):
            return p.fn(self.model)
        raise ValueError(f"unknown request kind {req.kind!r}")

    def _export(self, req: Request) -> str:
        from .images import save_photo
        from .render import FrameCache, render

        p: ExportJob = req.job
        photo = p.photo
        h, w = photo.shape[:2]
        regions = []
        for i, (style, mask, strength, *rest) in enumerate(p.regions):
            from tcp_editor.mask_ops import resize_mask

            style_mask, priming = (list(rest) + [None, None])[:2]
            regions.append(RegionEdit(style, resize_mask(mask, (h, w)), strength, style_mask, _fraction(priming)))
            self.progress.emit(req.id, i, len(p.regions) + 1)
        out = render(self.model, photo, regions, p.global_, p.interp_image, p.interp_what, p.interp_amount,
                     FrameCache(1), export=p.export)
        path = save_photo(p.path, out, alpha=p.alpha, exif=p.exif, icc=p.icc, quality=int(p.quality),
                          protect=p.protect)
        self.progress.emit(req.id, 1, 1)
        return path


def _model_sizes(model) -> tuple[int, int]:
    """(resolution, size multiple) of a TCPModel; (0, 0) for other model objects (fakes)."""
    try:
        from tcp_core.editing.inference import size_multiple

        return int(model.config.resolution), int(size_multiple(model.config))
    except Exception:  # noqa: BLE001
        return 0, 0


def _model_precision(model) -> str:
    """'bf16' / 'fp32' of a TCPModel; "" for other model objects (fakes, broken ones)."""
    try:
        return str(model.precision_name or "")
    except Exception:  # noqa: BLE001
        return ""


_WHAT = {RequestKind.RENDER: "The preview edit failed", RequestKind.SIMILARITY: "Select similar failed",
         RequestKind.EXPORT: "Export failed"}


def _failure(rid: int, kind: RequestKind, e: BaseException, what: str) -> Failure:
    tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    return Failure(rid, kind, f"{what}: {e}", tb)


class GuiSignals(QObject):
    """The worker's public signals, emitted again on the thread that owns this object (the GUI thread).

    PySide6 runs a plain callable (a lambda, a function, a method of an object that is not a QObject)
    connected straight to a worker signal on the worker's thread, at the moment of the emit. Qt calls
    from there are unsafe: pytest-qt's `waitSignal` stops its timeout QTimer in its callback, and a
    QTimer stopped from another thread stays registered with the GUI thread's event loop after it is
    deleted, which crashes the process when it fires (docs/RELIABILITY.md). Connected here, every
    receiver runs on the GUI thread, in the order the worker emitted, as a QObject slot connected to the
    worker would (queued from the worker thread; at once for what the thread-safe API emits on this one)."""

    result = Signal(int, object, float)
    similarity = Signal(int, object, float)
    exported = Signal(int, str, float)
    called = Signal(int, object, float)
    failed = Signal(object)
    discarded = Signal(int)
    progress = Signal(int, int, int)
    busy = Signal(bool)
    modelLoaded = Signal(object)
    modelFailed = Signal(object)
    warmed = Signal(int, int, object)

    NAMES: tuple[str, ...] = ()  # the signals above, by name (set below the class)

    def __init__(self, worker: InferenceWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        for name in self.NAMES:  # signal to signal, automatic: queued from the worker thread, direct from this one
            getattr(worker, name).connect(getattr(self, name))


GuiSignals.NAMES = tuple(name for name, v in vars(GuiSignals).items() if isinstance(v, Signal))


class InferenceService(QObject):
    """Owns the worker thread. GUI code calls these methods and listens to `service.signals` (the
    worker's signals on the GUI thread: any callable may be connected there). Connect to
    `service.worker`'s own signals only with slots of QObjects that live on the GUI thread."""

    def __init__(self, parent: QObject | None = None, torch_threads: int | None = None) -> None:
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("tcp-inference")
        self.worker = InferenceWorker(torch_threads)
        self.signals = GuiSignals(self.worker, self)
        self.worker.moveToThread(self.thread)
        self.thread.start()

    def submit_render(self, state, crop: bool = True, keyframe_step: float | None = None) -> int:
        """state: a document.RenderState (its `export` config goes to the job as it is; each region's own priming,
        a percent, to its RegionEdit as a fraction); crop=False for the fast interactive preview;
        keyframe_step for approximate strengths during a slider drag (render())."""
        return self.worker.submit(RenderJob(
            crop=crop,
            keyframe_step=keyframe_step,
            image=state.image,
            regions=[RegionEdit(r.style, r.mask, r.strength, r.style_mask, _fraction(r.priming))
                     for r in state.regions],
            global_=state.global_transfer,
            interp_image=state.interp_image,
            interp_what=state.interp_what,
            interp_amount=state.interp_amount,
            export=state.export,
        ), "preview")

    def submit_similarity(self, image: np.ndarray, x: int, y: int, tolerance: float = 0.3) -> int:
        """Select similar at (x, y) (`TCPModel.similar_region`, seeded at `tolerance` 0..1): answered by
        `worker.similarity` with an HxW float32 map on the tolerance slider's scale. Channel "similarity"."""
        return self.worker.submit(SimilarityJob(image, x, y, float(tolerance)), "similarity")

    def submit_style_select(self, style: np.ndarray, x: int, y: int, tolerance: float = 0.3) -> int:
        """Select similar on a style photo at (x, y) (the Style part dialog's Select): answered by `worker.called`
        with an HxW float32 map of the style photo's size on the tolerance slider's scale, or `worker.failed`.
        Channel "match" (the dialog asks one thing at a time: the latest wins)."""

        return self.worker.submit(CallJob(lambda model: select_similar(model, style, x, y, tolerance),
                                          "Select similar failed"), "match")

    def submit_match_part(self, image: np.ndarray, mask: np.ndarray, style: np.ndarray) -> int:
        """The part of `style` that looks like the region `mask` of `image` (Match region in the
        Style part dialog; TCPModel.match_style_part): answered by `worker.called` with an HxW
        float32 mask of the style photo's size, or `worker.failed`. Channel "match": latest wins."""
        mask = np.array(mask, np.float32, copy=True)  # strokes edit region masks in place

        def match(model) -> np.ndarray:
            return np.asarray(model.match_style_part(image, mask, style), np.float32)

        return self.worker.submit(CallJob(match, "Match region failed"), "match")

    def submit_warm(self, image: np.ndarray, styles=(), mask: np.ndarray | None = None, strength: float = 1.0,
                    export: ExportConfig | None = None) -> int:
        """Warm the model's caches for the first preview of `image` (render.warm_steps) rendered with `export` (the
        preview's `ExportConfig`; None: the library's defaults); a newer warm-up replaces this one. Low priority: a
        preview waits for at most one step of it."""
        return self.worker.submit(WarmJob(image, list(styles), mask, float(strength),
                                          export=ExportConfig() if export is None else export), "warm")

    def submit_export(self, job: ExportJob) -> int:
        return self.worker.submit(job, "export")

    def cancel(self, channel: str | None = None) -> None:
        self.worker.cancel(channel)

    def load_model(self, spec=None, device: str = "auto", preset: str | None = None,
                   precision: str = "auto") -> None:
        self.worker.load_model(spec, device, preset, precision)

    def set_model(self, model, info: ModelInfo | None = None) -> None:
        self.worker.set_model(model, info)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        self.worker._cancel_trim()
        if self.thread.isRunning():
            self.worker.cancel()
            self.thread.quit()
            if not self.thread.wait(timeout_ms):
                # still inside a long computation: never destroy a running QThread (Qt aborts);
                # keep it alive until the process exits
                _UNFINISHED.append((self.thread, self.worker))
