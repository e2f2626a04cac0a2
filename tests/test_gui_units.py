"""Fast unit tests for the GUI's pieces: worker (latest wins), document + undo, mask ops, boundaries."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("pytestqt")


from PySide6.QtWidgets import QApplication  # noqa: E402

from tcp_core.editing.regions import RegionEdit  # noqa: E402
from tcp_editor import mask_ops  # noqa: E402
from tcp_editor.document import Document, StyleRef  # noqa: E402
from tcp_editor.services.images import ExportConfig  # noqa: E402
from tcp_editor.services.inference import InferenceService  # noqa: E402
from tcp_editor.services.requests import CallJob, RenderJob, RequestKind  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
WAIT_MS = 20000


class SlowFake:
    """A stand-in model: region edits take `delay` seconds and tag the result with the strength."""

    device_name = "cpu"
    device_description = "CPU (fake)"
    source = "fake"

    class config:  # noqa: N801 - mimics ModelConfig
        resolution = 32
        enc_channels = (8, 16)

    def __init__(self, delay=0.05):
        self.delay = delay
        self.calls = []

    def region_edit(self, content, style, mask, strength=1.0):
        self.calls.append(strength)
        time.sleep(self.delay)
        return np.full_like(content, int(strength * 255))

    def swap(self, content, style, strength=1.0):  # (the export's swap_interior pair: instant, not recorded)
        return np.full_like(content, int(strength * 255))

    def own_style_edit(self, content, mask):  # the export's strength-0 reference (instant, not recorded)
        return content


class InteriorFake(SlowFake):
    """A model whose region edit brightens (+40) and whose global swap darkens (-80 at strength 1): the
    Region interior setting shows as the sign of the change inside a region."""

    def __init__(self):
        super().__init__(delay=0)

    def region_edit(self, content, style, mask, strength=1.0):
        return np.clip(content.astype(int) + round(40 * strength), 0, 255).astype(np.uint8)

    def swap(self, content, style, strength=1.0):
        return np.clip(content.astype(int) - round(80 * strength), 0, 255).astype(np.uint8)


def _interior_scene():
    """A two-tone photo (64x96) with one rectangular region: (photo, [RegionEdit])."""
    img = np.full((64, 96, 3), 128, np.uint8)
    img[:, 48:] = 150
    mask = np.zeros((64, 96), np.float32)
    mask[8:56, 12:84] = 1
    return img, [RegionEdit(np.zeros((16, 16, 3), np.uint8), mask, 1.0)]


@pytest.fixture
def service(qtbot):
    svc = InferenceService(torch_threads=1)
    yield svc
    svc.shutdown()


def export_of(**settings) -> ExportConfig:
    """`Document.export_config()` of a new document with `settings` set through its setters (`set_<name>(value)`,
    in the editor's units: colour priming in percent, the detail gain cap 0.0 for none)."""
    d = Document()
    for name, value in settings.items():
        getattr(d, f"set_{name}")(value)
    return d.export_config()


def spy_apply_regions(monkeypatch) -> list[ExportConfig]:
    """The `ExportConfig` of every `apply_regions` call from now on (render.py imports apply_regions lazily, from
    tcp_core.editing.apply, so the patched one is the one it calls)."""
    import tcp_core.editing.apply as core_apply

    seen = []
    orig = core_apply.apply_regions

    def spy(model, photo, regions, config=None, **kw):
        assert isinstance(config, ExportConfig), config  # the editor always hands its settings on as one config
        seen.append(config)
        return orig(model, photo, regions, config, **kw)

    monkeypatch.setattr(core_apply, "apply_regions", spy)
    return seen


def warm_export(args: tuple, kwargs: dict) -> ExportConfig | None:
    """The `export` of a `submit_warm(*args, **kwargs)` call, whether it was passed by position or by name."""
    import inspect

    bound = inspect.signature(InferenceService.submit_warm).bind(None, *args, **kwargs)
    bound.apply_defaults()
    return bound.arguments["export"]


def _render_payload(strength, size=(48, 64)):
    img = np.full(size + (3,), 100, np.uint8)
    mask = np.zeros(size, np.float32)
    mask[10:30, 10:40] = 1
    return RenderJob(img, [RegionEdit(np.zeros((16, 16, 3), np.uint8), mask, strength)])


def test_worker_latest_wins_with_real_tiny_model(qtbot, service):
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=WAIT_MS) as b:
        service.load_model(preset="tiny", device="cpu")
    assert b.args[0].demo and b.args[0].device == "cpu"
    results, discarded = [], []
    service.signals.result.connect(lambda rid, img, ms: results.append((rid, img)))
    service.signals.discarded.connect(discarded.append)
    ids = [service.worker.submit(_render_payload(s), "preview") for s in (0.2, 0.4, 0.6, 0.8, 1.0)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    qtbot.waitUntil(lambda: len(results) + len(discarded) == 5, timeout=WAIT_MS)
    assert [r[0] for r in results] == [ids[-1]], "only the last request's result is delivered"
    assert sorted(discarded) == ids[:-1]
    img = results[0][1]
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    # pixels outside the mask are untouched by the region edit
    assert np.array_equal(img[40:, 50:], np.full((8, 14, 3), 100, np.uint8))


def test_worker_drops_superseded_running_request(qtbot, service):
    fake = SlowFake(delay=0.3)
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(fake)
    results, discarded, busy = [], [], []
    service.signals.result.connect(lambda rid, img, ms: results.append((rid, int(img[0, 0, 0]))))
    service.signals.discarded.connect(discarded.append)
    service.signals.busy.connect(busy.append)
    first = service.worker.submit(_render_payload(0.2), "preview")
    qtbot.waitUntil(lambda: bool(fake.calls), timeout=5000)  # the first is running now
    later = [service.worker.submit(_render_payload(s), "preview") for s in (0.4, 0.6, 1.0)]
    # (busy(False) comes after the result: wait for it too, the signals arrive in the worker's order)
    qtbot.waitUntil(lambda: len(results) == 1 and len(discarded) == 3 and busy[-1] is False, timeout=WAIT_MS)
    assert results[0][0] == later[-1]
    assert set(discarded) == {first, *later[:2]}
    assert fake.calls == [0.2, 1.0], "dropped requests never ran"
    assert busy[0] is True and busy[-1] is False
    # cancel: the running request's result is discarded
    rid = service.worker.submit(_render_payload(0.5), "preview")
    qtbot.waitUntil(lambda: len(fake.calls) == 3, timeout=5000)
    service.cancel()
    qtbot.waitUntil(lambda: rid in discarded, timeout=WAIT_MS)
    assert len(results) == 1


def test_worker_gives_memory_back_once_idle_not_between_requests(qtbot, service, monkeypatch):
    """The worker calls malloc_trim (release_free_memory) only after its queue stayed empty for
    IDLE_TRIM_DELAY_MS: never between back-to-back requests (the next edit would page-fault)."""
    import tcp_editor.services.inference as inf

    trims: list[float] = []
    monkeypatch.setattr(inf, "release_free_memory", lambda: trims.append(time.monotonic()) or True)
    monkeypatch.setattr(inf, "IDLE_TRIM_DELAY_MS", 400)
    fake = SlowFake(delay=0.05)
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(fake)
    done: list[float] = []

    def next_request(rid, img, ms):
        done.append(time.monotonic())
        if len(done) < 4:  # chain: each result immediately asks for the next edit
            service.worker.submit(_render_payload(0.1 * len(done)), "preview")

    service.signals.result.connect(next_request)
    service.worker.submit(_render_payload(0.9), "preview")
    qtbot.waitUntil(lambda: len(done) == 4, timeout=WAIT_MS)
    assert trims == [], "no trim while requests keep coming"
    qtbot.waitUntil(lambda: len(trims) == 1, timeout=5000)
    assert trims[0] - done[-1] >= 0.35
    assert service.worker.trims == 1
    qtbot.wait(600)
    assert len(trims) == 1, "one trim per idle period"


def test_the_idle_trim_timer_thread_holds_no_qt_object(qtbot, service):
    """The idle trim runs on a timer thread; it holds a plain object, not the worker (a QObject), so it can never
    be the one to drop the worker's last reference and destroy it on the wrong thread."""
    from PySide6.QtCore import QObject

    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(SlowFake(0))
    with qtbot.waitSignal(service.signals.result, timeout=WAIT_MS):
        service.worker.submit(_render_payload(0.5), "preview")
    qtbot.waitUntil(lambda: service.worker._trim_timer is not None, timeout=5000)
    fn = service.worker._trim_timer.function
    assert not isinstance(fn, QObject) and not isinstance(getattr(fn, "__self__", None), QObject), fn


def test_release_free_memory_runs_on_glibc():
    import platform

    from tcp_core.base.memory import release_free_memory

    ran = release_free_memory()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert ran is True
    else:
        assert ran in (True, False)


def test_worker_failure_and_model_fallback(qtbot, service, tmp_path, monkeypatch):
    # a request made before any model is loaded waits for the model instead of failing
    results = []
    service.signals.result.connect(lambda rid, img, ms: results.append(rid))
    rid = service.worker.submit(_render_payload(0.5), "preview")
    qtbot.wait(100)
    assert results == []
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(SlowFake(0))
    qtbot.waitUntil(lambda: results == [rid], timeout=5000)
    # a model that raises: failed(id, message with the traceback)
    failures = []
    service.signals.failed.connect(lambda f: failures.append((f.id, f.message)))

    class Raising(SlowFake):
        def region_edit(self, *a, **k):
            raise MemoryError("simulated")

    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(Raising(0))
    rid = service.worker.submit(_render_payload(0.5), "preview")
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert failures[0][0] == rid and "MemoryError: simulated" in failures[0][1].split("\n\n", 1)[1]
    # no bundled weights -> an untrained demo model, clearly labelled
    monkeypatch.setenv("TCP_EDITOR_WEIGHTS_DIR", str(tmp_path))
    import tcp_core.io.hub as hub

    monkeypatch.setattr(hub, "weights_dirs", lambda: [tmp_path])
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=60000) as b:
        service.load_model(None, "cpu")
    info = b.args[0]
    assert info.demo and "UNTRAINED" in info.label and "demo128" in info.label
    # a bad explicit spec fails without replacing the model
    model = service.worker.model
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with qtbot.waitSignal(service.signals.modelFailed, timeout=WAIT_MS) as b:
        service.load_model(str(bad), "cpu")
    assert b.args[0].kind is RequestKind.LOAD and "Could not load the model" in b.args[0].summary
    assert service.worker.model is model


