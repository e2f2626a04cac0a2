"""The editor's "Priming stretches" (Document.priming_spread), "Sky grain guard" (Document.detail_gain) and how priming
treats clipped highlights (Document.priming_highlights, no control in the panel): the document's setters and undo,
projects (written, read back, old files without them, bad values), the render path (preview, warm-up, export), the
Transfer panel's combos and Edit > Update Priming to Current Defaults (all three to today's defaults in one step)."""

# ruff: noqa: F811 - the fixture imported from test_gui_units is used as a test argument

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PIL import Image  # noqa: E402
from test_gui_units import (  # noqa: E402,F401 - `service`: a fixture
    WAIT_MS,
    InteriorFake,
    _priming_scene,
    export_of,
    service,
    spy_apply_regions,
    warm_export,
)

from tcp_core.editing.regions import RegionEdit  # noqa: E402
from tcp_editor import project  # noqa: E402
from tcp_editor.document import (  # noqa: E402
    DEFAULT_DETAIL_GAIN,
    DEFAULT_PRIMING_HIGHLIGHTS,
    DEFAULT_PRIMING_SPREAD,
    MAX_DETAIL_GAIN,
    MIN_DETAIL_GAIN,
    PRIMING_HIGHLIGHTS,
    PRIMING_SPREADS,
    Document,
    StyleRef,
)
from tcp_editor.services.images import EXPORT_PRESETS, ExportConfig  # noqa: E402


def test_the_editor_defaults_are_the_librarys():
    from tcp_core.base import constants

    assert DEFAULT_PRIMING_SPREAD == constants.DEFAULT_PRIMING_SPREAD == "detail"
    assert PRIMING_SPREADS == constants.PRIMING_SPREADS
    assert DEFAULT_DETAIL_GAIN == pytest.approx(constants.DEFAULT_DETAIL_GAIN) and DEFAULT_DETAIL_GAIN > 0
    assert 0 < MIN_DETAIL_GAIN <= DEFAULT_DETAIL_GAIN <= MAX_DETAIL_GAIN


@pytest.fixture
def doc(qtbot):
    d = Document(preview_long_side=128)
    rng = np.random.default_rng(0)
    d.set_photo((rng.random((60, 80, 3)) * 255).astype(np.uint8), "/tmp/x.jpg")
    return d


# the document -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,default,other,undo_text,error,bad", [
    ("priming_spread", "detail", "all", "Priming stretches", "priming spread must be one of all, detail",
     ("some", "", None, "Detail")),
    ("priming_highlights", "neutral", "plain", "Priming highlights", "priming highlights must be one of neutral, plain",
     ("keep", "", None, "Neutral", ["plain"], 1)),
])
def test_a_priming_choice_is_one_undo_step_and_reaches_the_render_state(doc, name, default, other, undo_text, error,
                                                                        bad):
    setter = getattr(doc, f"set_{name}")
    now = lambda: (getattr(doc, name), getattr(doc.render_state().export, name))  # noqa: E731 (one name in both)
    changed = []
    doc.settingsChanged.connect(lambda: changed.append(1))
    assert now() == (default, default)
    setter(other)
    assert now() == (other, other)
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == undo_text and changed
    setter(other)  # unchanged: no undo step
    assert doc.undo_stack.count() == 1
    for value in bad:
        with pytest.raises(ValueError, match=error):
            setter(value)
    assert getattr(doc, name) == other and doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert now() == (default, default)
    doc.undo_stack.redo()
    assert now() == (other, other)


def test_detail_gain_is_one_undo_step_and_reaches_the_render_state(doc):
    changed = []
    doc.settingsChanged.connect(lambda: changed.append(1))
    assert doc.detail_gain == DEFAULT_DETAIL_GAIN and doc.render_state().export.detail_gain == DEFAULT_DETAIL_GAIN
    doc.set_detail_gain(0)
    assert doc.detail_gain == 0.0 and isinstance(doc.detail_gain, float)
    assert doc.render_state().export.detail_gain is None  # the editor's 0.0 is the library's None: no cap
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Sky grain guard" and changed
    doc.set_detail_gain(2.5)
    assert doc.detail_gain == 2.5 and doc.undo_stack.count() == 2  # each change its own step (no merging)
    assert doc.render_state().export.detail_gain == 2.5
    doc.set_detail_gain(2.5)
    assert doc.undo_stack.count() == 2
    for bad in (-1, 0.5, MAX_DETAIL_GAIN + 0.01, math.nan, math.inf, True, "1.25", None, 10**400):
        with pytest.raises(ValueError, match="detail gain cap must be 0 .no cap. or a number between 1 and 4"):
            doc.set_detail_gain(bad)
    assert doc.detail_gain == 2.5 and doc.undo_stack.count() == 2
    doc.set_detail_gain(MIN_DETAIL_GAIN)
    doc.set_detail_gain(MAX_DETAIL_GAIN)  # the bounds themselves are allowed
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.detail_gain == 0.0
    doc.undo_stack.undo()
    assert doc.detail_gain == DEFAULT_DETAIL_GAIN and doc.render_state().export.detail_gain == DEFAULT_DETAIL_GAIN


