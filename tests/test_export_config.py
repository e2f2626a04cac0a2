"""`ExportConfig`: the export's settings in one frozen, validated object that the command lines, the evaluation
and the editor hand to `apply_regions`."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from test_apply import FakeModel, photo_of, textured

from tcp_core.base import constants as C
from tcp_core.editing import apply as apply_mod
from tcp_core.editing.export_config import EXPORT_PRESETS, ExportConfig, ExportSettingError
from tcp_core.editing.regions import RegionEdit
from tcp_core.eval import cli as eval_cli
from tcp_core.eval import evaluate as ev
from tcp_core.eval.report import BETTER, markdown, metric_labels


def test_the_defaults_are_the_librarys_constants():
    cfg = ExportConfig()
    assert (cfg.priming, cfg.priming_cap, cfg.priming_profile, cfg.priming_spread, cfg.priming_highlights) == (
        C.DEFAULT_PRE_TRANSFER, C.DEFAULT_PRIMING_CAP, C.DEFAULT_PRIMING_PROFILE, C.DEFAULT_PRIMING_SPREAD,
        C.DEFAULT_PRIMING_HIGHLIGHTS)
    assert (cfg.interior, cfg.edge, cfg.detail_gain, cfg.smoothing, cfg.priming_part) == (
        C.DEFAULT_INTERIOR_MODE, C.DEFAULT_FEATHER_EDGE, C.DEFAULT_DETAIL_GAIN, None, "place")
    assert EXPORT_PRESETS["current"] == cfg
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.priming = 0.5  # type: ignore[misc]


@pytest.mark.parametrize("field, bad", [
    ("priming", 1.2), ("priming", -0.1), ("priming", float("nan")), ("priming", True), ("priming", "0.5"),
    ("priming_cap", 0.0), ("priming_cap", -1.0), ("priming_cap", float("inf")),
    ("priming_profile", "cols"), ("priming_spread", "coarse"), ("priming_highlights", "white"),
    ("priming_part", "sky"), ("interior", "wide"), ("edge", "outside"), ("guided_feather", 1),
    ("smoothing", C.MAX_SMOOTHING + 1), ("smoothing", -1), ("detail_gain", 0.0), ("detail_gain", -1.0),
])
def test_a_bad_setting_is_refused_by_name(field, bad):
    with pytest.raises(ExportSettingError) as e:
        ExportConfig(**{field: bad})
    assert e.value.field == field and str(e.value).startswith(field) and isinstance(e.value, ValueError)
    with pytest.raises(ExportSettingError):
        ExportConfig().replace(**{field: bad})  # a copy is checked too


def test_every_choice_and_edge_value_is_accepted():
    for field, choices in (("priming_profile", C.PRIMING_PROFILES), ("priming_spread", C.PRIMING_SPREADS),
                           ("priming_highlights", C.PRIMING_HIGHLIGHTS), ("priming_part", C.PRIMING_PARTS),
                           ("interior", C.INTERIOR_MODES), ("edge", C.FEATHER_EDGES)):
        for value in choices:
            assert getattr(ExportConfig(**{field: value}), field) == value
    ExportConfig(priming=0, priming_cap=None, detail_gain=None, smoothing=0)
    ExportConfig(priming=1.0, smoothing=C.MAX_SMOOTHING, detail_gain=0.5)
    assert ExportConfig(edge="inside").inside and not ExportConfig().inside
    assert not ExportConfig(interior="off").swap_interior and ExportConfig(interior="fixed").swap_interior


def test_records_round_trip_and_unknown_keys_are_refused():
    cfg = ExportConfig(priming=0.3, priming_cap=None, priming_spread="all", edge="inside", smoothing=12,
                       detail_gain=None)
    assert ExportConfig.from_dict(cfg.to_dict()) == cfg
    assert ExportConfig.from_dict({"priming": 0.3}) == ExportConfig(priming=0.3)  # absent fields: defaults
    with pytest.raises(ExportSettingError, match="bogus"):
        ExportConfig.from_dict({"bogus": 1})


def test_the_legacy_preset_differs_from_today_in_the_three_later_settings():
    current, legacy = EXPORT_PRESETS["current"].to_dict(), EXPORT_PRESETS["legacy"].to_dict()
    assert {k for k in current if current[k] != legacy[k]} == {"priming_spread", "detail_gain", "priming_highlights"}
    assert (legacy["priming_spread"], legacy["detail_gain"], legacy["priming_highlights"]) == ("all", None, "plain")


def test_apply_regions_takes_only_a_config():
    rgb = textured(40, 40, seed=1)
    mask = np.zeros((40, 40), np.float32)
    mask[10:30, 10:30] = 1
    with pytest.raises(TypeError, match="ExportConfig"):
        apply_regions = apply_mod.apply_regions
        apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(rgb, mask, 1.0)], {"priming": 0.5})
    with pytest.raises(TypeError):  # the old keywords are gone
        apply_mod.apply_regions(FakeModel(), photo_of(rgb), [RegionEdit(rgb, mask, 1.0)], pre_transfer=0.5)


def test_the_evaluations_export_method_renders_with_its_config(monkeypatch):
    seen = []

    def fake_apply(model, photo, regions, config=None, **kw):
        seen.append(config)
        return np.asarray(photo)

    monkeypatch.setattr(apply_mod, "apply_regions", fake_apply)
    cfg = ExportConfig(priming=0.4, priming_spread="all", detail_gain=None, interior="fixed", edge="inside")
    fns, _ = ev.build_methods(FakeModel(), None, ["tcp_final"], export=cfg)
    img = textured(32, 32)
    fns["tcp_final"](SimpleNamespace(content=img, style=img, mask=np.ones((32, 32), np.float32)))
    fns, _ = ev.build_methods(FakeModel(), None, ["tcp_final"])
    fns["tcp_final"](SimpleNamespace(content=img, style=img, mask=np.ones((32, 32), np.float32)))
    assert seen == [cfg, ExportConfig()]


def test_the_report_records_and_names_the_export_settings():
    cfg = ExportConfig(priming=0.4, priming_cap=None, priming_part="auto", smoothing=3, detail_gain=None,
                       edge="inside", guided_feather=False)
    rec = ev._export_record(cfg)
    assert rec["pre_transfer"] == 0.4 and rec["priming_cap"] is None and rec["final_smoothing"] == 3
    assert rec["final_inside"] is True and rec["final_guided_feather"] is False and rec["priming_part"] == "auto"
    assert rec["detail_gain"] is None and rec["final_interior"] == cfg.interior
    head = markdown({"pairs": 1, "size": 64, "model": "m", "backbone": "b", "methods": {},
                     "metric_labels": metric_labels("mnv2"), "better": dict(BETTER), **rec}).split("\n")[2]
    for words in ("colour smoothing 3", "colour priming 0.4", "priming part auto", "feathered inside the mask",
                  "plain feather"):
        assert words in head
    assert "spread cap" not in head and "detail gain cap" not in head


@pytest.mark.parametrize("flag, value", [("--pre-transfer", "1.5"), ("--priming-cap", "-1"),
                                         ("--detail-gain", "-1"), ("--final-smoothing", "40")])
def test_the_eval_command_names_the_flag_of_a_bad_export_setting(flag, value, tmp_path, capsys):
    rc = eval_cli.main(["--pairs", str(tmp_path / "none.csv"), "--weights", "random:tiny", "--out",
                        str(tmp_path / "o"), flag, value])
    err = capsys.readouterr().err
    assert rc == 2 and f"{flag} must be" in err and not (tmp_path / "o").exists()


def test_the_eval_command_builds_the_config_of_its_flags():
    args = eval_cli.build_parser().parse_args(
        ["--pairs", "p.csv", "--weights", "w", "--out", "o", "--pre-transfer", "0.5", "--priming-cap", "0",
         "--detail-gain", "0", "--final-inside", "--final-plain-feather", "--final-interior", "off",
         "--priming-spread", "all", "--final-smoothing", "4"])
    assert eval_cli.export_config(args) == ExportConfig(
        priming=0.5, priming_cap=None, detail_gain=None, edge="inside", guided_feather=False, interior="off",
        priming_spread="all", smoothing=4)


def test_the_apply_command_builds_the_config_of_its_flags():
    from tcp_core.editing import cli as apply_cli

    parse = apply_cli._build_parser().parse_args
    args = parse(["apply", "p.jpg", "--style", "s.jpg", "-o", "o.png"])
    assert apply_cli.export_config(args) == ExportConfig()  # the flags' defaults are today's export
    args = parse(["apply", "p.jpg", "--style", "s.jpg", "-o", "o.png", "--inside", "--plain-feather",
                  "--no-swap-interior", "--priming-cap", "0", "--detail-gain", "0", "--priming-part", "auto",
                  "--priming-highlights", "plain", "--smoothing", "9"])
    assert apply_cli.export_config(args) == ExportConfig(
        edge="inside", guided_feather=False, interior="off", priming_cap=None, detail_gain=None, priming_part="auto",
        priming_highlights="plain", smoothing=9)
    args = parse(["apply", "p.jpg", "--style", "s.jpg", "-o", "o.png", "--interior-ramp", "fixed"])
    assert apply_cli.export_config(args).interior == "fixed"