def test_worker_thread_is_not_gui_thread(qtbot, service):
    seen = []
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(SlowFake(0))
    with qtbot.waitSignal(service.signals.called, timeout=5000):
        service.worker.submit(CallJob(lambda m: seen.append(threading.current_thread())), "call")
    assert seen and seen[0] is not threading.main_thread()


def test_service_signals_reach_plain_callables_on_the_gui_thread(qtbot, service):
    """`service.signals` re-emits every public worker signal on the GUI thread, in order, so a lambda may listen
    there; connected straight to the worker's signal, PySide6 runs the same lambda on the worker thread (why
    the suite's waitSignal on worker signals left dangling timers behind and crashed later, RELIABILITY.md)."""
    from tcp_editor.services.inference import GuiSignals, InferenceWorker

    for name in GuiSignals.NAMES:  # the relay carries every public signal of the worker, with its signature
        assert getattr(InferenceWorker, name).signatures == getattr(GuiSignals, name).signatures, name
    relayed, raw = [], []
    service.signals.called.connect(lambda rid, out, ms: relayed.append((rid, threading.current_thread())))
    service.worker.called.connect(lambda rid, out, ms: raw.append(threading.current_thread()))
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(SlowFake(0))
    ids = [service.worker.submit(CallJob(lambda m, i=i: i), f"call{i}") for i in range(3)]
    qtbot.waitUntil(lambda: len(relayed) == 3, timeout=WAIT_MS)
    assert [r for r, _ in relayed] == ids, "relayed in the order the worker emitted"
    assert all(t is threading.main_thread() for _, t in relayed)
    assert raw and all(t is not threading.main_thread() for t in raw)
    # what the thread-safe API emits on the calling (GUI) thread arrives at once, as from the worker's own signal
    dropped = []
    service.signals.discarded.connect(dropped.append)
    service.worker.discarded.emit(12345)  # as submit() and cancel() do on the caller's thread
    assert dropped == [12345]


def test_requests_before_the_model_loads_wait_and_the_latest_wins(qtbot, service):
    """Before a model is installed, requests stay pending; a newer one on the same channel drops the older one
    with a `discarded` signal (never silently), and once the model arrives only the latest runs."""
    results, dropped = [], []
    service.signals.result.connect(lambda rid, img, ms: results.append(rid))
    service.signals.discarded.connect(dropped.append)
    ids = [service.worker.submit(_render_payload(s), "preview") for s in (0.2, 0.4, 0.6)]
    qtbot.wait(200)  # the worker has looked at them by now: no model, nothing runs
    assert results == [] and dropped == ids[:2]
    fake = SlowFake(0)
    with qtbot.waitSignal(service.signals.result, timeout=WAIT_MS):
        service.set_model(fake)
    assert results == [ids[-1]] and fake.calls == [0.6]


def test_render_passes_the_region_interior_to_apply_regions(monkeypatch):
    """The document's Region interior (`Document.set_interior`) reaches apply_regions in its ExportConfig as it is
    (the library takes the editor's INTERIOR_MODES: "off" is no swap inside), its default is the library's
    DEFAULT_INTERIOR_MODE, and the three modes give the images they promise."""
    from tcp_editor.document import DEFAULT_INTERIOR_MODE, INTERIOR_MODES
    from tcp_editor.services.render import render

    seen = spy_apply_regions(monkeypatch)
    img, regions = _interior_scene()
    out = {}
    for mode in INTERIOR_MODES:  # (no colour priming, whatever its default: the interior alone)
        export = export_of(interior=mode, pre_transfer=0, edge="inside")
        out[mode] = render(InteriorFake(), img, regions, export=export).astype(int) - img
        assert seen[-1] is export and seen[-1].interior == mode and seen[-1].swap_interior is (mode != "off")
    assert Document().export_config().interior == ExportConfig().interior == DEFAULT_INTERIOR_MODE
    default = render(InteriorFake(), img, regions, export=ExportConfig(priming=0.0, edge="inside")).astype(int) - img
    np.testing.assert_array_equal(default, out[DEFAULT_INTERIOR_MODE])
    # deep inside the region: the swap's colours (darker), or the region edit's alone (brighter)
    assert out["off"][32, 40:56].mean() == pytest.approx(40, abs=2)
    assert out["guided"][32, 40:56].mean() == pytest.approx(-80, abs=2)
    assert out["fixed"][32, 40:56].mean() == pytest.approx(-80, abs=2)
    # along a border over a smooth part of the photo the guided switch is wider: more of the region edit (the
    # photo-guided feather fades both out there too, so the gap is smaller than deep inside)
    assert out["guided"][32, 12:20].mean() > out["fixed"][32, 12:20].mean() + 10
    for d in out.values():  # outside the region nothing changes (the feather inside the mask)
        assert not d[:8].any() and not d[:, :12].any()