def test_a_new_photo_starts_at_the_defaults(doc):
    doc.set_priming_spread("all")
    doc.set_detail_gain(0.0)
    doc.set_photo(doc.photo, "/tmp/y.jpg")
    assert doc.priming_spread == DEFAULT_PRIMING_SPREAD and doc.detail_gain == DEFAULT_DETAIL_GAIN
    assert doc.undo_stack.count() == 0
    assert Document().priming_spread == DEFAULT_PRIMING_SPREAD and Document().detail_gain == DEFAULT_DETAIL_GAIN


# projects ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("spread,gain", [("all", 0.0), ("all", 2.5), ("detail", 0.0)])
def test_project_round_trip_keeps_both(qtbot, doc, tmp_path, spread, gain):
    from tcp_editor.controls_panel import ControlsPanel

    doc.set_priming_spread(spread)
    doc.set_detail_gain(gain)
    path = str(tmp_path / "p.tcpproj")
    project.write(path, project.snapshot(doc))
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("project.json"))
    assert meta["priming_spread"] == spread and meta["detail_gain"] == gain and meta["version"] == 1
    snap = project.load(path)
    assert (snap.priming_spread, snap.detail_gain) == (spread, gain)
    other = Document(preview_long_side=128)
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_document(other)
    project.restore(other, snap, path)
    assert (other.priming_spread, other.detail_gain) == (spread, gain) and other.undo_stack.count() == 0
    state = other.render_state()
    assert (state.export.priming_spread, state.export.detail_gain) == (spread, gain or None)  # (0.0: no cap, None)
    assert panel.priming_spread.currentData() == spread and panel.detail_gain.currentData() == gain
    if gain not in (0.0, DEFAULT_DETAIL_GAIN):  # another cap than On's: shown as it is, not as On or Off
        assert panel.detail_gain.currentText() not in ("On", "Off") and "2.5" in panel.detail_gain.currentText()


