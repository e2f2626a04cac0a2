"""Hardening: the bad-input corpus through every entry point, bad model files through the CLI and
the GUI, and SIGKILL during autosave and export.

Entry points: `tcp-editor apply` (tcp_editor.cli.main, with a tiny weights file), `--train`
(tcp_core.training.cli.main, tiny preset, 2 steps), `eval` (tcp_core.eval.evaluate.main), and the GUI's
open / import-mask / choose-style / load-weights actions (dialogs monkeypatched).

Contract checked everywhere: a correct result or a clear message (CLI: exit code 2 and one line on
stderr, no traceback; GUI: one error dialog, the document and the model unchanged); nothing
crashes or hangs (every test runs under a SIGALRM guard, subprocesses under timeouts); nothing
partial is left under a final name, and a failed command leaves no temporary file behind.

The corpus is tests/data/bad (tests/data/make_bad_corpus.py); files whose names are the point
(a non-UTF-8 name) and larger variants of awkward images (for training, which skips images under
32 px) are made here in temp folders.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from tcp_core.io.imageio import ImageLoadError, load_image
from tcp_core.networks.checkpoint import CheckpointError
from tcp_editor.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"
STYLE = ROOT / "resources" / "styles" / "dune.jpg"
HANG_S = 300  # per test: far above the normal run time, so only a real hang trips it
NON_UTF8_OK = sys.platform.startswith("linux")  # macOS/Windows file systems refuse such names

# name -> None (valid: a result is expected) or words the error message must contain
CONTENT_CASES: dict[str, tuple[str, ...] | None] = {
    "truncated.jpg": ("truncated or corrupt",),
    "truncated.png": ("truncated or corrupt",),
    "zero_bytes.jpg": ("empty", "0 bytes"),
    "text_named.jpg": ("not an image",),
    "garbage_after_signature.png": ("not an image",),
    "bomb_40k.png": ("megapixels", "decompression bomb"),
    "bomb_200k.png": ("megapixels",),
    "gray16.png": None,
    "rgb16.png": None,
    "cmyk.jpg": None,
    "animated.gif": None,
    "animated.webp": None,
    "palette_transparent.png": None,
    "exif_rotated.jpg": None,
    "one_pixel.png": None,
    "ok_rgb.png": None,
}
BAD_FILES = [n for n, v in CONTENT_CASES.items() if v is not None]


# ---------------------------------------------------------------------------------------------
# guards and helpers


@pytest.fixture(autouse=True)
def _hang_guard(request):
    """Fail (instead of hanging CI) when a test runs far longer than it should."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def boom(signum, frame):
        raise TimeoutError(f"{request.node.name} ran for more than {HANG_S} s: a hang?")

    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def _keep_torch_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def leftovers(folder: Path) -> list[str]:
    """Temp/partial files (hidden names, .part, .tmp) anywhere under `folder`."""
    out = []
    for root, _dirs, files in os.walk(folder):
        for f in files:
            if f.startswith(".") or f.endswith((".part", ".tmp")):
                out.append(os.path.join(root, f))
    return out


def err_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def assert_one_line_error(err: str, words: tuple[str, ...] = ()) -> None:
    lines = err_lines(err)
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert "Traceback" not in err
    low = lines[0].lower()
    assert "error" in low, lines[0]
    for w in words:
        assert w.lower() in low, f"{w!r} not in {lines[0]!r}"


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([128 + 80 * np.sin(x / 6) * np.cos(y / 9), 255 * x / w, 255 * y / h], -1)
    return np.clip(img + rng.normal(0, 10, (h, w, 3)), 0, 255).astype(np.uint8)


def non_utf8_name(folder: Path, stem: bytes, ext: str) -> Path:
    """A path in `folder` whose file name is not valid UTF-8 (Linux only)."""
    return Path(os.fsdecode(os.path.join(os.fsencode(folder), stem + b"\xff\xe9" + ext.encode())))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """name -> path: the committed corpus, plus 'non_utf8.png' (a copy of ok_rgb.png)."""
    files = {n: BAD / n for n in os.listdir(BAD)}
    if NON_UTF8_OK:
        d = tmp_path_factory.mktemp("names")
        p = non_utf8_name(d, b"photo_", ".png")
        shutil.copy(BAD / "ok_rgb.png", p)
        files["non_utf8.png"] = p
    return files


def content_cases():
    cases = list(CONTENT_CASES)
    if NON_UTF8_OK:
        cases.append("non_utf8.png")
    return cases