def test_render_feathers_across_or_inside_the_mask_edge(monkeypatch):
    """The Mask edge reaches apply_regions in its ExportConfig (inside: edge == "inside"), its default is the library's
    DEFAULT_FEATHER_EDGE ("across"). Inside: nothing outside the mask changes. Across: over smooth photo the fade
    straddles the mask's edge (no band inside it), reaching a few pixels out and no further than the editor's
    outline says (ModelInfo.reach_px); where the mask's edge runs along an edge of the photo it stays there."""
    from tcp_editor.document import DEFAULT_FEATHER_EDGE, FEATHER_EDGES
    from tcp_editor.services.inference import ModelInfo
    from tcp_editor.services.render import render

    assert DEFAULT_FEATHER_EDGE == "across" and set(FEATHER_EDGES) == {"across", "inside"}
    seen = spy_apply_regions(monkeypatch)
    img = np.full((96, 128, 3), 120, np.uint8)
    img[:, 96:] = 30  # a dark "frame" along the mask's right edge; the other edges cross smooth photo
    mask = np.zeros((96, 128), np.float32)
    mask[24:72, 32:96] = 1
    regions = [RegionEdit(np.zeros((16, 16, 3), np.uint8), mask, 1.0)]
    out = {}
    for edge in FEATHER_EDGES:
        export = export_of(pre_transfer=0, edge=edge)
        out[edge] = render(InteriorFake(), img, regions, export=export).astype(int)[..., 0] - img[..., 0]
        assert seen[-1].edge == edge and seen[-1].inside is (edge == "inside")
    assert Document().export_config().edge == ExportConfig().edge == DEFAULT_FEATHER_EDGE
    default = render(InteriorFake(), img, regions, export=ExportConfig(priming=0.0)).astype(int)[..., 0] - img[..., 0]
    np.testing.assert_array_equal(default, out["across"])
    with pytest.raises(ValueError, match="edge must be one of"):
        render(InteriorFake(), img, regions, export=ExportConfig(edge="outside"))
    with pytest.raises(TypeError, match="export must be an ExportConfig"):  # (not the old keywords in a dict)
        render(InteriorFake(), img, regions, export={"edge": "inside"})
    full = out["inside"][48, 64]
    assert full < -40  # the edit (the swap darkens)
    inside, across = out["inside"], out["across"]
    assert not inside[mask == 0].any(), "inside: nothing outside the mask changes"
    # across the left edge (smooth photo): part of the change on either side, none on the far side of the reach
    assert abs(across[48, 30]) >= 5 and inside[48, 32] == 0, "across: the fade straddles the edge; inside: from 0"
    # the fast preview (the whole photo at the network's size) reaches no further than the canvas's outline
    from tcp_core.editing.inference import size_multiple

    info = ModelInfo("fake", "cpu", "CPU", False, resolution=InteriorFake.config.resolution,
                     size_multiple=size_multiple(InteriorFake.config))
    reach = info.reach_px(96, 128, "across")
    assert reach > 0 and info.reach_px(96, 128, "inside") == 0 and info.fade_px(96, 128, "across") == reach
    fast = render(InteriorFake(), img, regions, crop=False, export=ExportConfig(priming=0.0)).astype(int)[..., 0] \
        - img[..., 0]
    assert abs(fast[48, 30]) >= 5
    import cv2

    grown = cv2.dilate((mask > 0).astype(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    assert not fast[grown == 0].any() and not across[grown == 0].any(), "no further than the outline"
    # along the dark frame the edit stops at the mask's edge (the photo-guided feather), with (nearly) full strength
    assert np.abs(across[30:66, 97:]).max() <= 3
    assert across[40:56, 95].mean() < 0.6 * full


def test_worker_renders_and_exports_with_the_jobs_region_interior(qtbot, service, tmp_path):
    """The preview (RenderJob) and the export (ExportJob) both render with their job's interior."""
    from PIL import Image

    from tcp_editor.services.render import render
    from tcp_editor.services.requests import ExportJob

    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(InteriorFake())
    img, regions = _interior_scene()
    want = {mode: render(InteriorFake(), img, regions, export=ExportConfig(interior=mode))
            for mode in ("guided", "off")}
    for mode in ("guided", "off"):
        job = RenderJob(img, list(regions), export=ExportConfig(interior=mode))
        with qtbot.waitSignal(service.signals.result, timeout=WAIT_MS) as b:
            service.worker.submit(job, "preview")
        np.testing.assert_array_equal(b.args[1], want[mode])
        path = str(tmp_path / f"{mode}.png")
        r = regions[0]
        job = ExportJob(img, path, [(r.style, r.mask, r.strength, None)], export=ExportConfig(interior=mode))
        with qtbot.waitSignal(service.signals.exported, timeout=WAIT_MS):
            service.submit_export(job)
        np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), want[mode])
    assert not np.array_equal(want["guided"], want["off"])


def _priming_scene():
    """The Region interior scene with a red style photo: colour priming shows as red inside the region."""
    img, regions = _interior_scene()
    style = np.zeros((16, 16, 3), np.uint8)
    style[...] = (220, 60, 40)
    return img, [RegionEdit(style, regions[0].mask, 1.0)]


def test_render_passes_the_colour_priming_to_apply_regions(monkeypatch):
    """The document's Colour priming (a percent) reaches apply_regions, through render and through the warm-up's
    render, as ExportConfig.priming = percent / 100; the default is the library's DEFAULT_PRE_TRANSFER; priming
    moves the region towards the style's colours."""
    from tcp_core.base.constants import DEFAULT_PRE_TRANSFER
    from tcp_editor.services.render import render, warm_steps

    seen = spy_apply_regions(monkeypatch)
    img, regions = _priming_scene()
    out = {}
    for percent in (0, 35, 100):
        export = export_of(pre_transfer=percent, edge="inside")
        out[percent] = render(InteriorFake(), img, regions, export=export).astype(int) - img
        assert seen[-1].priming == pytest.approx(percent / 100)
    render(InteriorFake(), img, regions)
    assert seen[-1].priming == pytest.approx(DEFAULT_PRE_TRANSFER)
    assert Document().export_config().priming == pytest.approx(DEFAULT_PRE_TRANSFER)
    steps = warm_steps(InteriorFake(), img, [regions[0].style], regions[0].mask, 1.0, export_of(pre_transfer=70))
    for step in steps:
        step()
    assert seen[-1].priming == pytest.approx(0.7)
    # deep inside the region: grey (the fakes change every channel alike) without priming, red with it
    inside = {p: d[32, 40:56].mean(0) for p, d in out.items()}
    assert abs(inside[0][0] - inside[0][1]) < 1
    assert inside[35][0] - inside[35][1] > 20 and inside[100][0] - inside[100][1] > inside[35][0] - inside[35][1] + 20
    for d in out.values():  # outside the region nothing changes (the feather inside the mask)
        assert not d[:8].any() and not d[:, :12].any()


def test_worker_renders_and_exports_with_the_jobs_colour_priming(qtbot, service, tmp_path):
    """The preview (RenderJob, from the document's RenderState through submit_render), the warm-up
    (submit_warm) and the export (ExportJob) all render with their Colour priming."""
    from PIL import Image

    from tcp_editor.services.render import render
    from tcp_editor.services.requests import ExportJob

    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(InteriorFake())
    img, regions = _priming_scene()
    want = {p: render(InteriorFake(), img, regions, export=ExportConfig(priming=p / 100)) for p in (0, 80)}
    assert not np.array_equal(want[0], want[80])
    d = Document(preview_long_side=128)
    d.set_photo(img)
    uid = d.add_region(mask=regions[0].mask, style=StyleRef.from_array(regions[0].style))
    assert d.region(uid).mask.shape == img.shape[:2]
    submitted = []
    orig_submit = service.worker.submit
    service.worker.submit = lambda job, channel: submitted.append(job) or orig_submit(job, channel)
    for p in (0, 80):
        d.set_pre_transfer(p)
        with qtbot.waitSignal(service.signals.result, timeout=WAIT_MS) as b:
            service.submit_render(d.render_state())
        assert submitted[-1].export.priming == pytest.approx(p / 100)
        np.testing.assert_array_equal(b.args[1], want[p])
        path = str(tmp_path / f"{p}.png")
        r = regions[0]
        with qtbot.waitSignal(service.signals.exported, timeout=WAIT_MS):
            service.submit_export(ExportJob(img, path, [(r.style, r.mask, r.strength, None)],
                                            export=ExportConfig(priming=p / 100)))
        np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), want[p])
        with qtbot.waitSignal(service.signals.warmed, timeout=WAIT_MS):
            service.submit_warm(img, [r.style], r.mask, 1.0, d.export_config())
        assert submitted[-1].export.priming == pytest.approx(p / 100)


