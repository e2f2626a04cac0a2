"""PreviewScheduler with a fake service, a fake document and a fake clock: no Qt, no model, fast."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tcp_editor.preview_scheduler import (
    DEBOUNCE_MS,
    DRAG_KEYFRAME_STEP,
    LIVE_STROKE_PREVIEW_MS,
    REFINE_DELAY_MS,
    PreviewScheduler,
)

SHAPE = (40, 60)


class FakeClock:
    """Single-shot timers that fire when `advance` passes their deadline."""

    def __init__(self) -> None:
        self.now = 0
        self.timers: list[FakeTimer] = []

    def factory(self, interval_ms, callback):
        t = FakeTimer(self, interval_ms, callback)
        self.timers.append(t)
        return t

    def advance(self, ms: int) -> None:
        end = self.now + ms
        while True:
            due = [t for t in self.timers if t.deadline is not None and t.deadline <= end]
            if not due:
                break
            t = min(due, key=lambda t: t.deadline)
            self.now = t.deadline
            t.deadline = None
            t.callback()
        self.now = end


class FakeTimer:
    def __init__(self, clock, interval, callback) -> None:
        self.clock, self.interval, self.callback, self.deadline = clock, interval, callback, None

    def start(self) -> None:
        self.deadline = self.clock.now + self.interval

    def stop(self) -> None:
        self.deadline = None

    def is_active(self) -> bool:
        return self.deadline is not None


@dataclass
class State:
    version: int
    is_identity: bool = False


@dataclass
class Region:
    mask: np.ndarray
    style: object = "style"
    visible: bool = True


@dataclass
class FakeDoc:
    regions: list = field(default_factory=list)
    global_transfer: bool = False
    identity: bool = False
    version: int = 0
    preview: np.ndarray = field(default_factory=lambda: np.zeros(SHAPE + (3,), np.uint8))
    preview_shape: tuple = SHAPE

    def render_state(self):
        return State(self.version, self.identity)


class FakeService:
    def __init__(self) -> None:
        self.submitted: list[tuple[int, State, bool, float | None]] = []
        self.cancelled: list[str | None] = []
        self._next = 0

    def submit_render(self, state, crop=True, keyframe_step=None) -> int:
        self._next += 1
        self.submitted.append((self._next, state, crop, keyframe_step))
        return self._next

    def cancel(self, channel=None) -> None:
        self.cancelled.append(channel)


class Harness:
    def __init__(self, big_region: bool = True) -> None:
        mask = np.zeros(SHAPE, np.float32)
        if big_region:
            mask[:] = 1
        else:
            mask[5:10, 5:10] = 1
        self.doc = FakeDoc([Region(mask)])
        self.service = FakeService()
        self.clock = FakeClock()
        self.stroking = False
        self.dragging = False
        self.shown: list[tuple[int, float]] = []
        self.cleared = 0
        self.s = PreviewScheduler(self.doc, self.service, self.clock.factory,
                                  is_stroking=lambda: self.stroking, is_dragging=lambda: self.dragging,
                                  on_shown=lambda rid, img, ms: self.shown.append((rid, ms)),
                                  on_cleared=self._clear)

    def _clear(self) -> None:
        self.cleared += 1

    def change(self) -> None:
        self.doc.version += 1
        self.s.schedule()

    def finish(self, ms: float = 50.0, shape=SHAPE) -> int:
        rid = self.s.in_flight
        assert rid is not None
        self.s.on_result(rid, np.zeros(shape + (3,), np.uint8), ms)
        return rid


def test_a_change_is_sent_after_the_throttle_delay():
    h = Harness()
    h.change()
    h.clock.advance(DEBOUNCE_MS - 1)
    assert h.service.submitted == []
    h.clock.advance(1)
    (rid, state, crop, step), = h.service.submitted
    assert state.version == 1 and crop is False and step is None  # progressive: whole photo first
    assert h.s.in_flight == rid


def test_throttle_is_not_restarted_by_a_continuous_drag():
    h = Harness()
    for _ in range(6):  # a change every 16 ms for ~100 ms
        h.change()
        h.clock.advance(16)
    assert len(h.service.submitted) == 1  # the first fired while the drag went on; the rest wait for it
    assert h.s.dirty


def test_one_request_in_flight_and_the_newest_state_follows_the_result():
    h = Harness()
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    for _ in range(3):
        h.change()
        h.clock.advance(DEBOUNCE_MS)
    assert len(h.service.submitted) == 1 and h.s.dirty
    first = h.finish()
    assert h.shown == [(first, 50.0)]
    assert len(h.service.submitted) == 2 and h.service.submitted[-1][1].version == 4  # latest wins
    assert not h.s.dirty


def test_stale_results_are_ignored():
    h = Harness()
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    rid = h.s.in_flight
    h.s.on_result(rid + 100, np.zeros(SHAPE + (3,), np.uint8), 10.0)  # not ours (another window)
    assert h.shown == [] and h.s.in_flight == rid


def test_a_result_for_the_previous_photo_is_not_shown():
    h = Harness()
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    rid = h.s.in_flight
    h.s.photo_changed()
    assert h.service.cancelled == ["preview"] and h.s.in_flight is None and h.s.photo_gen == 1
    h.s.on_result(rid, np.zeros(SHAPE + (3,), np.uint8), 10.0)
    assert h.shown == []
    # and a result of the wrong size (a preview of another photo size) neither
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    h.finish(shape=(10, 10))
    assert h.shown == [] and h.s.last_result is None


def test_identity_state_clears_and_cancels():
    h = Harness()
    h.doc.identity = True
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    assert h.service.submitted == [] and h.service.cancelled == ["preview"] and h.cleared == 1


def test_slow_model_waits_for_the_end_of_the_stroke():
    h = Harness()
    h.stroking = True
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    assert h.service.submitted == [] and h.s.stroke_pending  # no edit time known yet: assume slow
    h.stroking = False
    h.s.stroke_finished()
    assert len(h.service.submitted) == 1 and not h.s.stroke_pending


def test_fast_model_previews_during_the_stroke():
    h = Harness()
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    h.finish(ms=LIVE_STROKE_PREVIEW_MS - 1)
    h.stroking = True
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    assert len(h.service.submitted) == 2 and not h.s.stroke_pending


def test_slider_drag_sends_key_frame_previews_then_the_exact_one():
    h = Harness()
    h.dragging = True
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    assert h.service.submitted[-1][3] == DRAG_KEYFRAME_STEP
    h.dragging = False  # released while the approximation runs
    h.finish()
    assert h.s.approx_shown
    assert len(h.service.submitted) == 2 and h.service.submitted[-1][3] is None  # the exact preview
    h.finish()
    assert not h.s.approx_shown


def test_release_after_an_approximate_preview_schedules_the_exact_one():
    h = Harness()
    h.dragging = True
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    h.finish()  # still dragging: nothing more
    assert len(h.service.submitted) == 1 and h.s.approx_shown
    h.dragging = False
    h.s.strength_released()
    h.clock.advance(DEBOUNCE_MS)
    assert len(h.service.submitted) == 2 and h.service.submitted[-1][3] is None


def test_small_regions_are_refined_when_idle():
    h = Harness(big_region=False)
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    h.finish()
    h.clock.advance(REFINE_DELAY_MS - 1)
    assert len(h.service.submitted) == 1
    h.clock.advance(1)
    assert len(h.service.submitted) == 2 and h.service.submitted[-1][2] is True  # crop: the export's way
    h.finish()
    h.clock.advance(10 * REFINE_DELAY_MS)
    assert len(h.service.submitted) == 2  # a refined preview is not refined again


def test_a_change_cancels_the_pending_refinement():
    h = Harness(big_region=False)
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    h.finish()
    h.clock.advance(REFINE_DELAY_MS // 2)
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    assert [s[2] for s in h.service.submitted] == [False, False]


def test_big_regions_and_non_progressive_mode_are_not_refined():
    h = Harness(big_region=True)
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    h.finish()
    h.clock.advance(10 * REFINE_DELAY_MS)
    assert len(h.service.submitted) == 1
    h = Harness(big_region=False)
    h.s.progressive = False
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    assert h.service.submitted[-1][2] is True  # every request crops
    h.finish()
    h.clock.advance(10 * REFINE_DELAY_MS)
    assert len(h.service.submitted) == 1


def test_discarded_or_failed_requests_free_the_slot_and_send_the_pending_state():
    h = Harness()
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    h.change()
    h.clock.advance(DEBOUNCE_MS)
    h.s.on_discarded(h.s.in_flight)
    assert len(h.service.submitted) == 2 and h.service.submitted[-1][1].version == 2
    assert h.s.on_failed(h.s.in_flight) is True
    assert h.s.in_flight is None and not h.s.on_failed(12345)
