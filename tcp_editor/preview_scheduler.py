"""When to ask the inference worker for a preview, and which answers to show.

A document change starts a 30 ms timer (a throttle, not a restarting debounce: a slider drag
sending a change every 16 ms still gets previews); when it fires, the current `RenderState` goes
to the service. At most one preview request is in flight: changes that arrive meanwhile mark the
preview dirty and the newest state is sent as soon as the running edit finishes (the worker also
drops superseded requests itself: latest wins).

* Stroke-pending: with a slow model (an edit over 150 ms) no preview starts in the middle of a
  brush stroke (it would only delay the one after the release); the stroke's end sends it.
* Approximate previews: while the strength slider is held, previews interpolate between exact
  strength key frames (`keyframe_step`); the release brings the exact preview.
* Progressive previews: interactive previews run on the whole photo (`crop=False`); after 400 ms
  without changes, when a region is small, the preview is recomputed the export's way (`crop=True`).
* Photo generation: a result computed for a previous photo is never shown.

Everything it needs comes in explicitly (no window, no Qt widgets): the document state
(`PreviewSource`), the service (`PreviewService`), two questions about the user's input
(`is_stroking`, `is_dragging`), a timer factory (tests pass a fake clock) and two callbacks.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import numpy as np

DEBOUNCE_MS = 30
LIVE_STROKE_PREVIEW_MS = 150  # previews during a brush stroke only when an edit is this fast
REFINE_DELAY_MS = 400  # idle time before the fast preview is refined
DRAG_KEYFRAME_STEP = 0.25  # strength-slider drags: exact key frames every 0.25, interpolated between
REFINE_MAX_AREA = 0.5  # refine when a region's bounding box covers less than this of the photo


class Timer(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...

    def is_active(self) -> bool: ...


TimerFactory = Callable[[int, Callable[[], None]], Timer]  # (interval ms, callback) -> single-shot timer


class PreviewService(Protocol):
    def submit_render(self, state: Any, crop: bool = True, keyframe_step: float | None = None) -> int: ...

    def cancel(self, channel: str | None = None) -> None: ...


class PreviewSource(Protocol):
    """What the scheduler reads from the document (`document.Document` provides it)."""

    preview: np.ndarray | None
    preview_shape: tuple[int, int]
    regions: list
    global_transfer: bool

    def render_state(self) -> Any: ...  # a RenderState (with `is_identity`) or None


class _QtTimer:
    def __init__(self, timer) -> None:
        self._t = timer

    def start(self) -> None:
        self._t.start()

    def stop(self) -> None:
        self._t.stop()

    def is_active(self) -> bool:
        return self._t.isActive()


def qt_timer_factory(parent) -> TimerFactory:
    """Single-shot QTimers owned by `parent`."""
    from PySide6.QtCore import QTimer

    def make(interval_ms: int, callback: Callable[[], None]) -> Timer:
        t = QTimer(parent)
        t.setSingleShot(True)
        t.setInterval(interval_ms)
        t.timeout.connect(callback)
        return _QtTimer(t)

    return make


def needs_refine(source: PreviewSource) -> bool:
    """Would the region-crop pipeline (the export's) look different from the fast preview?
    True when a visible, styled region's bounding box covers under REFINE_MAX_AREA of the photo."""
    if source.global_transfer or source.preview is None:
        return False
    h, w = source.preview_shape
    for r in source.regions:
        if not (r.visible and r.style is not None):
            continue
        rows, cols = np.flatnonzero(r.mask.any(axis=1)), np.flatnonzero(r.mask.any(axis=0))
        if rows.size and (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1) < REFINE_MAX_AREA * h * w:
            return True
    return False


class PreviewScheduler:
    def __init__(self, source: PreviewSource, service: PreviewService, timers: TimerFactory,
                 is_stroking: Callable[[], bool] = lambda: False, is_dragging: Callable[[], bool] = lambda: False,
                 on_shown: Callable[[int, np.ndarray, float], None] = lambda rid, image, ms: None,
                 on_cleared: Callable[[], None] = lambda: None) -> None:
        self.source = source
        self.service = service
        self.is_stroking = is_stroking  # a brush stroke is in progress
        self.is_dragging = is_dragging  # the strength slider is held
        self.on_shown = on_shown  # a preview to show: (request id, HxWx3 image, edit ms)
        self.on_cleared = on_cleared  # nothing to show (the state is the photo itself)
        self.progressive = True  # fast whole-image preview first, region crops when idle
        self.in_flight: int | None = None
        self.dirty = False  # changes arrived while a request was in flight
        self.stroke_pending = False
        self.photo_gen = 0
        self.last_result: np.ndarray | None = None
        self.last_edit_ms: float | None = None
        self.approx_shown = False  # the last shown preview is a key-frame (slider drag) approximation
        self._in_flight_gen = 0
        self._in_flight_refine = False
        self._in_flight_approx = False
        self._debounce = timers(DEBOUNCE_MS, self._fire)
        self._refine_timer = timers(REFINE_DELAY_MS, self._fire_refine)

    # inputs ---------------------------------------------------------------------------------------
    def schedule(self) -> None:
        """The document changed."""
        # Throttle, not a restarting debounce: a continuous drag (a change every 16 ms) would keep
        # restarting a 30 ms debounce and no preview would be computed until the drag stops.
        self._refine_timer.stop()
        if not self._debounce.is_active():
            self._debounce.start()

    def request_now(self) -> None:
        self._debounce.stop()
        self._refine_timer.stop()
        self._fire()

    def stroke_finished(self) -> None:
        if self.stroke_pending:
            self.stroke_pending = False
            self.request_now()

    def strength_released(self) -> None:
        # (a key-frame request still running is followed by the exact one in on_result)
        if self.approx_shown and self.in_flight is None:
            self.schedule()

    def photo_changed(self) -> None:
        """A new photo: nothing in flight is shown any more; the caller clears the canvas."""
        self.photo_gen += 1
        self.service.cancel("preview")
        self.in_flight = None
        self.dirty = False
        self.last_result = None

    # worker answers (the window forwards the worker's signals) ----------------------------------------
    def on_result(self, rid: int, image, ms: float) -> None:
        gen = self._in_flight_gen
        if rid != self.in_flight:
            return
        self.in_flight = None
        refined, approx = self._in_flight_refine, self._in_flight_approx
        self._in_flight_approx = False
        # Pipelining: hand the worker the next pending state first, so it computes while the GUI
        # thread converts and paints this result (a slider drag keeps the worker busy).
        if self.dirty:
            self.dirty = False
            self._fire()
        elif approx and not self.is_dragging():
            self._fire()  # the drag ended while this ran: the exact preview now
        elif not refined and self._needs_refine():
            self._refine_timer.start()
        if gen == self.photo_gen and image is not None and image.shape[:2] == self.source.preview_shape:
            self.approx_shown = approx
            self.last_result = image
            self.last_edit_ms = ms
            self.on_shown(rid, image, ms)

    def on_discarded(self, rid: int) -> None:
        self._done(rid)

    def on_failed(self, rid: int) -> bool:
        """A failed request: True if it was this scheduler's (then the next pending state goes out)."""
        return self._done(rid)

    # internals --------------------------------------------------------------------------------------
    def _done(self, rid: int) -> bool:
        if rid != self.in_flight:
            return False
        self.in_flight = None
        if self.dirty:
            self.dirty = False
            self._fire()
        return True

    def _needs_refine(self) -> bool:
        return self.progressive and needs_refine(self.source)

    def _fire_refine(self) -> None:
        if self.in_flight is None and not self.dirty and self._needs_refine():
            self._fire(refine=True)

    def _fire(self, refine: bool = False) -> None:
        slow = self.last_edit_ms is None or self.last_edit_ms > LIVE_STROKE_PREVIEW_MS
        if not refine and slow and self.is_stroking():
            # slow model: an edit started mid-stroke would only delay the one after the release
            self.stroke_pending = True
            return
        state = self.source.render_state()
        if state is None:
            return
        if state.is_identity:
            self.service.cancel("preview")
            self.in_flight = None
            self.dirty = False
            self.last_result = None
            self.on_cleared()
            return
        if self.in_flight is not None:
            self.dirty = True
            return
        self.dirty = False
        self._in_flight_gen = self.photo_gen
        self._in_flight_refine = refine
        # While the strength slider is held, previews interpolate between exact strength key
        # frames (one G pass per step); the release brings the exact preview.
        approx = not refine and self.is_dragging()
        self._in_flight_approx = approx
        self.in_flight = self.service.submit_render(state, crop=refine or not self.progressive,
                                                    keyframe_step=DRAG_KEYFRAME_STEP if approx else None)