# document and undo ----------------------------------------------------------------------------
@pytest.fixture
def doc(qtbot):
    d = Document(preview_long_side=128)
    rng = np.random.default_rng(0)
    d.set_photo((rng.random((300, 400, 3)) * 255).astype(np.uint8), "/tmp/x.jpg")
    return d


def test_document_preview_and_full_mask(doc):
    assert doc.preview_shape == (96, 128)
    assert doc.preview_scale == pytest.approx(128 / 400)
    uid = doc.add_region()
    m = doc.empty_mask()
    m[:, :64] = 1
    doc.apply_mask(uid, m)
    full = doc.full_mask(doc.region(uid))
    assert full.shape == (300, 400) and full[:, :190].min() > 0.99 and full[:, 210:].max() < 0.01


def test_stroke_undo_stores_only_dirty_patch(doc):
    uid = doc.add_region()
    r = doc.region(uid)
    buf = mask_ops.StrokeBuffer(r.mask, 4, 1.0, 1.0, erase=False)
    buf.add_point(20, 20)
    buf.add_point(30, 22)
    x0, y0, x1, y1 = buf.dirty
    assert (x1 - x0) * (y1 - y0) < 400
    doc.commit_stroke(uid, buf.dirty, buf.before[y0:y1, x0:x1].copy())
    cmd = doc.undo_stack.command(doc.undo_stack.count() - 1)
    assert cmd.nbytes < 2000  # compressed patches, not whole masks
    painted = r.mask.copy()
    doc.undo_stack.undo()
    assert r.mask.max() == 0
    doc.undo_stack.redo()
    assert np.array_equal(r.mask, painted)
    assert doc.undo_stack.undoLimit() > 0


def test_strength_merge_and_generations(doc):
    uid = doc.add_region()
    n = doc.undo_stack.count()
    for v in (0.9, 0.8, 0.7):
        doc.set_strength(uid, v)
    assert doc.undo_stack.count() == n + 1
    doc.end_merge()
    doc.set_strength(uid, 0.1)
    assert doc.undo_stack.count() == n + 2
    doc.undo_stack.undo()
    assert doc.region(uid).strength == pytest.approx(0.7)
    doc.undo_stack.undo()
    assert doc.region(uid).strength == pytest.approx(1.0)
    # another region's strength does not merge into this one
    uid2 = doc.add_region()
    doc.set_strength(uid2, 0.5)
    doc.set_strength(uid, 0.5)
    assert doc.region(uid2).strength == 0.5 and doc.region(uid).strength == 0.5
    # above 100 % up to MAX_STRENGTH (more of the reference's look), clipped beyond
    from tcp_editor.document import MAX_STRENGTH

    doc.end_merge()
    doc.set_strength(uid, 1.3)
    assert doc.region(uid).strength == pytest.approx(1.3)
    doc.set_strength(uid, MAX_STRENGTH + 1)
    assert doc.region(uid).strength == MAX_STRENGTH


def test_colour_smoothing_is_undoable_and_reaches_the_render_state(doc):
    from tcp_editor.document import DEFAULT_SMOOTHING, MAX_SMOOTHING

    assert doc.smoothing == DEFAULT_SMOOTHING and doc.render_state().export.smoothing == DEFAULT_SMOOTHING
    n = doc.undo_stack.count()
    doc.set_smoothing(10)
    doc.set_smoothing(12)  # merges until end_merge
    assert doc.undo_stack.count() == n + 1 and doc.render_state().export.smoothing == 12
    doc.end_merge()
    doc.set_smoothing(99)  # clamped
    assert doc.smoothing == MAX_SMOOTHING
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.smoothing == DEFAULT_SMOOTHING
    doc.set_smoothing(3)
    doc.set_photo(doc.photo, "/tmp/y.jpg")  # a new photo starts from the default
    assert doc.smoothing == DEFAULT_SMOOTHING


def test_region_interior_is_undoable_and_reaches_the_render_state(doc):
    from tcp_editor.document import DEFAULT_INTERIOR_MODE, INTERIOR_MODES

    assert doc.interior == DEFAULT_INTERIOR_MODE and doc.render_state().export.interior == DEFAULT_INTERIOR_MODE
    a, b = [m for m in INTERIOR_MODES if m != DEFAULT_INTERIOR_MODE]
    changes = []
    doc.settingsChanged.connect(lambda: changes.append(doc.interior))
    n = doc.undo_stack.count()
    doc.set_interior(a)
    doc.set_interior(b)  # a choice, not a drag: one undo step each
    doc.set_interior(b)  # no change, no step
    assert doc.undo_stack.count() == n + 2 and doc.render_state().export.interior == b
    assert changes == [a, b] and doc.undo_stack.undoText() == "Region interior"
    with pytest.raises(ValueError, match="region interior must be one of"):
        doc.set_interior("sometimes")
    assert doc.interior == b and doc.undo_stack.count() == n + 2
    doc.undo_stack.undo()
    assert doc.interior == a
    doc.undo_stack.undo()
    assert doc.interior == DEFAULT_INTERIOR_MODE
    doc.undo_stack.redo()
    assert doc.interior == a and doc.render_state().export.interior == a
    doc.set_photo(doc.photo, "/tmp/y.jpg")  # a new photo starts from the default
    assert doc.interior == DEFAULT_INTERIOR_MODE


def test_mask_edge_is_undoable_reaches_the_render_state_and_its_combo(qtbot, doc):
    """Document.set_edge: one undo step per change, in the render state, reset by a new photo; the Transfer box's
    "Mask edge" combo edits it and follows undo / redo without pushing anything; disabled without a photo."""
    from tcp_editor.controls_panel import ControlsPanel
    from tcp_editor.document import DEFAULT_FEATHER_EDGE

    assert doc.edge == DEFAULT_FEATHER_EDGE == "across" and doc.render_state().export.edge == "across"
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_document(doc)
    combo = panel.edge
    assert combo.objectName() == "maskEdge" and combo.isEnabled()
    assert {combo.itemData(i): combo.itemText(i) for i in range(combo.count())} == {
        "across": "Blend across the edge", "inside": "Keep inside the mask"}
    assert "nothing outside it changes" in combo.toolTip() and combo.currentData() == "across"
    changes = []
    doc.settingsChanged.connect(lambda: changes.append(doc.edge))
    n = doc.undo_stack.count()
    combo.setCurrentIndex(combo.findData("inside"))
    doc.set_edge("inside")  # no change, no step
    assert doc.edge == "inside" and doc.render_state().export.edge == "inside" and doc.undo_stack.count() == n + 1
    assert changes == ["inside"] and doc.undo_stack.undoText() == "Mask edge"
    with pytest.raises(ValueError, match="mask edge must be one of across, inside"):
        doc.set_edge("outside")
    assert doc.edge == "inside" and doc.undo_stack.count() == n + 1
    doc.undo_stack.undo()
    assert doc.edge == "across" and combo.currentData() == "across"
    doc.undo_stack.redo()
    assert doc.edge == "inside" and combo.currentData() == "inside" and doc.undo_stack.count() == n + 1
    doc.set_photo(doc.photo, "/tmp/y.jpg")  # a new photo starts from the default
    assert doc.edge == "across" and combo.currentData() == "across"
    empty = ControlsPanel()
    qtbot.addWidget(empty)
    empty.set_document(Document())
    assert not empty.edge.isEnabled()


