"""Hardening, part 2 (issue #17): nothing a user owns is overwritten, no small file costs gigabytes.

Outputs never land on an input (content, style, mask, weights; single and batch mode, derived
GIF/WebP strips included); the training output folder is checked before any photo is decoded;
project files, images and weights files are refused cheaply when they declare far more than they
hold; messages are accurate; interrupted writes leave nothing behind for long.

Every test works in its own tmp_path and uses the tiny random-init preset (no weights needed).
"""

from __future__ import annotations

import io
import json
import os
import struct
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tcp_core.apply import main as apply_main

ROOT = Path(__file__).resolve().parent.parent
STYLE = ROOT / "resources" / "styles" / "dune.jpg"


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([128 + 80 * np.sin(x / 6) * np.cos(y / 9), 255 * x / w, 255 * y / h], -1)
    return np.clip(img + rng.normal(0, 10, (h, w, 3)), 0, 255).astype(np.uint8)


def write_photo(path: Path, h: int = 48, w: int = 64, seed: int = 0) -> Path:
    Image.fromarray(textured(h, w, seed)).save(path)
    return path


def write_mask(path: Path, h: int = 48, w: int = 64) -> Path:
    m = np.zeros((h, w), np.uint8)
    m[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 255
    Image.fromarray(m).save(path)
    return path


def cli(argv: list, capfd) -> tuple[int, str]:
    rc = apply_main([str(a) for a in argv] + ["--preset", "tiny", "--device", "cpu"])
    return rc, capfd.readouterr().err


def one_line_error(err: str, *words: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0].lower()
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])