def _project_file(tmp_path, **settings) -> str:
    """A minimal project file (one 12x8 photo, one empty region) whose project.json has `settings` added."""
    def png(a):
        b = io.BytesIO()
        Image.fromarray(a).save(b, format="PNG")
        return b.getvalue()

    meta = {"format": "tcpproj", "version": 1, "saved_at": 1.0,
            "photo": {"file": "photo.png", "width": 12, "height": 8},
            "regions": [{"name": "A", "strength": 0.5, "mask": "masks/0.png"}], **settings}
    p = tmp_path / "p.tcpproj"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("project.json", json.dumps(meta), compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("photo.png", png(np.zeros((8, 12, 3), np.uint8)))
        z.writestr("masks/0.png", png(np.zeros((8, 12), np.uint8)))
    return str(p)


def test_a_project_from_before_loads_the_old_behaviour(qtbot, tmp_path):
    """A project.json without the keys was saved when priming stretched all variation and nothing capped the detail
    gain: it loads so ("all", 0.0 = no cap) and renders as it did, not at today's defaults."""
    snap = project.load(_project_file(tmp_path))
    assert snap.priming_spread == "all" and snap.detail_gain == 0.0
    doc = Document(preview_long_side=128)
    project.restore(doc, snap, "p.tcpproj")
    assert doc.priming_spread == "all" and doc.detail_gain == 0.0
    assert doc.render_state().export.priming_spread == "all" and doc.render_state().export.detail_gain is None
    snap = project.load(_project_file(tmp_path, priming_spread="detail", detail_gain=2))  # (an integer gain too)
    assert snap.priming_spread == "detail" and snap.detail_gain == 2.0 and isinstance(snap.detail_gain, float)


@pytest.mark.parametrize("key,value", [
    ("priming_spread", "some"), ("priming_spread", "Detail"), ("priming_spread", None), ("priming_spread", ["all"]),
    ("detail_gain", -1), ("detail_gain", 0.5), ("detail_gain", MAX_DETAIL_GAIN + 1), ("detail_gain", math.nan),
    ("detail_gain", math.inf), ("detail_gain", 10**400), ("detail_gain", "1.25"), ("detail_gain", True),
    ("detail_gain", None)])
def test_bad_values_give_a_project_error_naming_the_key(tmp_path, key, value):
    path = _project_file(tmp_path, **{key: value})
    with pytest.raises(project.ProjectError, match="Cannot open the project") as e:
        project.load(path)
    msg = str(e.value)
    assert f"project.json: {key}" in msg and "\n" not in msg
    if key == "priming_spread":
        assert "priming_spread must be one of all, detail" in msg
    else:
        assert "must be 0 (off) or a number between 1 and 4" in msg


# the render path --------------------------------------------------------------------------------
def test_render_and_warm_up_pass_both_on(monkeypatch):
    """The document's spread and gain reach apply_regions in its ExportConfig (a gain of 0 as None: the library's no
    cap); the defaults are the library's; a document holding an unknown spread cannot build its config (ValueError
    naming the field) and render takes nothing but an ExportConfig; the warm-up primes its swaps with the spread
    (priming_options) and renders with both."""
    import tcp_core.editing.apply as core_apply
    from tcp_core.base import constants
    from tcp_editor.services.render import render, warm_steps

    seen = spy_apply_regions(monkeypatch)
    img, regions = _priming_scene()
    for spread, gain, want_gain in (("all", 0.0, None), ("detail", 2.0, 2.0), ("all", 1.5, 1.5)):
        render(InteriorFake(), img, regions, export=export_of(pre_transfer=100, priming_spread=spread,
                                                              detail_gain=gain))
        assert seen[-1].priming_spread == spread and seen[-1].detail_gain == want_gain
    render(InteriorFake(), img, regions, export=Document().export_config())
    assert seen[-1].priming_spread == constants.DEFAULT_PRIMING_SPREAD
    assert seen[-1].detail_gain == constants.DEFAULT_DETAIL_GAIN
    render(InteriorFake(), img, regions)  # (no config: the library's defaults)
    assert (seen[-1].priming_spread, seen[-1].detail_gain) == (constants.DEFAULT_PRIMING_SPREAD,
                                                               constants.DEFAULT_DETAIL_GAIN)
    bad = Document()
    bad.priming_spread = "some"  # (past the setter, which refuses it)
    with pytest.raises(ValueError, match="priming_spread must be one of"):
        bad.export_config()
    with pytest.raises(TypeError, match="export must be an ExportConfig"):
        render(InteriorFake(), img, regions, export={"priming_spread": "all"})

    spreads = []
    orig_options = core_apply.priming_options
    monkeypatch.setattr(core_apply, "priming_options",
                        lambda *a, **k: spreads.append((a + tuple(k.values()))[3]) or orig_options(*a, **k))
    steps = warm_steps(InteriorFake(), img, [regions[0].style], regions[0].mask, 1.0,
                       export=export_of(pre_transfer=80, priming_spread="all", detail_gain=0.0))
    for step in steps:
        step()
    assert spreads and set(spreads) == {"all"}  # the warm-up's primed swaps and its whole preview
    assert seen[-1].priming_spread == "all" and seen[-1].detail_gain is None


def test_the_spread_and_the_gain_change_the_pixels():
    """Not only passed on: with a region whose light shades slowly from left to right under a busy reference,
    stretching "all" variation gives another image than "detail"; the guard off gives another image than on."""
    from tcp_editor.services.render import render

    h, w = 64, 96
    x = np.linspace(0, 1, w)[None, :, None]
    img = np.clip(90 + 80 * x + np.random.default_rng(1).normal(0, 3, (h, w, 3)), 0, 255).astype(np.uint8)
    rng = np.random.default_rng(2)
    style = (rng.random((32, 32, 3)) * 255).astype(np.uint8)  # busy: a large spread
    mask = np.zeros((h, w), np.float32)
    mask[8:56, 8:88] = 1
    r = [RegionEdit(style, mask, 1.0)]
    out = {(s, g): render(InteriorFake(), img, r, export=export_of(pre_transfer=100, priming_spread=s, detail_gain=g))
           for s in PRIMING_SPREADS for g in (0.0, DEFAULT_DETAIL_GAIN)}
    assert not np.array_equal(out["all", 0.0], out["detail", 0.0])
    assert not np.array_equal(out["all", 0.0], out["all", DEFAULT_DETAIL_GAIN])


def _library(values: dict) -> dict:
    """Document settings (editor units) as ExportConfig fields: the detail gain cap 0.0 is None (no cap)."""
    return {k: (v or None) if k == "detail_gain" else v for k, v in values.items()}


def _worker_carries(qtbot, service, tmp_path, scene, settings: list[dict]) -> list[np.ndarray]:
    """For each dict of document settings (`set_<name>` on the Document; each name also an ExportConfig field): the
    preview (RenderJob from the document's RenderState), an ExportJob and the warm-up (submit_warm with the
    document's config) carry them to the worker in their ExportConfig, which renders with them as a config built
    directly with those values (`_library`) does. Returns each setting's rendering."""
    from tcp_editor.services.render import render
    from tcp_editor.services.requests import ExportJob

    with qtbot.waitSignal(service.signals.modelLoaded, timeout=5000):
        service.set_model(InteriorFake())
    img, regions = scene()
    r = regions[0]
    d = Document(preview_long_side=128)
    d.set_photo(img)
    d.add_region(mask=r.mask, style=StyleRef.from_array(r.style))
    d.set_pre_transfer(100)
    submitted = []
    orig_submit = service.worker.submit
    service.worker.submit = lambda job, channel: submitted.append(job) or orig_submit(job, channel)
    outs = []
    for i, values in enumerate(settings):
        for name, value in values.items():
            getattr(d, f"set_{name}")(value)
        fields = _library(values)
        carried = lambda job, keys=tuple(fields): {k: getattr(job.export, k) for k in keys}  # noqa: E731
        export = ExportConfig(priming=1.0, **fields)
        want = render(InteriorFake(), img, regions, export=export)
        outs.append(want)
        with qtbot.waitSignal(service.signals.result, timeout=WAIT_MS) as b:
            service.submit_render(d.render_state())
        assert carried(submitted[-1]) == fields
        np.testing.assert_array_equal(b.args[1], want)
        path = str(tmp_path / f"{i}.png")
        with qtbot.waitSignal(service.signals.exported, timeout=WAIT_MS):
            service.submit_export(ExportJob(img, path, [(r.style, r.mask, 1.0)], export=export))
        np.testing.assert_array_equal(np.asarray(Image.open(path).convert("RGB")), want)
        with qtbot.waitSignal(service.signals.warmed, timeout=WAIT_MS):
            service.submit_warm(img, [r.style], r.mask, 1.0, d.export_config())
        assert carried(submitted[-1]) == fields
    return outs


def test_the_worker_renders_warms_and_exports_with_the_documents_values(qtbot, service, tmp_path):
    """The preview, the warm-up and the export carry the spread and the gain to the worker and render with them."""
    _worker_carries(qtbot, service, tmp_path, _priming_scene,
                    [{"priming_spread": "all", "detail_gain": 0.0}, {"priming_spread": "detail", "detail_gain": 2.0}])

# the Transfer panel -----------------------------------------------------------------------------
def test_the_combos_edit_the_document_both_ways(qtbot, doc):
    """"Priming stretches" and "Sky grain guard": choosing an item is one undo step; undo / redo and changes from
    elsewhere move the combo without pushing anything; another gain than On's or Off's shows as an extra item,
    which goes away once the document no longer has that gain; disabled without a photo."""
    from tcp_editor.controls_panel import ControlsPanel

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_document(doc)
    spread, gain = panel.priming_spread, panel.detail_gain
    assert spread.objectName() == "primingSpread" and gain.objectName() == "skyGrainGuard"
    assert {spread.itemData(i): spread.itemText(i) for i in range(spread.count())} == {
        "detail": "Fine detail", "all": "All variation"}
    assert [(gain.itemText(i), gain.itemData(i)) for i in range(gain.count())] == [
        ("On", DEFAULT_DETAIL_GAIN), ("Off", 0.0)]
    assert spread.currentData() == "detail" and gain.currentText() == "On"
    assert "dark patch" in spread.toolTip() and "sensor noise as grain" in gain.toolTip()
    n = doc.undo_stack.count()
    spread.setCurrentIndex(spread.findData("all"))
    assert doc.priming_spread == "all" and doc.undo_stack.count() == n + 1
    gain.setCurrentIndex(gain.findText("Off"))
    assert doc.detail_gain == 0.0 and doc.undo_stack.count() == n + 2
    doc.undo_stack.undo()
    assert doc.detail_gain == DEFAULT_DETAIL_GAIN and gain.currentText() == "On"
    doc.undo_stack.undo()
    assert doc.priming_spread == "detail" and spread.currentData() == "detail"
    doc.undo_stack.redo()
    assert spread.currentData() == "all" and doc.undo_stack.count() == n + 2 and doc.undo_stack.index() == n + 1
    doc.set_detail_gain(3.0)  # a value from elsewhere (a project, a script): shown as it is
    assert gain.count() == 3 and gain.currentData() == 3.0 and "3" in gain.currentText()
    gain.setCurrentIndex(gain.findText("On"))
    assert doc.detail_gain == DEFAULT_DETAIL_GAIN and gain.count() == 2
    doc.undo_stack.undo()
    assert gain.currentData() == 3.0 and gain.count() == 3
    doc.set_photo(doc.photo, "/tmp/y.jpg")  # a new document: the defaults, in the combos too
    assert spread.currentData() == "detail" and gain.currentText() == "On" and gain.count() == 2
    empty = ControlsPanel()
    qtbot.addWidget(empty)
    empty.set_document(Document())
    assert not empty.priming_spread.isEnabled() and not empty.detail_gain.isEnabled()


# priming highlights (Document.priming_highlights: a fix, so no control; projects and the setter) ----------------
def test_the_highlights_defaults_are_the_librarys():
    from tcp_core.base import constants
    from tcp_editor.services import images

    assert DEFAULT_PRIMING_HIGHLIGHTS == images.DEFAULT_PRIMING_HIGHLIGHTS == constants.DEFAULT_PRIMING_HIGHLIGHTS
    assert DEFAULT_PRIMING_HIGHLIGHTS == "neutral"
    assert PRIMING_HIGHLIGHTS == images.PRIMING_HIGHLIGHTS == constants.PRIMING_HIGHLIGHTS == ("neutral", "plain")
    assert Document().priming_highlights == "neutral"


def test_a_new_photo_primes_highlights_neutral_again(doc):
    doc.set_priming_highlights("plain")
    doc.set_photo(doc.photo, "/tmp/y.jpg")
    assert doc.priming_highlights == DEFAULT_PRIMING_HIGHLIGHTS == "neutral" and doc.undo_stack.count() == 0
    assert doc.render_state().export.priming_highlights == "neutral"


def test_the_panel_has_no_highlights_control(qtbot, doc):
    """A fix, not a creative choice: nothing in the Transfer panel sets it, and a project's value survives the panel
    being synced to the document."""
    from PySide6.QtWidgets import QWidget

    from tcp_editor.controls_panel import ControlsPanel

    panel = ControlsPanel()
    qtbot.addWidget(panel)
    doc.set_priming_highlights("plain")
    panel.set_document(doc)
    names = [w.objectName().lower() for w in panel.findChildren(QWidget)]
    assert not any("highlight" in n for n in names) and not hasattr(panel, "priming_highlights")
    assert doc.priming_highlights == "plain"


@pytest.mark.parametrize("highlights", ["plain", "neutral"])
def test_project_round_trip_keeps_the_highlights(doc, tmp_path, highlights):
    doc.set_priming_highlights(highlights)
    path = str(tmp_path / "p.tcpproj")
    project.write(path, project.snapshot(doc))
    with zipfile.ZipFile(path) as z:
        meta = json.loads(z.read("project.json"))
    assert meta["priming_highlights"] == highlights
    snap = project.load(path)
    assert snap.priming_highlights == highlights
    other = Document(preview_long_side=128)
    if highlights == "plain":
        other.set_photo(doc.photo)  # (whatever it had before is replaced)
    else:
        other.priming_highlights = "plain"
    project.restore(other, snap, path)
    assert other.priming_highlights == highlights and other.undo_stack.count() == 0
    assert other.render_state().export.priming_highlights == highlights


def test_a_project_without_the_highlights_loads_plain(tmp_path):
    """A project.json without "priming_highlights" was saved when priming treated clipped highlights like any other
    pixel: it loads "plain" (not today's "neutral"), so it renders as it did."""
    snap = project.load(_project_file(tmp_path))
    assert snap.priming_highlights == "plain" != DEFAULT_PRIMING_HIGHLIGHTS
    doc = Document(preview_long_side=128)
    project.restore(doc, snap, "p.tcpproj")
    assert doc.priming_highlights == "plain" and doc.render_state().export.priming_highlights == "plain"
    assert project.load(_project_file(tmp_path, priming_highlights="neutral")).priming_highlights == "neutral"


@pytest.mark.parametrize("value", ["keep", "Neutral", "", None, ["plain"], 1, True])
def test_a_bad_highlights_value_gives_a_project_error_naming_the_key(tmp_path, value):
    with pytest.raises(project.ProjectError, match="Cannot open the project") as e:
        project.load(_project_file(tmp_path, priming_highlights=value))
    msg = str(e.value)
    assert "project.json: priming_highlights must be one of neutral, plain" in msg and "\n" not in msg


def _sun_scene():
    """A blue-grey sky (64x96) with a white, clipped sun in it, all one region, and a dark bluish storm reference:
    (photo, [RegionEdit])."""
    img = np.empty((64, 96, 3), np.uint8)
    img[...] = (150, 170, 200)
    yy, xx = np.mgrid[:64, :96]
    img[(yy - 24) ** 2 + (xx - 48) ** 2 <= 8 ** 2] = 255
    style = np.empty((32, 32, 3), np.uint8)
    style[...] = (70, 80, 100)
    style[::2] += 20  # some spread
    mask = np.zeros((64, 96), np.float32)
    mask[4:60, 8:88] = 1
    return img, [RegionEdit(style, mask, 1.0)]


def _spy_priming_options(monkeypatch) -> list[str]:
    """The `highlights` of every priming_options call (apply_regions' and the warm-up's)."""
    import inspect

    import tcp_core.editing.apply as core_apply

    seen = []
    orig = core_apply.priming_options
    sig = inspect.signature(orig)

    def spy(*a, **k):
        bound = sig.bind(*a, **k)
        bound.apply_defaults()
        seen.append(bound.arguments["highlights"])
        return orig(*a, **k)

    monkeypatch.setattr(core_apply, "priming_options", spy)
    return seen


def test_render_and_warm_up_pass_the_highlights_on(monkeypatch):
    """The document's priming_highlights reaches apply_regions in its ExportConfig (and so priming_options); the
    default is the library's; a document holding an unknown value cannot build its config; warm_steps plans its primed
    swaps with it (priming_options) and renders with it."""
    from tcp_core.base import constants
    from tcp_editor.services.render import render, warm_steps

    seen = spy_apply_regions(monkeypatch)
    options = _spy_priming_options(monkeypatch)
    img, regions = _sun_scene()
    for highlights in ("plain", "neutral", "plain"):
        options.clear()
        render(InteriorFake(), img, regions, export=export_of(pre_transfer=100, priming_highlights=highlights))
        assert seen[-1].priming_highlights == highlights and options == [highlights]
    render(InteriorFake(), img, regions, export=Document().export_config())
    assert seen[-1].priming_highlights == constants.DEFAULT_PRIMING_HIGHLIGHTS == "neutral"
    bad = Document()
    bad.priming_highlights = "keep"  # (past the setter, which refuses it)
    with pytest.raises(ValueError, match="priming_highlights must be one of"):
        bad.export_config()

    for highlights in PRIMING_HIGHLIGHTS:
        options.clear()
        n = len(seen)
        steps = warm_steps(InteriorFake(), img, [regions[0].style], regions[0].mask, 1.0,
                           export=export_of(pre_transfer=80, priming_highlights=highlights))
        assert options == [highlights] and len(seen) == n  # planned with it, before any step runs
        for step in steps:
            step()
        assert set(options) == {highlights}  # the warm-up's primed swaps and its whole preview
        assert len(seen) == n + 1 and seen[-1].priming_highlights == highlights


def test_the_highlights_change_the_pixels():
    """Not only passed on: a clipped sun in a region primed towards a storm reference comes out otherwise with
    "neutral" than with "plain"."""
    from tcp_editor.services.render import render

    img, regions = _sun_scene()
    out = {h: render(InteriorFake(), img, regions, export=export_of(pre_transfer=100, priming_highlights=h))
           for h in PRIMING_HIGHLIGHTS}
    assert not np.array_equal(out["neutral"], out["plain"])


def test_the_worker_renders_warms_and_exports_with_the_documents_highlights(qtbot, service, tmp_path):
    """The preview, the warm-up and the export carry priming_highlights to the worker, which renders with it."""
    plain, neutral = _worker_carries(qtbot, service, tmp_path, _sun_scene,
                                     [{"priming_highlights": "plain"}, {"priming_highlights": "neutral"}])
    assert not np.array_equal(plain, neutral)  # (the checks above can tell them apart)


def test_the_export_and_the_warm_up_pass_the_documents_highlights(qtbot, doc, tmp_path):
    """File > Export (FilesController.export_to) puts the document's priming_highlights into its ExportJob; the
    styles controller's warm-up passes it to submit_warm."""
    from tcp_editor.files_controller import FilesController
    from tcp_editor.styles_controller import StylesController

    class Service:
        def __init__(self):
            self.exports, self.warms = [], []

        def submit_export(self, job):
            self.exports.append(job)
            return len(self.exports)

        def submit_warm(self, *a, **k):
            self.warms.append((a, k))
            return len(self.warms)

    class Feedback:
        window = None

        def status(self, *a, **k):
            pass

        def error(self, *a, **k):
            raise AssertionError(a)

    svc = Service()
    files = FilesController(doc, svc, None, Feedback(), 10**8)
    doc.add_region(mask=np.ones(doc.preview.shape[:2], np.float32),
                   style=StyleRef.from_array(np.zeros((16, 16, 3), np.uint8)))
    for highlights in ("plain", "neutral"):
        doc.set_priming_highlights(highlights)
        assert files.export_to(str(tmp_path / f"{highlights}.png")) is not None
        assert svc.exports[-1].export.priming_highlights == highlights
    doc.set_priming_highlights("plain")
    empty = Document()  # no photo yet: the warm-up runs on a stand-in
    empty.priming_highlights = "plain"
    for d in (doc, empty):
        styles = StylesController(d, svc, None, Feedback(), None, 10**8)
        styles.warm_styles = lambda: []  # (no gallery here)
        assert styles.request_warm() is not None
        assert warm_export(*svc.warms[-1]).priming_highlights == "plain"


# Edit > Update Priming to Current Defaults ("update process version") --------------------------------------------
OLD_PRIMING = {"priming_spread": "all", "detail_gain": 0.0, "priming_highlights": "plain"}  # a project from before
CURRENT_PRIMING = {"priming_spread": DEFAULT_PRIMING_SPREAD, "detail_gain": DEFAULT_DETAIL_GAIN,
                   "priming_highlights": DEFAULT_PRIMING_HIGHLIGHTS}


def _priming(d) -> dict:
    return {k: getattr(d, k) for k in OLD_PRIMING}


def _make_old(d) -> None:
    d.set_priming_spread(OLD_PRIMING["priming_spread"])
    d.set_detail_gain(OLD_PRIMING["detail_gain"])
    d.set_priming_highlights(OLD_PRIMING["priming_highlights"])


def test_update_priming_defaults_is_one_undo_step_and_undo_restores_all_three(doc):
    assert all(OLD_PRIMING[k] != v for k, v in CURRENT_PRIMING.items())  # (the test can tell old from current)
    assert doc.priming_is_current() and _priming(doc) == CURRENT_PRIMING
    assert doc.update_priming_defaults() is False and doc.undo_stack.count() == 0  # already current: no step
    _make_old(doc)
    doc.undo_stack.clear()  # (as a project from before opens: no undo history)
    assert not doc.priming_is_current()
    changed = []
    doc.settingsChanged.connect(lambda: changed.append(1))
    assert doc.update_priming_defaults() is True
    assert _priming(doc) == CURRENT_PRIMING and doc.priming_is_current() and isinstance(doc.detail_gain, float)
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Update priming" and len(changed) == 1
    state = doc.render_state()
    got = (state.export.priming_spread, state.export.detail_gain, state.export.priming_highlights)
    assert got == tuple(CURRENT_PRIMING.values())  # (today's gain is a cap: the same number in the library)
    assert doc.update_priming_defaults() is False and doc.undo_stack.count() == 1 and len(changed) == 1
    doc.undo_stack.undo()
    assert _priming(doc) == OLD_PRIMING and not doc.priming_is_current() and len(changed) == 2
    doc.undo_stack.redo()
    assert _priming(doc) == CURRENT_PRIMING and doc.priming_is_current()


@pytest.mark.parametrize("key", list(OLD_PRIMING))
def test_any_one_old_setting_makes_the_priming_not_current(doc, key):
    other = {"priming_spread": doc.set_priming_spread, "detail_gain": doc.set_detail_gain,
             "priming_highlights": doc.set_priming_highlights}
    other[key](OLD_PRIMING[key])
    assert not doc.priming_is_current()
    assert doc.update_priming_defaults() is True and doc.undo_stack.count() == 2
    assert _priming(doc) == CURRENT_PRIMING and doc.priming_is_current()
    doc.undo_stack.undo()
    assert getattr(doc, key) == OLD_PRIMING[key] and not doc.priming_is_current()


def test_the_priming_defaults_are_the_export_presets(qtbot, tmp_path):
    """The Document's current priming defaults and what a project without the keys loads are the library's
    EXPORT_PRESETS "current" and "legacy" in the editor's units (the detail gain cap None as 0.0); a new document
    renders with the current preset, and an old project's three priming settings reach its config as the legacy
    preset's."""
    from tcp_editor import document

    assert dict(document.CURRENT_PRIMING) == CURRENT_PRIMING and dict(document.LEGACY_PRIMING) == OLD_PRIMING
    assert Document().export_config() == EXPORT_PRESETS["current"].replace(smoothing=float(document.DEFAULT_SMOOTHING))
    old = Document(preview_long_side=128)
    project.restore(old, project.load(_project_file(tmp_path)), "p.tcpproj")
    got, legacy = old.export_config(), EXPORT_PRESETS["legacy"]
    assert [getattr(got, k) for k in OLD_PRIMING] == [getattr(legacy, k) for k in OLD_PRIMING] == ["all", None, "plain"]


@pytest.fixture
def win(qtbot, tmp_path, service, monkeypatch):
    """The real window on a service with no model (its requests wait; nothing renders), dialogs recorded."""
    from PySide6.QtCore import QSettings
    from test_gui_editor import DialogRecorder

    from tcp_editor.main_window import MainWindow

    w = MainWindow(service=service, settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
                   autosave_dir=str(tmp_path / "autosave"), autosave_interval_s=3600, preview_long_side=128)
    w.dialogs = DialogRecorder(monkeypatch)
    qtbot.addWidget(w)
    yield w
    w.doc.undo_stack.setClean()
    w.close()


UPDATE_TEXT = "Update Priming to Current Defaults"


def _edit_menu_actions(w) -> list:
    menu = next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == "Edit")
    return menu.actions()