def test_worker_renders_warms_and_exports_with_the_jobs_mask_edge(qtbot, service, tmp_path):
    """The preview (RenderJob from the document's RenderState), the warm-up and the export (ExportJob) all
    render with their Mask edge."""
    from PIL import Image

    from tcp_editor.services.render import render
    from tcp_editor.services.requests import ExportJob

    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(InteriorFake())
    img, regions = _interior_scene()
    want = {e: render(InteriorFake(), img, regions, export=ExportConfig(edge=e)) for e in ("across", "inside")}
    assert not np.array_equal(want["across"], want["inside"])
    d = Document(preview_long_side=128)
    d.set_photo(img)
    d.add_region(mask=regions[0].mask, style=StyleRef.from_array(regions[0].style))
    submitted = []
    orig_submit = service.worker.submit
    service.worker.submit = lambda job, channel: submitted.append(job) or orig_submit(job, channel)
    r = regions[0]
    for e in ("inside", "across"):
        d.set_edge(e)
        with qtbot.waitSignal(service.signals.result, timeout=WAIT_MS) as b:
            service.submit_render(d.render_state())
        assert submitted[-1].export.edge == e
        np.testing.assert_array_equal(b.args[1], want[e])
        path = str(tmp_path / f"{e}.png")
        with qtbot.waitSignal(service.signals.exported, timeout=WAIT_MS):
            service.submit_export(ExportJob(img, path, [(r.style, r.mask, r.strength, None)],
                                            export=ExportConfig(edge=e)))
        np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), want[e])
        with qtbot.waitSignal(service.signals.warmed, timeout=WAIT_MS):
            service.submit_warm(img, [r.style], r.mask, 1.0, d.export_config().replace(priming=0.5))
        assert submitted[-1].export.edge == e


def test_region_priming_is_undoable_reaches_the_jobs_and_its_spin_box(qtbot, doc, service, tmp_path):
    """A region's own Colour priming (Regions panel): None follows the document's; one undo step per change; the
    render state carries it, the preview's RegionEdit gets it as a fraction, and the export's region tuple too;
    the spin box's lowest step is "As the Transfer panel (N %)" and follows undo / redo."""
    from PIL import Image

    from tcp_editor.regions_panel import RegionsPanel
    from tcp_editor.services.render import render
    from tcp_editor.services.requests import ExportJob

    img, regions = _priming_scene()
    d = Document(preview_long_side=128)
    d.set_photo(img)
    uid = d.add_region(mask=regions[0].mask, style=StyleRef.from_array(regions[0].style))
    panel = RegionsPanel()
    qtbot.addWidget(panel)
    panel.set_document(d)
    spin = panel.priming
    assert spin.objectName() == "regionPriming" and spin.isEnabled()
    assert d.region(uid).priming is None and spin.value() == -1
    assert spin.text() == f"As the Transfer panel ({d.pre_transfer} %)"
    d.set_pre_transfer(20)
    assert spin.text() == "As the Transfer panel (20 %)"
    n = d.undo_stack.count()
    spin.setValue(90)
    assert d.region(uid).priming == 90 and d.undo_stack.count() == n + 1 and d.undo_stack.undoText() == "Region priming"
    assert d.render_state().regions[0].priming == 90
    with pytest.raises(ValueError, match="colour priming must be an integer percent"):
        d.set_region_priming(uid, 101)
    d.undo_stack.undo()
    assert d.region(uid).priming is None and spin.value() == -1
    d.undo_stack.redo()
    assert spin.value() == 90
    spin.setValue(-1)  # back to the document's
    assert d.region(uid).priming is None and d.undo_stack.count() == n + 2
    # the worker: the region's own priming wins over the document's
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(InteriorFake())
    doc_priming = ExportConfig(priming=0.2)
    want = render(InteriorFake(), img, [RegionEdit(regions[0].style, regions[0].mask, 1.0, None, 0.9)],
                  export=doc_priming)
    assert not np.array_equal(want, render(InteriorFake(), img, regions, export=doc_priming))
    d.set_region_priming(uid, 90)
    submitted = []
    orig_submit = service.worker.submit
    service.worker.submit = lambda job, channel: submitted.append(job) or orig_submit(job, channel)
    with qtbot.waitSignal(service.signals.result, timeout=WAIT_MS) as b:
        service.submit_render(d.render_state())
    assert submitted[-1].regions[0].pre_transfer == pytest.approx(0.9)
    assert submitted[-1].export.priming == pytest.approx(0.2)
    np.testing.assert_array_equal(b.args[1], want)
    r = regions[0]
    path = str(tmp_path / "own.png")
    with qtbot.waitSignal(service.signals.exported, timeout=WAIT_MS):
        service.submit_export(ExportJob(img, path, [(r.style, r.mask, 1.0, None, 90)], export=doc_priming))
    np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), want)
    d.set_active(-1)  # no region: disabled
    assert not spin.isEnabled()


def test_priming_profile_is_undoable_and_reaches_preview_warm_up_export_and_combo(qtbot, service, tmp_path):
    """The Transfer panel's "Priming follows" (Document.priming_profile, default "rows"): one undo step per change,
    reset by a new photo, in the render state and the preview, warm-up and export jobs; with a reference that is
    blue above and red below, "rows" primes the region's top bluer than its bottom, "global" alike."""
    from PIL import Image

    from tcp_editor.controls_panel import ControlsPanel
    from tcp_editor.document import DEFAULT_PRIMING_PROFILE, PRIMING_PROFILES
    from tcp_editor.services.render import render
    from tcp_editor.services.requests import ExportJob

    assert DEFAULT_PRIMING_PROFILE == "rows" and set(PRIMING_PROFILES) == {"rows", "global"}
    img, regions = _interior_scene()
    style = np.zeros((32, 16, 3), np.uint8)
    style[:16] = (40, 60, 220)
    style[16:] = (220, 60, 40)
    r = RegionEdit(style, regions[0].mask, 1.0)
    want = {p: render(InteriorFake(), img, [r], export=ExportConfig(priming=1.0, priming_profile=p))
            for p in PRIMING_PROFILES}
    top, bottom = ({p: o[y, 30:60].astype(int).mean(0) for p, o in want.items()} for y in (12, 50))
    assert top["rows"][2] - top["rows"][0] > 40 and bottom["rows"][0] - bottom["rows"][2] > 40  # blue / red
    assert abs((top["global"] - bottom["global"])[[0, 2]]).max() < 15  # one colour top to bottom
    with pytest.raises(ValueError, match="priming_profile must be one of rows, global"):
        render(InteriorFake(), img, [r], export=ExportConfig(priming_profile="columns"))
    d = Document(preview_long_side=128)
    d.set_photo(img)
    d.add_region(mask=r.mask, style=StyleRef.from_array(style))
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_document(d)
    combo = panel.priming_profile
    assert combo.objectName() == "primingProfile" and combo.currentData() == d.priming_profile == "rows"
    assert {combo.itemData(i): combo.itemText(i) for i in range(combo.count())} == {
        "rows": "The reference's rows", "global": "One colour per region"}
    n = d.undo_stack.count()
    combo.setCurrentIndex(combo.findData("global"))
    assert d.priming_profile == "global" and d.render_state().export.priming_profile == "global"
    assert d.undo_stack.count() == n + 1 and d.undo_stack.undoText() == "Priming follows"
    with pytest.raises(ValueError, match="priming profile must be one of"):
        d.set_priming_profile("columns")
    d.undo_stack.undo()
    assert d.priming_profile == "rows" and combo.currentData() == "rows"
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(InteriorFake())
    d.set_pre_transfer(100)
    submitted = []
    orig_submit = service.worker.submit
    service.worker.submit = lambda job, channel: submitted.append(job) or orig_submit(job, channel)
    for p in PRIMING_PROFILES:
        d.set_priming_profile(p)
        with qtbot.waitSignal(service.signals.result, timeout=WAIT_MS) as b:
            service.submit_render(d.render_state())
        assert submitted[-1].export.priming_profile == p
        np.testing.assert_array_equal(b.args[1], want[p])
        path = str(tmp_path / f"{p}.png")
        with qtbot.waitSignal(service.signals.exported, timeout=WAIT_MS):
            service.submit_export(ExportJob(img, path, [(style, r.mask, 1.0)],
                                            export=ExportConfig(priming=1.0, priming_profile=p)))
        np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), want[p])
        with qtbot.waitSignal(service.signals.warmed, timeout=WAIT_MS):
            service.submit_warm(img, [style], r.mask, 1.0, d.export_config())
        assert submitted[-1].export.priming_profile == p
    d.set_photo(img, "/tmp/y.jpg")  # a new photo starts from the default
    assert d.priming_profile == "rows" and combo.currentData() == "rows"