def mask_for(path: Path, folder: Path) -> Path:
    """A centred-rectangle mask of the photo's display size (or 64x48 when it does not load)."""
    try:
        w, h = load_image(path).size
    except ImageLoadError:
        w, h = 64, 48
    m = np.zeros((h, w), np.uint8)
    m[h // 4: max(h // 4 + 1, 3 * h // 4), w // 4: max(w // 4 + 1, 3 * w // 4)] = 255
    p = folder / f"mask_{w}x{h}.png"
    Image.fromarray(m).save(p)
    return p


# ---------------------------------------------------------------------------------------------
# model files


@pytest.fixture(scope="module")
def bad_checkpoints(tiny_net, tiny_weights, tmp_path_factory) -> dict[str, tuple[Path, str]]:
    """name -> (path, a word the refusal must contain)."""
    from safetensors.torch import save_file

    from tcp_core.base.config import model_preset

    d = tmp_path_factory.mktemp("ckpt")
    sd = {k: v.detach().clone().contiguous() for k, v in tiny_net.state_dict().items()}
    meta = {"format": "tcp-editor", "format_version": "1", "model_config": tiny_net.config.to_json()}
    out: dict[str, tuple[Path, str]] = {}

    p = d / "model.pt"
    torch.save(sd, p)
    out["torch_pickle"] = (p, "pickle")
    p = d / "raw_pickle.safetensors"
    p.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))
    out["raw_pickle"] = (p, "pickle")
    data = tiny_weights.read_bytes()
    p = d / "truncated.safetensors"
    p.write_bytes(data[: len(data) // 2])
    out["truncated"] = (p, "truncated")
    k0 = next(iter(sd))
    p = d / "shapes.safetensors"
    save_file({**sd, k0: torch.zeros(1, 2, 3)}, str(p), metadata=meta)
    out["wrong_shapes"] = (p, "shape")
    p = d / "nan.safetensors"
    save_file({**sd, k0: torch.full_like(sd[k0], float("nan"))}, str(p), metadata=meta)
    out["nan"] = (p, "NaN")
    p = d / "foreign.safetensors"
    save_file({"transformer.weight": torch.zeros(4, 4)}, str(p), metadata={"format": "pt"})
    out["other_program"] = (p, "not a TCP Editor model")
    p = d / "other_config.safetensors"
    save_file(sd, str(p), metadata={**meta, "model_config": model_preset("demo128").to_json()})
    out["other_model_config"] = (p, "does not match")
    p = d / "empty.safetensors"
    p.write_bytes(b"")
    out["empty"] = (p, "empty")
    p = d / "text.safetensors"
    p.write_text("this is a text file, not weights\n" * 20)
    out["text"] = (p, "not a valid safetensors")
    out["missing"] = (d / "missing.safetensors", "not found")
    p = d / "malformed_header.safetensors"  # valid length prefix and JSON, but not a safetensors header
    p.write_bytes(struct.pack("<Q", 2) + b"[]")
    out["malformed_header"] = (p, "safetensors")
    return out


CKPT_NAMES = ["torch_pickle", "raw_pickle", "truncated", "wrong_shapes", "nan", "other_program",
              "other_model_config", "empty", "text", "missing"]
CKPT_CASES = [*CKPT_NAMES, "malformed_header"]

# ---------------------------------------------------------------------------------------------
# tcp-editor apply


def run_cli(argv: list[str], capfd) -> tuple[int, str]:
    rc = cli_main(argv)
    cap = capfd.readouterr()
    return rc, cap.err


@pytest.mark.parametrize("name", content_cases())
def test_apply_content_corpus(name, corpus, tiny_weights, tmp_path, capfd):
    src = corpus[name]
    mask = mask_for(src, tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "result.png"
    rc, err = run_cli(["apply", str(src), "--style", str(STYLE), "--mask", str(mask), "-o", str(out),
                       "--weights", str(tiny_weights), "--device", "cpu"], capfd)
    expect = CONTENT_CASES.get(name)
    if expect is not None:
        assert rc == 2, err
        assert_one_line_error(err, expect)
        assert os.listdir(out_dir) == [], "a failed run must not leave files in the output folder"
        return
    assert rc == 0, err
    assert "Traceback" not in err
    assert os.listdir(out_dir) == ["result.png"]
    src_img = load_image(src, keep_alpha=True, keep_16bit=True)
    res = load_image(out, keep_alpha=True, keep_16bit=True)
    assert res.size == src_img.size
    assert res.rgb.dtype == src_img.rgb.dtype  # 16-bit stays 16-bit in PNG
    assert (res.alpha is None) == (src_img.alpha is None)  # transparency kept
    with Image.open(out) as im:
        assert im.getexif().get(0x0112, 1) == 1  # pixels are display-oriented: orientation reset


def test_apply_exif_rotated_output_is_upright(corpus, tiny_weights, tmp_path, capfd):
    src = corpus["exif_rotated.jpg"]
    out = tmp_path / "r.jpg"
    rc, err = run_cli(["apply", str(src), "--style", str(STYLE), "--mask", str(mask_for(src, tmp_path)),
                       "-o", str(out), "--weights", str(tiny_weights), "--device", "cpu"], capfd)
    assert rc == 0, err
    with Image.open(out) as im:
        assert im.size == (20, 40)  # stored 40x20 with orientation 6: displayed 20 wide, 40 high
        ex = im.getexif()
        assert ex.get(0x0112, 1) == 1 and ex.get(0x010F) == "TestCam"


@pytest.mark.parametrize("mask_name, expect", [
    ("mask_other_aspect.png", ("aspect",)),
    ("mask_half_size.png", None),
    ("mask_empty.png", None),
    ("mask_full.png", None),
    ("mask_rgba.png", None),
    ("truncated.png", ("truncated",)),
    ("zero_bytes.jpg", ("empty",)),
    ("text_named.jpg", ("not an image",)),
    ("bomb_40k.png", ("megapixels",)),
])
def test_apply_mask_corpus(mask_name, expect, corpus, tiny_weights, tmp_path, capfd):
    src = corpus["ok_rgb.png"]
    out = tmp_path / "out" / "r.png"
    out.parent.mkdir()
    rc, err = run_cli(["apply", str(src), "--style", str(STYLE), "--mask", str(corpus[mask_name]), "-o", str(out),
                       "--weights", str(tiny_weights), "--device", "cpu"], capfd)
    if expect is not None:
        assert rc == 2, err
        assert_one_line_error(err, expect)
        assert os.listdir(out.parent) == []
        return
    assert rc == 0, err
    before, after = load_image(src).rgb, load_image(out).rgb
    if mask_name == "mask_empty.png":
        assert np.array_equal(before, after), "an empty mask must leave the photo bit-identical"
    else:
        assert not np.array_equal(before, after)


@pytest.mark.parametrize("style_name, expect", [
    ("truncated.jpg", ("style reference", "truncated")),
    ("zero_bytes.jpg", ("style reference", "empty")),
    ("text_named.jpg", ("style reference", "not an image")),
    ("bomb_200k.png", ("style reference", "megapixels")),
    ("cmyk.jpg", None),
    ("gray16.png", None),
    ("animated.gif", None),
    ("one_pixel.png", None),
    ("palette_transparent.png", None),
])
def test_apply_style_corpus(style_name, expect, corpus, tiny_weights, tmp_path, capfd):
    src = corpus["ok_rgb.png"]
    out = tmp_path / "out" / "r.png"
    out.parent.mkdir()
    rc, err = run_cli(["apply", str(src), "--style", str(corpus[style_name]), "--mask", str(corpus["mask_full.png"]),
                       "-o", str(out), "--weights", str(tiny_weights), "--device", "cpu"], capfd)
    if expect is not None:
        assert rc == 2, err
        assert_one_line_error(err, expect)
        assert os.listdir(out.parent) == []
    else:
        assert rc == 0, err
        assert load_image(out).size == (64, 48)


@pytest.mark.skipif(not NON_UTF8_OK, reason="non-UTF-8 file names are a Linux thing")
def test_apply_non_utf8_output_name(corpus, tiny_weights, tmp_path, capfd):
    out = non_utf8_name(tmp_path, b"out_", ".png")
    rc, err = run_cli(["apply", str(corpus["non_utf8.png"]), "--style", str(STYLE), "--mask",
                       str(corpus["mask_full.png"]), "-o", str(out), "--weights", str(tiny_weights)], capfd)
    assert rc == 0, err
    assert out.is_file() and load_image(out).size == (64, 48)
    assert "\\xff" in err  # the path is shown with the undecodable bytes escaped, not as an exception


def test_apply_batch_folder_lists_failures(corpus, tiny_weights, tmp_path, capfd):
    """A folder with every corpus photo: the good ones are written, the bad ones listed, exit 1."""
    src = tmp_path / "photos"
    src.mkdir()
    for name in content_cases():
        if name == "non_utf8.png":
            shutil.copy(corpus[name], non_utf8_name(src, b"photo_", ".png"))
        else:
            shutil.copy(corpus[name], src / name)
    out = tmp_path / "edited"
    rc, err = run_cli(["apply", str(src), "--global", "--style", str(STYLE), "-o", str(out),
                       "--weights", str(tiny_weights), "--format", "png"], capfd)
    assert rc == 1, err
    assert "Traceback" not in err
    # batch mode scans the documented extensions only (no .gif): animated.gif is not a photo there
    good = [n for n in content_cases() if CONTENT_CASES.get(n) is None and not n.endswith(".gif")]
    assert f"done: {len(good)} written, {len(BAD_FILES)} failed" in err, err
    failed_lines = [ln for ln in err.splitlines() if ln.startswith("  failed: ")]
    assert sorted(ln.split(": ")[1] for ln in failed_lines) == sorted(BAD_FILES)
    assert len(os.listdir(out)) == len(good)
    assert not leftovers(out)


@pytest.mark.parametrize("fmt", ["png", None])
def test_apply_batch_output_names_do_not_collide(corpus, tiny_weights, tmp_path, capfd, fmt):
    """a.png + a.jpg with --format png, or a.png + a.bmp (bmp is written as png): both results
    are kept under distinct names, the clash is reported, and an unrelated photo keeps its name."""
    src = tmp_path / "photos"
    src.mkdir()
    other = "a.jpg" if fmt else "a.bmp"
    shutil.copy(corpus["ok_rgb.png"], src / "a.png")
    shutil.copy(corpus["ok_rgb.jpg" if fmt else "ok_rgb.bmp"], src / other)
    shutil.copy(corpus["ok_rgb.png"], src / "b.png")
    out = tmp_path / "edited"
    rc, err = run_cli(["apply", str(src), "--global", "--style", str(STYLE), "-o", str(out),
                       "--weights", str(tiny_weights), *(["--format", fmt] if fmt else [])], capfd)
    assert rc == 0, err
    ext = other.split(".")[1]
    assert sorted(os.listdir(out)) == sorted([f"a_{ext}.png", "a_png.png", "b.png"]), (os.listdir(out), err)
    assert "several photos map to" in err
    for name in os.listdir(out):
        assert Image.open(out / name).size == Image.open(corpus["ok_rgb.png"]).size


def test_apply_encoder_failure_mid_write_leaves_nothing(corpus, tiny_weights, tmp_path, capfd, monkeypatch):
    """The encoder writes half a file, then fails (a full disk): the old file under the final name
    is untouched and no temp file is left."""
    out = tmp_path / "out" / "r.png"
    out.parent.mkdir()
    out.write_bytes(b"previous export")
    import tcp_core.io.saving as saving

    real_write_png8 = saving.write_png8

    class FullDisk:  # the disk fills up after the first 1000 bytes of the PNG
        def __init__(self, f):
            self.f, self.n = f, 0

        def write(self, b):
            if self.n + len(b) > 1000:
                raise OSError(28, "No space left on device")
            self.n += len(b)
            return self.f.write(b)

    monkeypatch.setattr(saving, "write_png8", lambda f, *a, **k: real_write_png8(FullDisk(f), *a, **k))
    rc, err = run_cli(["apply", str(corpus["ok_rgb.png"]), "--style", str(STYLE), "--mask",
                       str(corpus["mask_full.png"]), "-o", str(out), "--weights", str(tiny_weights)], capfd)
    assert rc == 2
    assert_one_line_error(err, ("no space left",))
    assert out.read_bytes() == b"previous export"
    assert sorted(os.listdir(out.parent)) == ["r.png"]


# ---------------------------------------------------------------------------------------------
# bad model files: CLI and library


@pytest.mark.parametrize("name", CKPT_CASES)
def test_bad_weights_cli_apply(name, bad_checkpoints, corpus, tmp_path, capfd):
    path, word = bad_checkpoints[name]
    out = tmp_path / "out" / "r.png"
    out.parent.mkdir()
    rc, err = run_cli(["apply", str(corpus["ok_rgb.png"]), "--style", str(STYLE), "--mask",
                       str(corpus["mask_full.png"]), "-o", str(out), "--weights", str(path)], capfd)
    assert rc == 2
    assert_one_line_error(err, ("cannot load the model", word))
    assert os.listdir(out.parent) == []


@pytest.mark.parametrize("name", CKPT_CASES)
def test_bad_weights_from_pretrained(name, bad_checkpoints):
    from tcp_core.editing.inference import TCPModel
    from tcp_core.io.hub import WeightsNotFound

    path, word = bad_checkpoints[name]
    with pytest.raises((CheckpointError, WeightsNotFound)) as ei:
        TCPModel.from_pretrained(str(path), device="cpu")
    assert word.lower() in str(ei.value).lower()
    assert "\n" not in str(ei.value)


@pytest.mark.parametrize("name", ["torch_pickle", "truncated", "nan", "other_program", "missing"])
def test_bad_weights_cli_train_init(name, bad_checkpoints, tmp_path, capfd, monkeypatch, _keep_torch_threads):
    monkeypatch.setenv("TCP_NO_REEXEC", "1")
    path, word = bad_checkpoints[name]
    d = tmp_path / "photos"
    d.mkdir()
    Image.fromarray(textured(64, 64)).save(d / "a.png")
    rc, err = run_cli(["--train", str(d), "--out", str(tmp_path / "run"), "--init", str(path), "--steps", "1",
                       "--device", "cpu", "--threads", "1"], capfd)
    assert rc == 2
    assert "Traceback" not in err
    last = err_lines(err)[-1]
    assert last.startswith("error:") and word.lower() in last.lower(), err


# ---------------------------------------------------------------------------------------------
# --train on a folder with bad files


def awkward_training_files(folder: Path) -> list[str]:
    """Valid but awkward photos big enough to train on (>= 32 px): 16-bit, CMYK, animated WebP,
    palette with transparency, EXIF-rotated, grey with alpha. Returns their names."""
    img = textured(48, 64, seed=5)
    ramp16 = (img.astype(np.uint16) * 257)[:, :, ::-1]
    cv2.imwrite(str(folder / "rgb16.png"), np.ascontiguousarray(ramp16))
    Image.fromarray(img).convert("CMYK").save(folder / "cmyk.jpg", quality=90)
    frames = [Image.fromarray(textured(40, 56, seed=s)) for s in range(3)]
    frames[0].save(folder / "animated.webp", save_all=True, append_images=frames[1:], duration=100, lossless=True)
    pal = Image.fromarray(img).quantize(16)
    pal.save(folder / "palette.png", transparency=0)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(img).save(folder / "rotated.jpg", exif=exif.tobytes(), quality=90)
    Image.fromarray(img).convert("LA").save(folder / "la.png")
    return ["rgb16.png", "cmyk.jpg", "animated.webp", "palette.png", "rotated.jpg", "la.png"]


TRAIN_BAD = ["truncated.jpg", "truncated.png", "zero_bytes.jpg", "text_named.jpg", "garbage_after_signature.png",
             "bomb_40k.png", "bomb_200k.png", "one_pixel.png"]


def train_argv(data: Path, run: Path) -> list[str]:
    return ["--train", str(data), "--out", str(run), "--preset", "tiny", "--steps", "2", "--batch-size", "2",
            "--sample-every", "2", "--checkpoint-every", "2", "--log-every", "1", "--device", "cpu",
            "--threads", "1"]


def test_train_skips_and_lists_bad_files(corpus, tmp_path, capfd, monkeypatch, _keep_torch_threads):
    monkeypatch.setenv("TCP_NO_REEXEC", "1")  # no re-exec of the test process with malloc settings
    data = tmp_path / "photos"
    data.mkdir()
    for n in TRAIN_BAD:
        shutil.copy(corpus[n], data / n)
    Image.fromarray(textured(96, 128, 1)).save(data / "good1.png")
    good2 = non_utf8_name(data, b"good2_", ".jpg") if NON_UTF8_OK else data / "good2.jpg"
    Image.fromarray(textured(80, 120, 2)).save(good2, format="JPEG", quality=90)
    awkward = awkward_training_files(data)
    run = tmp_path / "run"
    rc, err = run_cli(train_argv(data, run), capfd)
    assert rc == 0, err
    assert "Traceback" not in err
    assert f"skipped {len(TRAIN_BAD)} unreadable file(s)" in err
    listed = [ln.strip() for ln in err.splitlines() if ln.startswith("  ") and ": " in ln]
    for n in TRAIN_BAD:
        assert any(os.path.basename(ln.split(": ")[0]) == n for ln in listed), (n, err)
    for n in awkward:
        assert not any(os.path.basename(ln.split(": ")[0]) == n for ln in listed), f"{n} was skipped:\n{err}"
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["photos"] == 2 + len(awkward) and cfg["skipped"] == len(TRAIN_BAD)
    from tcp_core.editing.inference import TCPModel

    m = TCPModel.from_pretrained(str(run / "model-ema.safetensors"), device="cpu")
    assert m.config.name == "tiny"
    assert not leftovers(run)


@pytest.mark.parametrize("what", ["only_bad", "empty", "missing"])
def test_train_without_usable_photos_exits_2(what, corpus, tmp_path, capfd, monkeypatch, _keep_torch_threads):
    monkeypatch.setenv("TCP_NO_REEXEC", "1")
    data = tmp_path / "photos"
    if what != "missing":
        data.mkdir()
    if what == "only_bad":
        for n in TRAIN_BAD:
            shutil.copy(corpus[n], data / n)
    run = tmp_path / "run"
    rc, err = run_cli(train_argv(data, run), capfd)
    assert rc == 2, err
    assert "Traceback" not in err
    last = err_lines(err)[-1]
    assert last.startswith("error:"), err
    expect = {"only_bad": "could be read", "empty": "no images", "missing": "not found"}[what]
    assert expect in last
    assert not run.exists() or not leftovers(run)


# ---------------------------------------------------------------------------------------------
# eval


def _mnv2_installed() -> bool:
    try:
        from tcp_core.eval.metrics import backbones

        backbones.packaged_mobilenet_path()
        return True
    except Exception:  # noqa: BLE001
        return False


needs_mnv2 = pytest.mark.skipif(not _mnv2_installed(), reason="the mobilenet_v2 metric backbone is not installed")


def eval_argv(pairs: Path, out: Path, weights: str = "random:tiny") -> list[str]:
    return ["eval", "--pairs", str(pairs), "--weights", weights, "--out", str(out), "--device", "cpu",
            "--methods", "identity,tcp", "--size", "64", "--ssd-locations", "32", "--threads", "1", "-q"]


@needs_mnv2
def test_eval_reports_bad_rows(corpus, tmp_path, capfd, _keep_torch_threads):
    d = tmp_path / "set"
    d.mkdir()
    for n in ["ok_rgb.png", "mask_full.png", "mask_other_aspect.png", "mask_half_size.png", *BAD_FILES]:
        shutil.copy(corpus[n], d / n)
    rows = ["content,style,mask",
            "ok_rgb.png,ok_rgb.png,mask_half_size.png"]  # line 2: good
    bad_rows = [f"{n},ok_rgb.png,mask_full.png" for n in BAD_FILES]  # bad content
    bad_rows += [f"ok_rgb.png,{n},mask_full.png" for n in ("truncated.jpg", "zero_bytes.jpg", "bomb_40k.png")]
    bad_rows += [f"ok_rgb.png,ok_rgb.png,{n}" for n in ("text_named.jpg", "mask_other_aspect.png")]
    bad_rows += ["missing.png,ok_rgb.png,mask_full.png", "ok_rgb.png,,mask_full.png"]
    pairs = d / "pairs.csv"
    pairs.write_text("\n".join(rows + bad_rows) + "\n")
    out = tmp_path / "report"
    rc, err = run_cli(eval_argv(pairs, out), capfd)
    assert rc == 0, err
    assert "Traceback" not in err
    rep = json.loads((out / "report.json").read_text())
    assert rep["pairs"] == 1 and [p["line"] for p in rep["per_pair"]] == [2]
    skipped = {s["line"]: s["error"] for s in rep["skipped"]}
    assert sorted(skipped) == list(range(3, 3 + len(bad_rows)))
    assert all(e.strip() for e in skipped.values())
    assert "aspect" in skipped[2 + len(bad_rows) - 2]
    assert not rep["errors"]
    assert sorted(os.listdir(out)) == ["contact_sheet.png", "report.json", "report.md"]


@needs_mnv2
def test_eval_only_bad_rows_and_bad_csv(corpus, tmp_path, capfd, _keep_torch_threads):
    d = tmp_path / "set"
    d.mkdir()
    shutil.copy(corpus["truncated.jpg"], d / "t.jpg")
    pairs = d / "pairs.csv"
    pairs.write_text("content,style,mask\nt.jpg,t.jpg,t.jpg\n")
    out = tmp_path / "r1"
    rc, err = run_cli(eval_argv(pairs, out), capfd)
    assert rc == 0, err
    rep = json.loads((out / "report.json").read_text())
    assert rep["pairs"] == 0 and len(rep["skipped"]) == 1
    assert not leftovers(out)
    # the pairs file itself is garbage: exit 2, one line
    pairs.write_bytes(b"\xff\xfe\x00garbage\x00" * 10)
    rc, err = run_cli(eval_argv(pairs, tmp_path / "r2"), capfd)
    assert rc == 2
    assert_one_line_error(err, ("pairs file",))


@needs_mnv2
@pytest.mark.parametrize("name", ["raw_pickle", "truncated", "wrong_shapes", "other_program"])
def test_bad_weights_cli_eval(name, bad_checkpoints, corpus, tmp_path, capfd, _keep_torch_threads):
    path, word = bad_checkpoints[name]
    pairs = tmp_path / "p.csv"
    pairs.write_text(f"content,style,mask\n{corpus['ok_rgb.png']},{STYLE},{corpus['mask_full.png']}\n")
    rc, err = run_cli(eval_argv(pairs, tmp_path / "out", str(path)), capfd)
    assert rc == 2
    assert_one_line_error(err, (word,))


# ---------------------------------------------------------------------------------------------
# GUI: open, import mask, choose style, load weights


class Dialogs:
    """Stands in for tcp_editor.dialogs: records errors, answers from attributes, never blocks."""

    def __init__(self, monkeypatch):
        from tcp_editor import dialogs

        self.errors: list[tuple[str, str]] = []
        self.open_answer = ""
        monkeypatch.setattr(dialogs, "error", lambda parent, title, text, details="": self.errors.append((title, text)))
        monkeypatch.setattr(dialogs, "warning", lambda parent, title, text: self.errors.append((title, text)))
        monkeypatch.setattr(dialogs, "info", lambda *a, **k: None)
        monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: False)
        monkeypatch.setattr(dialogs, "ask_restore_autosave", lambda *a, **k: True)
        monkeypatch.setattr(dialogs, "ask_save_changes", lambda *a, **k: "discard")
        monkeypatch.setattr(dialogs, "open_path", lambda *a, **k: self.open_answer)
        monkeypatch.setattr(dialogs, "save_path", lambda *a, **k: "")
        monkeypatch.setattr(dialogs, "ask_text", lambda *a, **k: None)
        monkeypatch.setattr(dialogs, "ask_int", lambda *a, **k: None)


@pytest.fixture(scope="module")
def service():
    pytest.importorskip("pytestqt")
    from PySide6.QtWidgets import QApplication

    from tcp_editor.services.inference import InferenceService

    app = QApplication.instance() or QApplication([])
    svc = InferenceService(torch_threads=1)
    loaded = []
    svc.signals.modelLoaded.connect(loaded.append)
    svc.load_model(preset="tiny", device="cpu")
    t0 = time.time()
    while not loaded and time.time() - t0 < 120:
        app.processEvents()
        time.sleep(0.01)
    assert loaded, "the tiny model did not load"
    yield svc
    svc.shutdown()


@pytest.fixture
def gui(qtbot, tmp_path, service, monkeypatch):
    from PySide6.QtCore import QSettings

    from tcp_editor.main_window import MainWindow

    dlg = Dialogs(monkeypatch)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(service=service, settings=settings, autosave_dir=str(tmp_path / "autosave"),
                   autosave_interval_s=3600, preview_long_side=256)
    qtbot.addWidget(w)
    w.show()
    yield w, dlg
    w.doc.undo_stack.setClean()
    w.close()


def test_gui_open_action_corpus(gui, corpus):
    win, dlg = gui
    first = str(corpus["ok_rgb.jpg"])
    dlg.open_answer = first
    win.files.open_dialog()
    assert win.doc.path == first and not dlg.errors
    problems = []
    for name in content_cases():
        dlg.errors.clear()
        path = str(corpus[name])
        dlg.open_answer = path
        before = win.doc.path
        win.files.open_dialog()
        expect = CONTENT_CASES.get(name)
        if expect is not None:
            ok = (len(dlg.errors) == 1 and dlg.errors[0][0] == "Cannot open photo"
                  and all(w.lower() in dlg.errors[0][1].lower() for w in expect) and win.doc.path == before)
        else:
            img = load_image(path)
            ok = not dlg.errors and win.doc.path == path and win.doc.photo.shape[:2] == (img.height, img.width)
        if not ok:
            problems.append((name, dlg.errors[:], win.doc.path))
    assert not problems, problems


def test_gui_open_damaged_projects(gui, corpus, tmp_path):
    win, dlg = gui
    dlg.open_answer = str(corpus["ok_rgb.png"])
    win.files.open_dialog()
    from tcp_editor import project

    good = tmp_path / "good.tcpproj"
    assert win.files.save_project(str(good))
    data = good.read_bytes()
    cases = {
        "truncated.tcpproj": data[: len(data) // 2],
        "zero.tcpproj": b"",
        "text.tcpproj": b"not a zip\n" * 10,
        "flipped.tcpproj": data[:200] + bytes([data[200] ^ 0xFF]) + data[201:],
    }
    zbad = tmp_path / "json.tcpproj"
    with zipfile.ZipFile(zbad, "w") as z:
        z.writestr("project.json", '{"format": "tcpproj", "version": 1, "photo": {"file": 7}}')
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
    problems = []
    for name in [*cases, "json.tcpproj"]:
        dlg.errors.clear()
        dlg.open_answer = str(tmp_path / name)
        try:
            project.load(dlg.open_answer)
            loads = True
        except project.ProjectError:
            loads = False
        win.files.open_dialog()
        if loads:  # a flipped byte inside a stored member's padding can be harmless
            continue
        if not (len(dlg.errors) == 1 and dlg.errors[0][0] == "Cannot open project"
                and win.doc.path == str(corpus["ok_rgb.png"])):
            problems.append((name, dlg.errors[:]))
    assert not problems, problems


def test_gui_import_mask_and_style_corpus(gui, corpus):
    win, dlg = gui
    dlg.open_answer = str(corpus["ok_rgb.png"])
    win.files.open_dialog()
    uid = win.doc.add_region()
    cases = {"mask_other_aspect.png": "Cannot import mask", "mask_empty.png": 0.0, "mask_full.png": 1.0,
             "truncated.png": "Cannot import mask", "zero_bytes.jpg": "Cannot import mask",
             "bomb_40k.png": "Cannot import mask", "text_named.jpg": "Cannot import mask"}
    problems = []
    for name, expect in cases.items():
        dlg.errors.clear()
        win.doc.apply_mask(uid, np.full(win.doc.preview_shape, 0.5, np.float32))
        dlg.open_answer = str(corpus[name])
        win.selection.import_mask_dialog()
        m = win.doc.region(uid).mask
        if isinstance(expect, str):
            ok = len(dlg.errors) == 1 and dlg.errors[0][0] == expect and np.all(m == 0.5)
        else:
            ok = not dlg.errors and np.all(m == expect)
        if not ok:
            problems.append(("mask", name, dlg.errors[:]))
    for name in content_cases():
        dlg.errors.clear()
        win.styles.cache.clear()
        dlg.open_answer = str(corpus[name])
        win.doc.set_active(uid)
        style_before = win.doc.region(uid).style
        win.styles.choose_style_dialog()
        style_after = win.doc.region(uid).style
        if CONTENT_CASES.get(name) is not None:
            ok = len(dlg.errors) == 1 and style_after is style_before
        else:
            ok = not dlg.errors and style_after is not None and style_after is not style_before
        if not ok:
            problems.append(("style", name, dlg.errors[:]))
    assert not problems, problems


def test_gui_model_picker_refuses_bad_weights(gui, qtbot, service, bad_checkpoints, tiny_weights):
    win, dlg = gui
    model_before = service.worker.model
    label_before = win.model_label.text()
    assert model_before is not None and label_before
    problems = []
    for name in CKPT_NAMES:
        path, word = bad_checkpoints[name]
        dlg.errors.clear()
        dlg.open_answer = str(path)
        with qtbot.waitSignal(service.signals.modelFailed, timeout=60000):
            win.models.load_weights_dialog()
        qtbot.waitUntil(lambda: len(dlg.errors) >= 1, timeout=10000)
        title, text = dlg.errors[0]
        ok = (len(dlg.errors) == 1 and title == "Could not load the model" and word.lower() in text.lower()
              and "Still using" in text and service.worker.model is model_before
              and win.model_label.text() == label_before
              and win.models.spec != str(path))  # a later reload (device switch) must not retry the bad file
        if not ok:
            problems.append((name, dlg.errors[:], win.model_label.text()))
    assert not problems, problems
    # a good file still loads afterwards, and the previous model is replaced only then
    dlg.errors.clear()
    dlg.open_answer = str(tiny_weights)
    with qtbot.waitSignal(service.signals.modelLoaded, timeout=60000):
        win.models.load_weights_dialog()
    assert not dlg.errors and service.worker.model is not model_before
    assert "tiny.safetensors" in win.model_label.text()


# ---------------------------------------------------------------------------------------------
# crash safety: SIGKILL during autosave and during export

CHILD = textwrap.dedent(r"""
    import os, sys, time
    import numpy as np
    mode, folder = sys.argv[1], sys.argv[2]
    parent = os.getppid()  # each loop ends when the test that started it is gone (killed runner: no orphan)
    rng = np.random.default_rng(0)
    H, W = 600, 800  # big enough that a write takes a while: kills land mid-write
    photos = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(2)]
    if mode == "autosave":
        from tcp_editor import project
        from tcp_editor.document import Region
        snaps = []
        for k, ph in enumerate(photos):
            m = np.zeros((H // 2, W // 2), np.float32)
            m[10 * (k + 1):100, 20:200] = 1.0
            snaps.append(project.Snapshot(ph, regions=[Region(f"r{k}", m, None, 0.5, True)], preview_long_side=400,
                                          photo_path=f"/photos/{k}.jpg",
                                          _photo_png=project.encode_photo(ph)))  # as the editor's autosave caches it
        path = os.path.join(folder, "autosave.tcpproj")
        print("ready", flush=True)
        i = 0
        while os.getppid() == parent:
            project.write(path, snaps[i % 2])
            i += 1
    else:
        from tcp_editor.services.images import save_photo
        exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x01\x01\x0f\x00\x02\x00\x00\x00\x04Cam\x00\x00\x00\x00\x00"
        print("ready", flush=True)
        i = 0
        while os.getppid() == parent:
            ph = photos[i % 2]
            save_photo(os.path.join(folder, "export.png"), ph, exif=exif)
            save_photo(os.path.join(folder, "export.jpg"), ph, exif=exif, quality=92)
            i += 1
""")

GUI_CHILD = textwrap.dedent(r"""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import numpy as np
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from tcp_editor.main_window import MainWindow
    photo, folder, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = QApplication([])
    settings = QSettings(os.path.join(folder, "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings, autosave_dir=os.path.join(folder, "autosave"), autosave_interval_s=3600)
    assert w.open_path(photo)
    uid = w.doc.add_region()
    rng = np.random.default_rng(seed)
    parent = os.getppid()  # the loop ends when the test that started it is gone (killed runner: no orphan)
    print("ready", flush=True)
    while os.getppid() == parent:
        m = (rng.random(w.doc.preview_shape) < 0.3).astype(np.float32)
        w.doc.apply_mask(uid, m)
        w.autosave.save_now(wait=True)
        app.processEvents()
""")


def _child_env() -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT) + os.pathsep
               + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    return env


def _start(args: list[str]) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, *args], cwd=ROOT, env=_child_env(), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()  # blocks until the child is about to loop (or dies)
    if line.strip() != "ready":
        p.kill()
        raise AssertionError(f"child did not start: {line!r} {p.stderr.read()[-2000:]}")
    return p


def _kill_at_random(p: subprocess.Popen, rng: random.Random, lo: float, hi: float) -> None:
    time.sleep(rng.uniform(lo, hi))
    assert p.poll() is None, f"the child died by itself: {p.stderr.read()[-2000:]}"
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    p.stdout.close()
    p.stderr.close()


KILLS = 6


def test_sigkill_during_autosave_keeps_a_loadable_autosave(tmp_path):
    from tcp_editor import project

    folder = tmp_path / "auto"
    folder.mkdir()
    path = folder / "autosave.tcpproj"
    # the previous autosave, written before the crashes
    prev = project.Snapshot(np.full((60, 80, 3), 7, np.uint8), regions=[], photo_path="/photos/prev.jpg")
    project.write(str(path), prev)
    rng = random.Random(1)
    seen = set()
    for _ in range(KILLS):
        p = _start(["-c", CHILD, "autosave", str(folder)])
        _kill_at_random(p, rng, 0.0, 1.2)
        assert path.is_file() and path.stat().st_size > 0
        snap = project.load(str(path))  # never a half-written file under the final name
        seen.add(snap.photo_path)
        assert snap.photo_path in ("/photos/prev.jpg", "/photos/0.jpg", "/photos/1.jpg")
        if snap.photo_path != "/photos/prev.jpg":
            assert snap.photo.shape == (600, 800, 3) and len(snap.regions) == 1
    stale = [n for n in os.listdir(folder) if n != "autosave.tcpproj"]
    assert all(n.startswith(".autosave.tcpproj.") and n.endswith(".part") for n in stale), stale
    print(f"autosave kills: {KILLS}, versions seen {sorted(seen)}, stale temp files left by the kills: {len(stale)}")


def test_sigkill_during_export_never_leaves_a_partial_image(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    rng_np = np.random.default_rng(0)
    first = [rng_np.integers(0, 256, (600, 800, 3), dtype=np.uint8) for _ in range(2)]
    prev = np.full((600, 800, 3), 9, np.uint8)
    Image.fromarray(prev).save(folder / "export.png")
    Image.fromarray(prev).save(folder / "export.jpg", quality=92)
    rng = random.Random(2)
    for _ in range(KILLS):
        p = _start(["-c", CHILD, "export", str(folder)])
        _kill_at_random(p, rng, 0.0, 1.5)
        png = load_image(folder / "export.png")  # full decode: a truncated file would raise here
        assert any(np.array_equal(png.rgb, a) for a in (prev, *first)), "export.png is neither old nor new"
        jpg = load_image(folder / "export.jpg")
        assert jpg.size == (800, 600)
    stale = [n for n in os.listdir(folder) if n not in ("export.png", "export.jpg")]
    assert all(n.startswith(".export.") and n.endswith(".part") for n in stale), stale
    print(f"export kills: {KILLS}, stale temp files left by the kills: {len(stale)}")


def test_sigkill_of_the_gui_during_autosave_then_restore(tmp_path, qtbot, monkeypatch, service):
    """The real editor (offscreen, in a child) autosaving in a loop is killed 3 times; each time the
    autosave loads, and a new window restores it."""
    from PySide6.QtCore import QSettings

    from tcp_editor import project
    from tcp_editor.main_window import MainWindow

    photo = tmp_path / "photo.png"
    Image.fromarray(textured(300, 400, 3)).save(photo)
    folder = tmp_path / "editor"
    folder.mkdir()
    adir = folder / "autosave"
    rng = random.Random(3)
    for k in range(3):
        p = _start(["-c", GUI_CHILD, str(photo), str(folder), str(k)])
        _kill_at_random(p, rng, 0.3, 1.5)
        a = adir / "autosave.tcpproj"
        assert a.is_file(), os.listdir(adir) if adir.exists() else "no autosave folder"
        snap = project.load(str(a))
        assert snap.photo.shape == (300, 400, 3) and len(snap.regions) == 1
    # a temp file of an autosave killed an hour ago, and one being written right now by another instance
    old_part, fresh_part = adir / ".autosave.tcpproj.k1ll3d.part", adir / ".autosave.tcpproj.busy.part"
    old_part.write_bytes(b"PK\x03\x04 half a zip")
    fresh_part.write_bytes(b"PK\x03\x04 being written")
    os.utime(old_part, (time.time() - 3600, time.time() - 3600))
    for leftover in adir.glob(".autosave.tcpproj.*.part"):  # the kills' own leftovers: make them old too
        if leftover != fresh_part:
            os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    dlg = Dialogs(monkeypatch)
    w = MainWindow(service=service, settings=QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat),
                   autosave_dir=str(adir), autosave_interval_s=3600, preview_long_side=256)
    qtbot.addWidget(w)
    assert w.autosave.check(), dlg.errors
    assert w.doc.has_photo and len(w.doc.regions) == 1 and not dlg.errors
    assert sorted(p.name for p in adir.glob("*.part")) == [fresh_part.name], "stale temp files are swept at start"
    w.doc.undo_stack.setClean()
    w.close()