def snapshot_bytes(*paths: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


# ---------------------------------------------------------------------------------------------
# 1-3: an output never lands on an input


@pytest.fixture
def inputs(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    photo = write_photo(d / "photo.jpg")
    style = write_photo(d / "S.jpg", seed=1)
    mask = write_mask(d / "M.png")
    return photo, style, mask


@pytest.mark.parametrize("target", ["style", "mask"])
def test_apply_refuses_output_on_style_or_mask(inputs, target, capfd):
    photo, style, mask = inputs
    before = snapshot_bytes(photo, style, mask)
    out = style if target == "style" else mask
    rc, err = cli(["apply", photo, "--style", style, "--mask", mask, "-o", out], capfd)
    assert rc == 2, err
    one_line_error(err, "refusing", target)
    assert snapshot_bytes(photo, style, mask) == before


def test_apply_refuses_output_on_a_hard_link_or_symlink_of_an_input(inputs, tmp_path, capfd):
    photo, style, mask = inputs
    before = snapshot_bytes(photo, style, mask)
    hard = tmp_path / "hard.png"
    os.link(mask, hard)
    soft = tmp_path / "soft.jpg"
    soft.symlink_to(style)
    for out in (hard, soft):
        rc, err = cli(["apply", photo, "--style", style, "--mask", mask, "-o", out], capfd)
        assert rc == 2, err
        one_line_error(err, "refusing")
    assert snapshot_bytes(photo, style, mask) == before


def test_apply_refuses_output_on_the_weights_file(inputs, tmp_path, capfd):
    """--weights is an input too (a weights file named like an image is odd, but must survive)."""
    from tcp_core.checkpoint import save_model
    from tcp_core.inference import TCPModel

    photo, style, mask = inputs
    w = tmp_path / "w.png"
    save_model(w, TCPModel.from_config("tiny", device="cpu", seed=0).net)
    before = w.read_bytes()
    rc = apply_main([str(a) for a in ["apply", photo, "--style", style, "--mask", mask, "-o", w, "--weights", w]])
    err = capfd.readouterr().err
    assert rc == 2, err
    one_line_error(err, "refusing", "weights")
    assert w.read_bytes() == before


def test_apply_single_mode_into_a_folder_that_holds_the_style(tmp_path, capfd):
    """-o FOLDER derives OUT = FOLDER/<photo stem>.<ext>; that name may be a style reference."""
    photo = write_photo(tmp_path / "a.jpg")
    styles = tmp_path / "styles"
    styles.mkdir()
    style = write_photo(styles / "a.jpg", seed=3)
    mask = write_mask(tmp_path / "m.png")
    before = style.read_bytes()
    rc, err = cli(["apply", photo, "--style", style, "--mask", mask, "-o", styles], capfd)
    assert rc == 2, err
    one_line_error(err, "refusing", "style")
    assert style.read_bytes() == before


@pytest.mark.parametrize("which", ["a", "b", "b_gif", "a_gif"])
def test_interpolate_refuses_any_output_on_an_input(tmp_path, which, capfd):
    """The strip (-o) and the derived OUT.gif / OUT.webp never replace A or B."""
    if which == "a":  # interpolate a.webp style.jpg -o a.png: a.webp is the derived animation
        a, b, out = tmp_path / "a.webp", tmp_path / "style.jpg", tmp_path / "a.png"
    elif which == "b":
        a, b, out = tmp_path / "x.jpg", tmp_path / "b.gif", tmp_path / "b.png"
    elif which == "b_gif":
        a, b, out = tmp_path / "x.jpg", tmp_path / "b.webp", tmp_path / "b.png"
    else:
        a, b, out = tmp_path / "a.gif", tmp_path / "y.jpg", tmp_path / "a.jpg"
    Image.fromarray(textured(48, 64)).save(a)
    Image.fromarray(textured(48, 64, 1)).save(b)
    before = snapshot_bytes(a, b)
    rc, err = cli(["interpolate", a, b, "--steps", "2", "-o", out], capfd)
    assert rc == 2, err
    one_line_error(err, "refusing")
    assert snapshot_bytes(a, b) == before
    assert not out.exists()


def test_batch_refuses_to_write_into_the_mask_folder(tmp_path, capfd):
    """apply photos/ --mask masks/ --format png -o masks/ would replace every mask."""
    photos, masks = tmp_path / "photos", tmp_path / "masks"
    photos.mkdir()
    masks.mkdir()
    for n in ("a", "b"):
        write_photo(photos / f"{n}.jpg")
        write_mask(masks / f"{n}.png")
    before = snapshot_bytes(*masks.iterdir(), *photos.iterdir())
    rc, err = cli(["apply", photos, "--style", STYLE, "--mask", masks, "--format", "png", "-o", masks], capfd)
    assert rc == 2, err
    one_line_error(err, "mask")
    assert snapshot_bytes(*masks.iterdir(), *photos.iterdir()) == before
    assert sorted(p.name for p in masks.iterdir()) == ["a.png", "b.png"]


def test_batch_refuses_any_result_landing_on_an_input(tmp_path, capfd):
    """The results folder holds the single mask and the style reference, named like two of the
    results: nothing at all is written (checked before the first photo)."""
    photos, out = tmp_path / "photos", tmp_path / "res"
    photos.mkdir()
    out.mkdir()
    write_photo(photos / "a.jpg")
    write_photo(photos / "b.jpg", seed=2)
    write_photo(photos / "c.jpg", seed=3)
    mask = write_mask(out / "b.png")  # one mask for every photo, named like a result
    style = write_photo(out / "c.png", seed=4)  # the style, named like another result
    before = snapshot_bytes(mask, style)
    rc, err = cli(["apply", photos, "--style", style, "--mask", mask, "--format", "png", "-o", out], capfd)
    assert rc == 2, err
    one_line_error(err, "refusing")
    assert snapshot_bytes(mask, style) == before
    assert sorted(p.name for p in out.iterdir()) == ["b.png", "c.png"]  # a.png was not written either


def test_save_image_protects_every_listed_input(tmp_path):
    from tcp_core.imageio import ImageSaveError, save_image

    a = write_photo(tmp_path / "a.png")
    b = write_mask(tmp_path / "b.png")
    before = snapshot_bytes(a, b)
    for target in (a, b):
        with pytest.raises(ImageSaveError, match="Refusing"):
            save_image(target, textured(8, 8), overwrite_protect=[a, b])
    assert snapshot_bytes(a, b) == before


# ---------------------------------------------------------------------------------------------
# 4, 13: training: the output folder is checked first; the log and the skipped list are not repeated


def train_cli(argv: list, capfd, monkeypatch) -> tuple[int, str]:
    from tcp_core.train import main as train_main

    monkeypatch.setenv("TCP_NO_REEXEC", "1")
    import torch

    n = torch.get_num_threads()
    try:
        rc = train_main([str(a) for a in argv])
    finally:
        torch.set_num_threads(n)
    return rc, capfd.readouterr().err


def small_train_args(data: Path, out: Path) -> list:
    return [data, "--out", out, "--preset", "tiny", "--steps", "2", "--batch-size", "2", "--sample-every", "2",
            "--checkpoint-every", "2", "--log-every", "1", "--device", "cpu", "--threads", "1"]


@pytest.fixture
def train_data(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    for i in range(2):
        write_photo(d / f"photo{i}.jpg", 64, 96, seed=i)
    return d


@pytest.mark.parametrize("kind", ["file", "below_a_file", "read_only"])
def test_train_checks_the_output_folder_before_decoding_photos(train_data, kind, capfd, monkeypatch):
    import tcp_core.train as tr

    def no_decoding(*a, **k):
        raise AssertionError("photos were decoded before the output folder was checked")

    monkeypatch.setattr(tr, "load_photos", no_decoding)
    photo = train_data / "photo0.jpg"
    before = photo.read_bytes()
    out = {"file": photo, "below_a_file": photo / "run", "read_only": train_data / "ro"}[kind]
    if kind == "read_only":
        out.mkdir()
        out.chmod(0o555)
        if os.access(out, os.W_OK):  # root ignores the mode bits: fail the probe as the OS would
            def refuse(*a, **k):
                raise PermissionError(13, "Permission denied")

            monkeypatch.setattr(tr.tempfile, "mkstemp", refuse)
    try:
        rc, err = train_cli(small_train_args(train_data, out), capfd, monkeypatch)
    finally:
        if kind == "read_only":
            out.chmod(0o755)
    assert rc == 2, err
    assert "Traceback" not in err
    last = [ln for ln in err.splitlines() if ln.strip()][-1]
    assert last.startswith("error:") and str(out) in last, err
    assert {"file": "not a folder", "below_a_file": "not a directory", "read_only": "permission denied"}[kind] \
        in last.lower()
    assert photo.read_bytes() == before


def test_train_resume_does_not_repeat_log_rows(train_data, tmp_path):
    """A run killed after logging steps past its last checkpoint: the resumed run logs them again,
    so those rows are dropped first; every step appears once."""
    import csv

    from tcp_core.config import TrainConfig
    from tcp_core.train import list_states, train

    run = tmp_path / "run"
    cfg = dict(preset="tiny", batch_size=2, tcp_every=2, r1_every=2, sample_every=100, checkpoint_every=2,
               log_every=1, keep_checkpoints=5)
    train([train_data], run, TrainConfig(steps=4, **cfg), device="cpu", quiet=True)
    list_states(run)[-1].unlink()  # as if killed at step 4 before its checkpoint: resume from step 2
    with open(run / "log.csv", "a") as f:
        f.write("5,1.0,0.5")  # and a row cut off mid-write
    train([train_data], run, TrainConfig(steps=4, **cfg), device="cpu", resume=True, quiet=True)
    steps = [int(r["step"]) for r in csv.DictReader(open(run / "log.csv"))]
    assert steps == [1, 2, 3, 4]


def test_train_lists_skipped_photos_once(train_data, tmp_path):
    import subprocess
    import sys

    (train_data / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    env = dict(os.environ, TCP_NO_REEXEC="1", PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-m", "tcp_core.train", *map(str, small_train_args(train_data,
                          tmp_path / "run"))], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert sum("broken.jpg" in ln for ln in res.stderr.splitlines()) == 1, res.stderr
    assert "skipped 1 unreadable file" in res.stderr