def test_region_interior_combo_edits_the_document_both_ways(qtbot, doc):
    """The Transfer box's "Region interior" combo: choosing an item is one undo step; undo / redo
    move the combo back without pushing anything (no feedback loop); disabled like Colour smoothing."""
    from PySide6.QtWidgets import QComboBox

    from tcp_editor.controls_panel import ControlsPanel
    from tcp_editor.document import DEFAULT_INTERIOR_MODE

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_document(doc)
    combo = panel.findChild(QComboBox, "interiorMode")
    assert combo is panel.interior
    assert {combo.itemData(i): combo.itemText(i) for i in range(combo.count())} == {
        "guided": "Swap colours, follow photo", "fixed": "Swap colours, fixed ramp", "off": "Region edit only"}
    assert "style reference" in combo.toolTip()
    assert combo.isEnabled() and panel.smoothing.isEnabled()
    assert combo.currentData() == doc.interior == DEFAULT_INTERIOR_MODE
    n = doc.undo_stack.count()
    combo.setCurrentIndex(combo.findData("off"))
    assert doc.interior == "off" and doc.undo_stack.count() == n + 1
    combo.setCurrentIndex(combo.findData("guided"))
    assert doc.interior == "guided" and doc.undo_stack.count() == n + 2
    doc.undo_stack.undo()
    assert doc.interior == "off" and combo.currentData() == "off"
    doc.undo_stack.undo()
    assert doc.interior == DEFAULT_INTERIOR_MODE and combo.currentData() == DEFAULT_INTERIOR_MODE
    doc.undo_stack.redo()
    assert doc.interior == "off" and combo.currentData() == "off"
    assert doc.undo_stack.count() == n + 2 and doc.undo_stack.index() == n + 1  # syncing pushed nothing
    doc.set_interior("guided")  # a change from elsewhere (a project, a script) reaches the combo
    assert combo.currentData() == "guided" and doc.undo_stack.count() == n + 2
    # no photo: disabled, exactly like the colour smoothing spin box
    empty = ControlsPanel()
    qtbot.addWidget(empty)
    empty.set_document(Document())
    assert not empty.interior.isEnabled() and not empty.smoothing.isEnabled()


def test_colour_priming_is_undoable_and_reaches_the_render_state(doc):
    from tcp_editor.document import DEFAULT_PRE_TRANSFER_PERCENT
    from tcp_editor.services.images import DEFAULT_PRE_TRANSFER

    assert DEFAULT_PRE_TRANSFER_PERCENT == round(100 * DEFAULT_PRE_TRANSFER)
    assert doc.pre_transfer == DEFAULT_PRE_TRANSFER_PERCENT
    assert doc.render_state().export.priming == pytest.approx(DEFAULT_PRE_TRANSFER_PERCENT / 100)
    a, b = (30, 100) if DEFAULT_PRE_TRANSFER_PERCENT not in (30, 100) else (10, 20)
    changes = []
    doc.settingsChanged.connect(lambda: changes.append(doc.pre_transfer))
    n = doc.undo_stack.count()
    doc.set_pre_transfer(a)
    doc.set_pre_transfer(b)  # one undo step each
    doc.set_pre_transfer(b)  # no change, no step
    assert doc.undo_stack.count() == n + 2 and doc.render_state().export.priming == pytest.approx(b / 100)
    assert changes == [a, b] and doc.undo_stack.undoText() == "Colour priming"
    for bad in (-1, 101, 0.5, 50.0, True, "50", None):
        with pytest.raises(ValueError, match="colour priming must be an integer percent between 0 and 100"):
            doc.set_pre_transfer(bad)
    assert doc.pre_transfer == b and doc.undo_stack.count() == n + 2
    doc.set_pre_transfer(np.int64(0))  # numpy integers are integers
    assert doc.pre_transfer == 0 and type(doc.pre_transfer) is int
    doc.undo_stack.undo()
    assert doc.pre_transfer == b
    doc.undo_stack.undo()
    assert doc.pre_transfer == a
    doc.undo_stack.undo()
    assert doc.pre_transfer == DEFAULT_PRE_TRANSFER_PERCENT
    doc.undo_stack.redo()
    assert doc.pre_transfer == a and doc.render_state().export.priming == pytest.approx(a / 100)
    doc.set_photo(doc.photo, "/tmp/y.jpg")  # a new photo starts from the default
    assert doc.pre_transfer == DEFAULT_PRE_TRANSFER_PERCENT and doc.undo_stack.count() == 0


def test_colour_priming_spin_box_edits_the_document_both_ways(qtbot, doc):
    """The Transfer box's "Colour priming" spin box (0-100 %): a step is one undo step; undo / redo move
    the spin box back without pushing anything (no feedback loop); disabled without a photo."""
    from PySide6.QtWidgets import QSpinBox

    from tcp_editor.controls_panel import ControlsPanel
    from tcp_editor.document import DEFAULT_PRE_TRANSFER_PERCENT

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_document(doc)
    spin = panel.findChild(QSpinBox, "colourPriming")
    assert spin is panel.pre_transfer
    assert (spin.minimum(), spin.maximum(), spin.suffix()) == (0, 100, " %")
    assert spin.value() == doc.pre_transfer == DEFAULT_PRE_TRANSFER_PERCENT
    assert not spin.keyboardTracking() and spin.isEnabled()
    assert "style photo" in spin.toolTip() and "0 is the network alone" in spin.toolTip()
    a, b = (40, 41) if DEFAULT_PRE_TRANSFER_PERCENT not in (40, 41) else (60, 61)
    n = doc.undo_stack.count()
    spin.setValue(a)
    assert doc.pre_transfer == a and doc.undo_stack.count() == n + 1
    spin.stepUp()  # each step is its own undo step
    assert doc.pre_transfer == b and doc.undo_stack.count() == n + 2
    assert doc.undo_stack.undoText() == "Colour priming"
    doc.undo_stack.undo()
    assert doc.pre_transfer == a and spin.value() == a
    doc.undo_stack.undo()
    assert doc.pre_transfer == DEFAULT_PRE_TRANSFER_PERCENT and spin.value() == DEFAULT_PRE_TRANSFER_PERCENT
    doc.undo_stack.redo()
    assert doc.pre_transfer == a and spin.value() == a
    assert doc.undo_stack.count() == n + 2 and doc.undo_stack.index() == n + 1  # syncing pushed nothing
    doc.set_pre_transfer(100)  # a change from elsewhere (a project, a script) reaches the spin box
    assert spin.value() == 100 and doc.undo_stack.count() == n + 2
    doc.set_photo(doc.photo, "/tmp/y.jpg")  # a new document: back to the default, in the spin box too
    assert spin.value() == DEFAULT_PRE_TRANSFER_PERCENT and doc.undo_stack.count() == 0
    # no photo: disabled, exactly like the colour smoothing spin box
    empty = ControlsPanel()
    qtbot.addWidget(empty)
    empty.set_document(Document())
    assert not empty.pre_transfer.isEnabled() and not empty.smoothing.isEnabled()


def test_colour_priming_project_round_trip(qtbot, doc, tmp_path):
    """project.json stores the Colour priming as an integer percent "pre_transfer"; reading it restores it."""
    import json
    import zipfile

    from tcp_editor import project
    from tcp_editor.document import DEFAULT_PRE_TRANSFER_PERCENT

    value = 37 if DEFAULT_PRE_TRANSFER_PERCENT != 37 else 63
    doc.set_pre_transfer(value)
    path = str(tmp_path / "p.tcpproj")
    project.write(path, project.snapshot(doc))
    with zipfile.ZipFile(path) as z:
        assert json.loads(z.read("project.json"))["pre_transfer"] == value
    snap = project.load(path)
    assert snap.pre_transfer == value
    other = Document(preview_long_side=128)
    assert other.pre_transfer == DEFAULT_PRE_TRANSFER_PERCENT
    project.restore(other, snap, path)
    assert other.pre_transfer == value and other.render_state().export.priming == pytest.approx(value / 100)
    assert other.undo_stack.count() == 0