def test_the_update_priming_action_follows_the_document(qtbot, win, tmp_path):
    a = win.action_map["update_priming"]
    assert a in _edit_menu_actions(win) and a.text().replace("&", "") == UPDATE_TEXT
    assert a.statusTip() == ("This project keeps the colour priming it was saved with. Update it to the current "
                             "defaults (fine-detail stretching, sky grain guard, neutral highlights).")
    assert not a.isEnabled()  # no photo
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((40, 60, 3), 120, np.uint8)).save(photo)
    assert win.open_path(str(photo))
    assert not a.isEnabled()  # a new photo starts at the defaults
    win.doc.set_priming_highlights("plain")  # any one of the three
    assert a.isEnabled()
    win.doc.undo_stack.undo()
    assert not a.isEnabled()
    _make_old(win.doc)
    assert a.isEnabled()
    steps = win.doc.undo_stack.count()
    a.trigger()
    assert not a.isEnabled() and _priming(win.doc) == CURRENT_PRIMING
    assert win.doc.undo_stack.count() == steps + 1 and win.doc.undo_stack.undoText() == "Update priming"
    win.action_map["undo"].trigger()
    assert a.isEnabled() and _priming(win.doc) == OLD_PRIMING
    win.action_map["redo"].trigger()
    assert not a.isEnabled() and _priming(win.doc) == CURRENT_PRIMING
    assert not win.dialogs.errors


def test_opening_an_old_project_says_so_and_enables_the_action(qtbot, win, tmp_path):
    """A project file without the three keys opens with the priming it was saved with; one status-bar message tells
    the user how to bring the current one, and the action is enabled. A current project says nothing of it."""
    a = win.action_map["update_priming"]
    path = _project_file(tmp_path)
    assert win.open_path(path), win.dialogs.errors
    assert _priming(win.doc) == OLD_PRIMING and a.isEnabled()
    msg = win.statusBar().currentMessage()
    assert "keeps the colour priming it was saved with" in msg and f"Edit > {UPDATE_TEXT}" in msg
    assert [n for n in win.feedback.notices if UPDATE_TEXT in n] == [msg]  # one message
    a.trigger()
    assert _priming(win.doc) == CURRENT_PRIMING and not a.isEnabled()
    assert win.files.save_project(path)
    assert win.open_path(path), win.dialogs.errors  # saved with the current priming: nothing to say
    assert _priming(win.doc) == CURRENT_PRIMING and not a.isEnabled()
    assert win.statusBar().currentMessage() == "Opened project p.tcpproj."
    assert len([n for n in win.feedback.notices if UPDATE_TEXT in n]) == 1
