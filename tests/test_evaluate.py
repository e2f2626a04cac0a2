"""End-to-end evaluation (`tcp-editor eval`) on a tiny random model, plus its building blocks."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from tcp_core.editing.export_config import ExportConfig
from tcp_core.eval import cli as eval_cli
from tcp_core.eval import evaluate as ev
from tcp_core.eval import report as eval_report
from tcp_core.eval.metrics import PSNR_CAP
from tcp_core.eval.metrics import backbones as bbmod


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Small CNN passes gain nothing from threads, and on a busy CI box (other jobs on the same
    # cores) oversubscribed OpenMP threads make them ~10x slower.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _mobilenet_installed() -> bool:
    try:
        bbmod.packaged_mobilenet_path()
        return True
    except bbmod.BackboneUnavailable:
        return False


needs_mnv2 = pytest.mark.skipif(not _mobilenet_installed(),
                                reason=f"mobilenet_v2 weights not installed: {bbmod.INSTALL_HINT}")


def _photo(seed: int, h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.zeros((h, w, 3))
    for c in range(3):
        for _ in range(3):
            out[:, :, c] += rng.uniform(20, 50) * np.sin(rng.uniform(0.02, 0.15) * xx
                                                         + rng.uniform(0.02, 0.15) * yy + rng.uniform(0, 6))
        out[:, :, c] += rng.uniform(70, 180)
    out += rng.normal(0, 4, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def _write_pairs(tmp_path, bad_rows: bool = True):
    d = tmp_path / "data"
    (d / "masks").mkdir(parents=True)
    lines = ["content,style,mask"]
    for i in range(3):
        h, w = (72, 108) if i != 1 else (100, 76)
        Image.fromarray(_photo(i, h, w)).save(d / f"c{i}.png")
        Image.fromarray(_photo(10 + i, 60, 80)).save(d / f"s{i}.jpg", quality=95)
        m = np.zeros((h // 2, w // 2), np.uint8)  # half size: resized to the content by the loader
        m[h // 8: h // 3, w // 8: w // 3] = 255
        cv2.circle(m, (w // 3, h // 4), max(3, h // 10), 255, -1)
        Image.fromarray(m, mode="L").save(d / "masks" / f"m{i}.png")
        lines.append(f"c{i}.png,s{i}.jpg,masks/m{i}.png")
    if bad_rows:
        (d / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not really a png")
        lines.append("missing.png,s0.jpg,masks/m0.png")
        lines.append("corrupt.png,s0.jpg,masks/m0.png")
        lines.append("c0.png,,masks/m0.png")
    csv = d / "pairs.csv"
    csv.write_text("\n".join(lines) + "\n")
    return csv


@needs_mnv2
def test_eval_end_to_end_tiny_model(tmp_path, capsys):
    csv = _write_pairs(tmp_path)
    out = tmp_path / "out"
    rc = eval_cli.main(["eval", "--pairs", str(csv), "--weights", "random:tiny:0",
                  "--baseline-weights", "random:tiny:1", "--out", str(out), "--device", "cpu",
                  "--size", "64", "--ssd-locations", "128", "--threads", "1", "-q"])
    assert rc == 0, capsys.readouterr().err
    rep = json.loads((out / "report.json").read_text())
    assert rep["pairs"] == 3
    assert rep["backbone"] == "mobilenet_v2-imagenet"
    assert rep["metric_labels"]["fid"] == "FID-mnv2"
    # the 3 bad rows are reported, not fatal
    assert sorted(s["line"] for s in rep["skipped"]) == [5, 6, 7]
    assert any("empty column" in s["error"] for s in rep["skipped"])
    assert not rep["errors"]
    methods = rep["methods"]
    expected = {"tcp", "pixel", "swapae", "reinhard", "identity"}
    assert expected <= set(methods)
    assert set(methods) | set(rep["unavailable"]) == set(ev.ALL_METHODS)
    for name, vals in methods.items():
        assert set(ev.METRICS) <= set(vals), name
        assert vals["n"] == 3
        for k in ev.METRICS:
            assert vals[k] is None or math.isfinite(vals[k])
    ident = methods["identity"]
    assert ident["ssim"] == pytest.approx(1.0, abs=1e-9)
    assert ident["rmse"] == 0.0
    assert ident["psnr"] == PSNR_CAP and ident["bg_psnr"] == PSNR_CAP
    assert ident["ssd"] == pytest.approx(0.0, abs=1e-9)
    assert ident["sifid_content"] == pytest.approx(0.0, abs=1e-5)
    assert ident["fid"] == pytest.approx(0.0, abs=1e-3)
    assert ident["seam"] == 0.0 and ident["seam_flat"] in (0.0, None)
    # Eq. 4 pixel compositing and Reinhard never touch the background
    assert methods["pixel"]["bg_psnr"] == PSNR_CAP and methods["reinhard"]["bg_psnr"] == PSNR_CAP
    # Reinhard moves colour statistics towards the style: less like the content than identity
    assert methods["reinhard"]["rmse"] > 0
    assert len(rep["per_pair"]) == 3

    md = (out / "report.md").read_text()
    assert "| method |" in md and "SSIM ↑" in md and "RMSE ↓" in md and "FID-mnv2 ↓" in md
    assert "| identity |" in md and "100 (cap)" in md
    sheet = np.asarray(Image.open(out / "contact_sheet.png"))
    ncol = 3 + len(methods)
    assert sheet.shape[1] == ncol * (eval_report.THUMB + 4) + 4
    assert sheet.shape[0] == 18 + 3 * (eval_report.THUMB + 4) + 4


@needs_mnv2
def test_eval_library_call_subset_and_explicit_errors(tmp_path, tiny_model):
    csv = _write_pairs(tmp_path, bad_rows=False)
    model = tiny_model
    res = ev.evaluate(csv, model, tmp_path / "o", methods=["identity", "reinhard"], size=48, ssd_locations=64)
    assert list(res.report["methods"]) == ["identity", "reinhard"]
    assert res.report["final_smoothing"] == 6  # the export path's default colour smoothing, recorded
    # tcp_final follows the requested colour smoothing
    finals = [ev.evaluate(csv, model, tmp_path / f"s{s}", methods=["tcp_final"], size=48, ssd_locations=64,
                          export=ExportConfig(smoothing=s)) for s in (0, 32)]
    assert [f.report["final_smoothing"] for f in finals] == [0, 32]
    assert finals[0].report["methods"]["tcp_final"]["ssim"] != finals[1].report["methods"]["tcp_final"]["ssim"]
    assert res.report["unavailable"] == {}
    assert res.files["sheet"].is_file()
    with pytest.raises(ev.EvalError, match="baseline"):
        ev.evaluate(csv, model, tmp_path / "o2", methods=["swapae"], size=48)
    with pytest.raises(ev.EvalError, match="unknown method"):
        ev.evaluate(csv, model, tmp_path / "o3", methods=["magic"], size=48)


def test_cli_errors_are_clean(tmp_path, capsys):
    rc = eval_cli.main(["--pairs", str(tmp_path / "nope.csv"), "--weights", "random:tiny",
                  "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "pairs file not found" in capsys.readouterr().err
    rc = eval_cli.main(["--pairs", str(tmp_path / "nope.csv"), "--weights", "random:tiny",
                  "--out", str(tmp_path / "o"), "--threads", "zero"])
    assert rc == 2 and "--threads" in capsys.readouterr().err
    assert 1 <= eval_cli.auto_threads() <= torch.get_num_threads()
    csv = _write_pairs(tmp_path, bad_rows=False)
    rc = eval_cli.main(["--pairs", str(csv), "--weights", "random:tiny", "--out", str(tmp_path / "o"),
                  "--final-smoothing", "40"])
    assert rc == 2 and "--final-smoothing must be between 0 and 32" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ev.EvalError, match="content,style,mask"):
        ev.read_pairs(bad)


def test_read_pairs_resolves_relative_paths(tmp_path):
    sub = tmp_path / "set"
    sub.mkdir()
    text = "\ufeffContent, Style ,mask\na.png,b.png,m/c.png\n\n# comment,,\n/abs/x.png,y.png,z.png\n"
    (sub / "p.csv").write_text(text)
    rows, problems = ev.read_pairs(sub / "p.csv")
    assert not problems
    assert [r.line for r in rows] == [2, 5]
    assert rows[0].content == sub.resolve() / "a.png" and rows[0].mask == sub.resolve() / "m" / "c.png"
    assert str(rows[1].content) == "/abs/x.png"


def test_reinhard_and_pixel_composite():
    content = _photo(1, 40, 50)
    style = np.zeros((30, 30, 3), np.uint8)
    style[:] = (200, 40, 40)
    style[::2] = (150, 20, 60)
    mask = np.zeros((40, 50), np.float32)
    mask[10:30, 10:40] = 1.0
    out = ev.reinhard_transfer(content, style, mask)
    inside = mask > 0.5
    assert np.array_equal(out[~inside], content[~inside])
    lab = lambda x: cv2.cvtColor(x.astype(np.float32) / 255, cv2.COLOR_RGB2LAB).reshape(-1, 3)  # noqa: E731
    mu_out = lab(out[inside][None]).mean(0)
    mu_style = lab(style).mean(0)
    np.testing.assert_allclose(mu_out, mu_style, atol=2.5)
    # an empty mask changes nothing
    assert np.array_equal(ev.reinhard_transfer(content, style, np.zeros_like(mask)), content)
    swapped = np.full_like(content, 7)
    comp = ev.pixel_composite(content, swapped, mask * 0.9)  # soft masks are binarised at 0.5
    assert (comp[inside] == 7).all() and np.array_equal(comp[~inside], content[~inside])


def test_resize_long_side():
    img = np.zeros((300, 150, 3), np.uint8)
    assert ev.resize_long_side(img, 256).shape == (256, 128, 3)
    assert ev.resize_long_side(np.zeros((20, 40, 3), np.uint8), 64).shape == (32, 64, 3)


def test_eval_style_part_auto_takes_the_matched_part(tmp_path, tiny_model):
    csv = _write_pairs(tmp_path, bad_rows=False)
    runs = {part: ev.evaluate(csv, tiny_model, tmp_path / part, methods=["tcp", "tcp_final"], size=48,
                              ssd_locations=64, style_part=part) for part in ("whole", "auto")}
    assert [runs[p].report["style_part"] for p in ("whole", "auto")] == ["whole", "auto"]
    assert runs["auto"].report["methods"]["tcp"]["rmse"] != runs["whole"].report["methods"]["tcp"]["rmse"]
    assert "matches its region" in (tmp_path / "auto" / "report.md").read_text()
    with pytest.raises(ev.EvalError, match="style-part"):
        ev.evaluate(csv, tiny_model, tmp_path / "bad", methods=["tcp"], size=48, style_part="sky")


def test_eval_final_interior_changes_only_the_export_method(tmp_path, tiny_model):
    csv = _write_pairs(tmp_path, bad_rows=False)
    runs = {m: ev.evaluate(csv, tiny_model, tmp_path / m, methods=["tcp", "tcp_final"], size=48,
                           ssd_locations=64, export=ExportConfig(interior=m)) for m in ("off", "guided")}
    assert [runs[m].report["final_interior"] for m in ("off", "guided")] == ["off", "guided"]
    assert runs["off"].report["methods"]["tcp"]["rmse"] == runs["guided"].report["methods"]["tcp"]["rmse"]
    assert runs["off"].report["methods"]["tcp_final"]["rmse"] != runs["guided"].report["methods"]["tcp_final"]["rmse"]
    assert "interior guided" in (tmp_path / "guided" / "report.md").read_text()


def test_eval_strength_reaches_every_network_method_and_is_range_checked(tmp_path, tiny_model):
    """--strength: the network methods edit at that strength (past 1 too), the report says so, and
    Reinhard (no network) is unchanged."""
    from tcp_core.base.constants import MAX_STRENGTH

    csv = _write_pairs(tmp_path, bad_rows=False)
    runs = {s: ev.evaluate(csv, tiny_model, tmp_path / f"s{s}", methods=["tcp", "tcp_final", "pixel", "reinhard"],
                           size=48, ssd_locations=64, strength=s) for s in (0.0, 1.0, 1.4)}
    m = {s: runs[s].report["methods"] for s in runs}
    assert [runs[s].report["strength"] for s in runs] == [0.0, 1.0, 1.4]
    for method in ("tcp", "tcp_final", "pixel"):
        assert m[1.0][method]["rmse"] != m[1.4][method]["rmse"], method
    assert m[0.0]["tcp_final"]["rmse"] < 1.0  # strength 0: the export is the photo
    assert m[1.0]["reinhard"]["rmse"] == m[1.4]["reinhard"]["rmse"]
    assert "strength 1.4" in (tmp_path / "s1.4" / "report.md").read_text()
    assert "strength" not in (tmp_path / "s1.0" / "report.md").read_text().split("\n")[2]
    with pytest.raises(ev.EvalError, match="strength"):
        ev.evaluate(csv, tiny_model, tmp_path / "bad", methods=["tcp"], size=48, strength=MAX_STRENGTH + 0.1)