def test_region_structure_commands(doc):
    a, b, c = doc.add_region("A"), doc.add_region("B"), doc.add_region("C")
    doc.move_region(c, 0)
    doc.rename_region(a, "Sky")
    doc.set_region_visible(b, False)
    doc.set_style(b, StyleRef.from_array(np.zeros((2000, 1000, 3), np.uint8), "/x/s.png"))
    assert doc.region(b).style.image.shape == (1024, 512, 3)
    doc.delete_region(a)
    assert [r.name for r in doc.regions] == ["C", "B"]
    state = doc.render_state()
    assert state.regions == ()  # B is hidden; C has no style
    for _ in range(5):
        doc.undo_stack.undo()
    assert [r.name for r in doc.regions] == ["A", "B", "C"]
    assert doc.region(b).visible and doc.region(b).style is None
    while doc.undo_stack.canRedo():
        doc.undo_stack.redo()
    assert [r.name for r in doc.regions] == ["C", "B"]


# mask ops --------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(st.floats(0.5, 30), st.floats(0, 1), st.floats(0.05, 1), st.booleans(),
       st.lists(st.tuples(st.floats(-20, 100), st.floats(-20, 80)), min_size=1, max_size=6))
def test_stroke_buffer_properties(radius, hardness, opacity, erase, points):
    rng = np.random.default_rng(1)
    mask = rng.random((60, 80)).astype(np.float32)
    before = mask.copy()
    buf = mask_ops.StrokeBuffer(mask, radius, hardness, opacity, erase)
    for p in points:
        buf.add_point(*p)
    assert mask.dtype == np.float32 and 0 <= mask.min() and mask.max() <= 1
    changed = mask_ops.changed_rect(before, mask)
    if changed is not None:
        x0, y0, x1, y1 = buf.dirty
        cx0, cy0, cx1, cy1 = changed
        assert x0 <= cx0 and y0 <= cy0 and cx1 <= x1 and cy1 <= y1, "dirty rect covers every change"
    if erase:
        assert (mask <= before + 1e-6).all()
    else:
        assert (mask >= before - 1e-6).all()


def test_mask_ops_basics():
    m = np.zeros((50, 60), np.float32)
    m[20:30, 20:30] = 1
    assert mask_ops.grow(m, 3).sum() > m.sum() > mask_ops.grow(m, -3).sum()
    f = mask_ops.feather(m, 6)
    assert 0 < f[25, 18] < 1
    assert np.array_equal(mask_ops.invert(mask_ops.invert(m)), m)
    poly = mask_ops.polygon_mask((50, 60), [(10, 10), (40, 10), (40, 40), (10, 40)])
    assert poly[25, 25] == 1 and poly[5, 5] == 0
    img = np.zeros((50, 60, 3), np.uint8)
    img[:, 30:] = 200
    ff = mask_ops.flood_fill(img, 5, 5, 10)
    assert ff[:, :30].min() == 1 and ff[:, 30:].max() == 0
    sel = mask_ops.threshold_similarity(np.linspace(0, 1, 101, dtype=np.float32)[None], 0.5)
    assert sel[0, 0] == 0 and sel[0, -1] == 1
    assert np.array_equal(mask_ops.combine(m, poly, "subtract"), m * (1 - poly))


# architecture ------------------------------------------------------------------------------------
def test_opening_the_window_does_not_import_torch():
    code = ("import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
            "from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
            "from tcp_editor.main_window import MainWindow; import tcp_editor.app\n"
            "w = MainWindow(); w.show(); app.processEvents()\n"
            "print('torch' in sys.modules); w.doc.undo_stack.setClean(); w.close()\n")
    # (settings and data directories: the per-test ones from conftest, inherited)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_run_gui_help_returns(capsys):
    from tcp_editor.app import run_gui

    assert run_gui(["--help"]) == 0
    assert "tcp-editor" in capsys.readouterr().out


def test_smoke_quit_env_starts_the_real_editor_and_closes_it(tmp_path):
    """TCP_EDITOR_SMOKE_QUIT_MS: the check the bundle build runs, here on the unbundled program."""
    env = {**__import__("os").environ, "TCP_EDITOR_SMOKE_QUIT_MS": "300", "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-m", "tcp_editor", "--preset", "tiny", "--device", "cpu"], cwd=ROOT,
                         capture_output=True, text=True, timeout=180, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "gui smoke: ok: window" in out.stdout and "UNTRAINED" in out.stdout, out.stdout


def test_smoke_check_fails_when_no_model_loads(qtbot, monkeypatch):
    from PySide6.QtWidgets import QWidget

    from tcp_editor import app as app_mod

    class NoModelWindow(QWidget):
        class models:  # noqa: N801 - stands in for the model controller
            info = None

        class doc:  # noqa: N801 - stands in for the document's undo stack
            class undo_stack:  # noqa: N801
                @staticmethod
                def setClean():  # noqa: N802
                    pass

    win = NoModelWindow()
    qtbot.addWidget(win)
    win.show()
    monkeypatch.setattr(app_mod, "SMOKE_GIVE_UP_S", 0.3)
    monkeypatch.setenv(app_mod.SMOKE_ENV, "0")
    state = app_mod._start_smoke_check(win)
    qtbot.waitUntil(lambda: state["failed"], timeout=5000)
    assert not win.isVisible()


def test_bundled_styles_exist():
    from tcp_editor.resources import bundled_styles

    styles = bundled_styles()
    assert len(styles) >= 3
    assert (ROOT / "resources" / "styles" / "LICENSES.md").is_file()


def test_run_gui_opens_photo_and_exits_cleanly(qtbot, tmp_path, monkeypatch):
    """`tcp-editor PHOTO` path: run_gui builds the window, loads a model, opens the photo."""
    from PIL import Image
    from PySide6.QtCore import QTimer

    from tcp_editor import dialogs
    from tcp_editor.app import run_gui
    from tcp_editor.main_window import MainWindow

    # (QSettings and the autosave folder: conftest gives every test private ones)
    errors = []
    monkeypatch.setattr(dialogs, "error", lambda *a, **k: errors.append(a))
    monkeypatch.setattr(dialogs, "ask_restore_autosave", lambda *a, **k: False)
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((60, 80, 3), 120, np.uint8)).save(photo)
    seen = {}

    def close_when_ready():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if wins and wins[0].doc.has_photo and wins[0].models.info is not None:
            seen["path"] = wins[0].doc.path
            seen["model"] = wins[0].models.info.label
            seen["icon"] = not wins[0].windowIcon().isNull() and not QApplication.windowIcon().isNull()
            wins[0].close()
        else:
            QTimer.singleShot(50, close_when_ready)

    QTimer.singleShot(50, close_when_ready)
    assert run_gui([str(photo), "--preset", "tiny", "--device", "cpu"]) == 0
    assert seen["path"] == str(photo) and "UNTRAINED" in seen["model"]
    assert seen["icon"], "the application icon is set"
    assert not errors


@pytest.mark.parametrize("case", ["huge_strength", "strength_past_the_maximum", "huge_saved_at", "deep_json",
                                  "bad_deflate", "bad_smoothing",
                                  "old_file_without_smoothing", "bad_interior", "interior_not_a_string",
                                  "pre_transfer_too_high", "pre_transfer_negative", "pre_transfer_float",
                                  "pre_transfer_bool", "pre_transfer_a_string", "bad_edge", "edge_not_a_string",
                                  "region_priming_too_high", "region_priming_float", "bad_priming_profile"])
def test_project_load_only_raises_project_error(tmp_path, case):
    import io
    import json
    import zipfile

    from PIL import Image

    from tcp_editor import project

    def png(a):
        b = io.BytesIO()
        Image.fromarray(a).save(b, format="PNG")
        return b.getvalue()

    photo = np.zeros((8, 12, 3), np.uint8)
    meta = {"format": "tcpproj", "version": 1, "saved_at": 1.0,
            "photo": {"file": "photo.png", "width": 12, "height": 8},
            "regions": [{"name": "A", "strength": 0.5, "mask": "masks/0.png"}]}
    text = None
    if case == "huge_strength":
        meta["regions"][0]["strength"] = 10**400
    elif case == "strength_past_the_maximum":
        from tcp_editor.document import MAX_STRENGTH

        meta["regions"][0]["strength"] = MAX_STRENGTH + 0.1
    elif case == "huge_saved_at":
        meta["saved_at"] = 10**400
    elif case == "bad_smoothing":
        meta["smoothing"] = 2.5
    elif case == "bad_interior":
        meta["interior"] = "sometimes"
    elif case == "interior_not_a_string":
        meta["interior"] = ["off"]
    elif case.startswith("region_priming_"):
        meta["regions"][0]["priming"] = {"too_high": 101, "float": 0.5}[case[len("region_priming_"):]]
    elif case == "bad_priming_profile":
        meta["priming_profile"] = "columns"
    elif case == "bad_edge":
        meta["edge"] = "outside"
    elif case == "edge_not_a_string":
        meta["edge"] = None
    elif case.startswith("pre_transfer_"):
        meta["pre_transfer"] = {"too_high": 101, "negative": -1, "float": 0.5, "bool": True,
                                "a_string": "50"}[case[len("pre_transfer_"):]]
    elif case == "deep_json":
        text = '{"format": "tcpproj", "version": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    p = tmp_path / "p.tcpproj"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("project.json", text or json.dumps(meta), compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("photo.png", png(photo))
        z.writestr("masks/0.png", png(np.zeros((8, 12), np.uint8)))
    if case == "bad_deflate":  # corrupt the deflated project.json stream (zlib.error inside zipfile)
        data = bytearray(p.read_bytes())
        start = data.index(b"project.json") + len(b"project.json")
        data[start:start + 4] = b"\xff\xff\xff\xff"
        p.write_bytes(bytes(data))
    if case == "huge_saved_at":
        assert project.load(str(p)).saved_at == 0.0
        return
    if case == "old_file_without_smoothing":  # (nor the region interior, nor colour priming: all newer than v1)
        from tcp_editor.document import DEFAULT_INTERIOR_MODE, DEFAULT_PRE_TRANSFER_PERCENT, DEFAULT_SMOOTHING

        snap = project.load(str(p))
        assert snap.smoothing == DEFAULT_SMOOTHING and snap.interior == DEFAULT_INTERIOR_MODE
        assert snap.pre_transfer == DEFAULT_PRE_TRANSFER_PERCENT
        assert snap.edge == "inside"  # its edits faded out inside their masks: it renders as it was saved
        assert snap.priming_profile == "global"  # and were primed towards one colour per region
        return
    with pytest.raises(project.ProjectError, match="Cannot open the project") as e:
        project.load(str(p))
    if case == "strength_past_the_maximum":
        assert f"strength must be between 0 and {MAX_STRENGTH:g}" in str(e.value)
    if "interior" in case:
        from tcp_editor.document import INTERIOR_MODES

        assert f"interior must be one of {', '.join(INTERIOR_MODES)}" in str(e.value)
    if "edge" in case:
        assert "edge must be one of across, inside" in str(e.value)
    if case == "bad_priming_profile":
        assert "priming_profile must be one of rows, global" in str(e.value)
    if case.startswith("region_priming_"):
        assert "regions[0].priming (colour priming) must be null or an integer percent" in str(e.value)
    if case.startswith("pre_transfer_"):
        assert "pre_transfer (colour priming) must be an integer percent between 0 and 100" in str(e.value)
        assert "\n" not in str(e.value)


# the garbage collector stays on the GUI thread ------------------------------------------------
def test_cyclic_garbage_is_collected_on_the_gui_thread_not_on_a_busy_worker(qtbot):
    """A worker thread that allocates past the collector's threshold must not run the collection
    (it could destroy GUI objects kept only by a cycle from the wrong thread): MainThreadGC's timer
    collects on the GUI thread instead, and stop() restores the collector as it found it."""
    import gc

    from tcp_editor.main_thread_gc import MainThreadGC

    was_enabled = gc.isenabled()
    gc.enable()  # (the suite keeps automatic collection off during tests: conftest)
    finalised_on = []

    class Cycle:
        def __init__(self):
            self.me = self

        def __del__(self):
            finalised_on.append(threading.get_ident())

    keep = []
    pin = MainThreadGC(interval_ms=20)
    try:
        pin.start()
        assert pin.active and not gc.isenabled()
        Cycle()  # unreachable at once; only the cyclic collector can free it
        worker = threading.Thread(target=lambda: keep.append([[] for _ in range(20 * gc.get_threshold()[0])]))
        worker.start()
        worker.join()
        assert finalised_on == [], "a collection ran on the worker thread"
        qtbot.waitUntil(lambda: bool(finalised_on), timeout=WAIT_MS)
        assert finalised_on == [threading.get_ident()] and pin.collections >= 1
    finally:
        pin.stop()
        keep.clear()
    assert not pin.active and gc.isenabled()
    if not was_enabled:
        gc.disable()


def test_extent_outlines_leave_out_specks_and_pinholes():
    """The canvas's outlines of an edit's feather: the border of what it changes by more than EXTENT_VISIBLE (solid)
    and of where it is full (dashed); specks and pinholes of a few pixels (rock texture along a ridge) are not
    drawn."""
    from tcp_editor.mask_ops import EXTENT_VISIBLE, extent_outlines

    f = np.zeros((100, 120), np.float32)
    f[10:60, 10:110] = 0.5
    f[20:50, 20:100] = 1.0
    f[30, 50] = 0.0  # a pinhole in the full part
    f[80:82, 10:12] = 0.5  # a speck of 4 pixels outside
    f[5, 5] = EXTENT_VISIBLE / 2  # under the visible change
    outer, inner = extent_outlines(f)
    assert len(outer) == 1 and len(inner) == 1
    (o,), (i,) = outer, inner
    assert (o[:, 0].min(), o[:, 0].max(), o[:, 1].min(), o[:, 1].max()) == (10, 109, 10, 59)
    assert (i[:, 0].min(), i[:, 0].max(), i[:, 1].min(), i[:, 1].max()) == (20, 99, 20, 49)
    assert extent_outlines(np.zeros((10, 10), np.float32)) == ([], [])


def test_a_large_previews_extent_is_measured_on_a_scaled_copy():
    """services.extent.edit_extent scales a preview over FIT_PIXELS down and back: the same outline within a pixel
    or two of the full-size one."""
    from tcp_core.editing.inference import working_size
    from tcp_editor.services.extent import edit_extent

    class Info:  # (a ModelInfo's working size: a 64 px network)
        def working_size(self, h, w):
            return working_size(h, w, 64, 16)

    info = Info()
    rng = np.random.default_rng(0)
    H, W = 240, 320
    photo = np.zeros((H, W, 3), np.uint8)
    photo[:110] = (90, 140, 220)
    photo[110:] = rng.normal((120, 90, 60), 18, (H - 110, W, 3)).clip(0, 255)
    mask = np.zeros((H, W), np.float32)
    mask[:110, 40:280] = 1.0
    for edge in ("across", "inside"):
        exact = edit_extent(mask, photo, info, edge)
        quick = edit_extent(mask, photo, info, edge, fit_pixels=H * W // 4)
        assert quick.shape == exact.shape
        assert np.abs(quick - exact).mean() < 0.02
        assert ((quick > 0.5) != (exact > 0.5)).mean() < 0.01
        if edge == "inside":
            assert not quick[mask == 0].any()
