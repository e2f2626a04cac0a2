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
import shutil
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tcp_core.editing.cli import main as apply_main

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


def test_apply_refuses_output_on_the_weights_file(inputs, tmp_path, capfd, tiny_weights):
    """--weights is an input too (a weights file named like an image is odd, but must survive)."""
    photo, style, mask = inputs
    w = tmp_path / "w.png"
    shutil.copyfile(tiny_weights, w)
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
    from tcp_core.io.imageio import ImageSaveError, save_image

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
    from tcp_core.training.cli import main as train_main

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
    import tcp_core.training.run as tr

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

    from tcp_core.base.config import TrainConfig
    from tcp_core.training.run import list_states, train

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


def test_train_loss_weight_flags_reach_the_saved_config_and_bad_ones_are_refused(train_data, tmp_path, capfd,
                                                                                 monkeypatch):
    import json

    from tcp_core.networks.checkpoint import load_tensors
    from tcp_core.training.run import list_states

    out = tmp_path / "run"
    rc, err = train_cli(small_train_args(train_data, out) + ["--cc-weight", "2", "--ca-weight", "0.5",
                                                                  "--rec-weight", "3", "--gan-rec-weight", "0.1"],
                        capfd, monkeypatch)
    assert rc == 0, err
    saved = json.loads(load_tensors(list_states(out)[-1])[1]["train_config"])["weights"]
    assert (saved["code_consistency"], saved["content_alignment"]) == (2.0, 0.5)
    assert (saved["rec"], saved["gan_rec"]) == (3.0, 0.1)
    for flag, value in (("--ca-weight", "-1"), ("--cc-weight", "nan"), ("--perceptual", "inf"),
                        ("--rec-weight", "-2")):
        rc, err = train_cli(small_train_args(train_data, tmp_path / "bad") + [flag, value], capfd, monkeypatch)
        assert rc == 2 and "must be a finite number >= 0" in err and "Traceback" not in err, err
        assert not (tmp_path / "bad").exists()  # refused before anything is written


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


# ---------------------------------------------------------------------------------------------
# 5-7: project files: bounded by what they hold


def png_bytes(arr: np.ndarray) -> bytes:
    b = io.BytesIO()
    Image.fromarray(arr).save(b, format="PNG", compress_level=9)
    return b.getvalue()


def project_zip(path: Path, *, photo_hw=(16, 24), regions=(), pls=1024, members=None, photo_extra=None) -> Path:
    """A .tcpproj: `regions` is a list of (mask member, style member or None); `members` maps
    names to bytes (a mask or style not given is made at the preview size)."""
    h, w = photo_hw
    members = dict(members or {})
    members.setdefault("photo.png", png_bytes(np.full((h, w, 3), 90, np.uint8)))
    meta = {
        "format": "tcpproj", "version": 1,
        "photo": {"file": "photo.png", "width": w, "height": h, "alpha": None, "exif": None, "icc": None,
                  **(photo_extra or {})},
        "preview_long_side": pls, "regions": [],
    }
    s = min(1.0, pls / max(h, w))
    ph, pw = (max(1, round(h * s)), max(1, round(w * s)))
    for i, (mask, style) in enumerate(regions):
        members.setdefault(mask, png_bytes(np.zeros((ph, pw), np.uint8)))
        meta["regions"].append({"name": f"r{i}", "mask": mask, "style": style})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.json", json.dumps(meta), compress_type=zipfile.ZIP_DEFLATED)
        for n, d in members.items():
            z.writestr(n, d, compress_type=zipfile.ZIP_DEFLATED)
    return path


def patch_declared_size(path: Path, member: str, size: int) -> None:
    """Make the zip declare `size` uncompressed bytes for `member` (local and central headers)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    name = member.encode()
    i = 0
    while True:
        i = data.index(b"PK\x01\x02", i)
        n = struct.unpack_from("<H", data, i + 28)[0]
        if bytes(data[i + 46: i + 46 + n]) == name:
            struct.pack_into("<I", data, i + 24, size)
            break
        i += 4
    path.write_bytes(bytes(data))


def load_project_peak(path: Path):
    """(snapshot or ProjectError, peak Python-heap bytes, seconds)."""
    import tracemalloc

    from tcp_editor import project

    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        try:
            out = project.load(str(path))
        except project.ProjectError as e:
            out = e
        return out, tracemalloc.get_traced_memory()[1], time.perf_counter() - t0
    finally:
        tracemalloc.stop()


def test_project_member_is_never_inflated_beyond_its_declared_size(tmp_path):
    """A member that declares 1,000 bytes but inflates to 64 MB: read as 1,000 bytes, then refused
    (CRC), without inflating the rest (zipfile's read() inflates up to 2 GB in one call)."""
    from tcp_editor import project

    p = project_zip(tmp_path / "p.tcpproj", photo_extra={"exif": "photo.exif"},
                    members={"photo.exif": b"\0" * (64 << 20)})
    patch_declared_size(p, "photo.exif", 1000)
    out, peak, _ = load_project_peak(p)
    assert isinstance(out, project.ProjectError), out
    assert "photo.exif" in str(out) and "damaged" in str(out)
    assert peak < 16 << 20, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("member", ["photo.exif", "photo.icc", "photo.png", "project.json"])
def test_project_members_larger_than_any_real_project_are_refused_unread(tmp_path, member):
    """EXIF over 1 MB, ICC over 16 MB, a PNG whose size does not fit its pixels, project.json over
    8 MB: refused from the zip directory (declared ~900 MB, real content small), nothing read."""
    from tcp_editor import project

    p = project_zip(tmp_path / "p.tcpproj", photo_extra={"exif": "photo.exif", "icc": "photo.icc"},
                    members={"photo.exif": b"Exif\0\0" + b"\0" * 100, "photo.icc": b"\0" * 200})
    patch_declared_size(p, member, 900 << 20)
    out, peak, secs = load_project_peak(p)
    assert isinstance(out, project.ProjectError), out
    assert "too large" in str(out) and member in str(out), out
    assert peak < 16 << 20 and secs < 2


@pytest.mark.parametrize("what", ["exif", "icc"])
def test_project_with_big_metadata_blobs_is_refused_and_never_written(tmp_path, what):
    """Item 7: a project whose EXIF/ICC members really are big (2 MB of EXIF, 17 MB of ICC here;
    1 GB in the report) is refused; saving such metadata drops it so autosave stays small."""
    from tcp_editor import project

    size = {"exif": 2 << 20, "icc": 17 << 20}[what]
    blob = b"\0" * size
    p = project_zip(tmp_path / "p.tcpproj", photo_extra={what: f"photo.{what}"}, members={f"photo.{what}": blob})
    out, _, _ = load_project_peak(p)
    assert isinstance(out, project.ProjectError) and "too large" in str(out), out
    snap = project.Snapshot(np.full((8, 8, 3), 7, np.uint8), exif=blob if what == "exif" else b"Exif\0\0",
                            icc=blob if what == "icc" else None)
    q = tmp_path / "saved.tcpproj"
    project.write(str(q), snap)
    assert q.stat().st_size < 1 << 20
    back = project.load(str(q))
    assert getattr(back, what) in (None, b"Exif\0\0")


def test_project_masks_larger_than_the_preview_are_refused_from_the_header(tmp_path):
    """Item 6 (small): 16 regions pointing at one 2048x2048 mask of a 64x64 photo; masks are stored
    at the preview size, so this is refused before any decoding."""
    from tcp_editor import project

    big = png_bytes(np.zeros((2048, 2048), np.uint8))
    p = project_zip(tmp_path / "p.tcpproj", photo_hw=(64, 64), pls=4096,
                    regions=[("masks/0.png", None)] * 16, members={"masks/0.png": big})
    out, peak, secs = load_project_peak(p)
    assert isinstance(out, project.ProjectError), out
    assert "larger than" in str(out)
    assert secs < 2 and peak < 16 << 20


def test_project_total_pixels_are_bounded_before_decoding(tmp_path, monkeypatch):
    """Item 6: 256 regions x one 100 MP mask (a 690 KB file) took 448 s. Every use of every image
    member counts against MAX_TOTAL_PIXELS, checked from the PNG headers; here with a small limit."""
    from tcp_editor import project

    monkeypatch.setattr(project, "MAX_TOTAL_PIXELS", 2_000_000)
    decodes = []
    real = project._read_image
    monkeypatch.setattr(project, "_read_image", lambda *a, **k: decodes.append(a[1]) or real(*a, **k))
    p = project_zip(tmp_path / "p.tcpproj", photo_hw=(256, 256), regions=[("masks/0.png", None)] * 16)
    out, _, _ = load_project_peak(p)  # 17 x 65536 px: fine, and the shared mask is decoded once
    assert isinstance(out, project.Snapshot), out
    assert sorted(decodes) == ["masks/0.png", "photo.png"]
    p = project_zip(tmp_path / "q.tcpproj", photo_hw=(256, 256), regions=[("masks/0.png", None)] * 15)
    monkeypatch.setattr(project, "MAX_TOTAL_PIXELS", 15 * 65536)
    decodes.clear()
    out, _, _ = load_project_peak(p)
    assert isinstance(out, project.ProjectError) and "megapixels" in str(out), out
    assert decodes == []


# ---------------------------------------------------------------------------------------------
# 8, 10: weights files: the config is bounded and checked against the file before anything is built


def tiny_state():

    from tcp_core.editing.inference import TCPModel

    net = TCPModel.from_config("tiny", device="cpu", seed=0).net
    return {k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}, net.config


def save_weights(path: Path, sd, cfg_json: str, fmt: str = "tcp-editor") -> Path:
    from safetensors.torch import save_file

    save_file(sd, str(path), metadata={"format": fmt, "format_version": "1", "model_config": cfg_json})
    return path


@pytest.mark.parametrize("field, value, words", [
    ("style_dim", 2 ** 19, ("style_dim", "between")),
    ("enc_stem", -5, ("enc_stem", "between")),
    ("style_dim", "32", ("style_dim", "integer")),
    ("content_channels", 4.0, ("content_channels", "integer")),
    ("enc_channels", [8, [16]], ("enc_channels[1]", "integer")),
    ("style_channels", [16, 32, 64], ("style_channels", "2 entries")),
    ("resolution", 2 ** 20, ("resolution", "between")),
    ("dco_num_crops", 10 ** 6, ("dco_num_crops", "between")),
    ("dco_min_scale", -1, ("dco_min_scale",)),
])
def test_weights_config_fields_are_bounded_and_typed(tmp_path, field, value, words):
    from tcp_core.networks.checkpoint import CheckpointError, load_net

    sd, cfg = tiny_state()
    raw = json.loads(cfg.to_json())
    raw[field] = value
    p = save_weights(tmp_path / "w.safetensors", sd, json.dumps(raw))
    with pytest.raises(CheckpointError) as ei:
        load_net(p)
    msg = str(ei.value)
    assert "invalid model_config" in msg
    for w in words:
        assert w in msg, msg


def test_weights_shapes_are_checked_before_the_model_is_built(tmp_path, monkeypatch):
    """A config within every bound but far bigger than the file's tensors (the 6.7 MB file whose
    config said style_dim = 2^19 allocated 3.3 GB first): refused from the header, nothing built."""
    import torch

    import tcp_core.networks.checkpoint as ck

    built = []
    real = ck.TCPNet

    def spy(cfg, **kwargs):
        if torch.empty(0).device.type != "meta":
            built.append(cfg)
        return real(cfg, **kwargs)

    monkeypatch.setattr(ck, "TCPNet", spy)
    sd, cfg = tiny_state()
    raw = json.loads(cfg.to_json())
    raw["style_dim"] = 4096
    p = save_weights(tmp_path / "w.safetensors", sd, json.dumps(raw))
    with pytest.raises(ck.CheckpointError, match="shape"):
        ck.load_net(p)
    assert built == []
    ck.load_net(save_weights(tmp_path / "ok.safetensors", sd, cfg.to_json()))  # the real one loads
    assert len(built) == 1


def test_weights_config_with_too_many_parameters_is_refused(tmp_path, monkeypatch):
    import tcp_core.networks.checkpoint as ck

    monkeypatch.setattr(ck, "MAX_MODEL_PARAMS", 1000)
    sd, cfg = tiny_state()
    with pytest.raises(ck.CheckpointError, match="parameters"):
        ck.load_net(save_weights(tmp_path / "w.safetensors", sd, cfg.to_json()))


def test_float64_weights_load_as_float32(tmp_path):
    import torch

    from tcp_core.networks.checkpoint import load_net

    sd, cfg = tiny_state()
    net = load_net(save_weights(tmp_path / "w64.safetensors", {k: v.double() for k, v in sd.items()},
                                  cfg.to_json()))
    for k, v in net.state_dict().items():
        assert v.dtype == torch.float32 and torch.equal(v, sd[k]), k


def test_integer_weights_get_an_accurate_message(tmp_path):
    import torch

    from tcp_core.networks.checkpoint import CheckpointError, load_net

    sd, cfg = tiny_state()
    k0 = next(iter(sd))
    with pytest.raises(CheckpointError, match="floating point") as ei:
        load_net(save_weights(tmp_path / "i.safetensors", {**sd, k0: sd[k0].to(torch.int32)}, cfg.to_json()))
    assert "I32" in str(ei.value)


@pytest.mark.parametrize("low", [0x0080, 0x0280, 0x0580])
def test_foreign_safetensors_is_never_called_a_pickle(tmp_path, low):
    """A header length whose first bytes are 0x80, 0x00..0x05 looks like a pickle opcode."""
    import torch

    from tcp_core.networks.checkpoint import CheckpointError, load_net

    for pad in range(0, 2000):
        p = save_weights(tmp_path / "f.safetensors", {"x": torch.zeros(2)}, "", fmt="pt" + " " * pad)
        n = struct.unpack("<Q", p.read_bytes()[:8])[0]
        if n & 0xFFFF == low:
            break
    else:
        pytest.skip("could not make that header length")
    with pytest.raises(CheckpointError) as ei:
        load_net(p)
    assert "pickle" not in str(ei.value) and "not a TCP Editor model" in str(ei.value), ei.value


# ---------------------------------------------------------------------------------------------
# 9: an image may not declare far more pixels than its file can hold


def test_tiny_file_declaring_a_huge_image_is_refused_from_the_header(tmp_path, capfd):
    """A 1-bit PNG of 36 MP in ~5 KB (the report's: 99.8 MP in 12 KB, 2.1 GB and 12 s): refused
    before decoding, through the library and the CLI (as photo and as style)."""
    import tracemalloc

    from tcp_core.io.imageio import ImageLoadError, load_image

    p = tmp_path / "bomb.png"
    Image.fromarray(np.zeros((6000, 6000), bool)).save(p)
    assert p.stat().st_size < 10_000
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ImageLoadError, match="pixels per byte") as ei:
            load_image(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 1 and peak < 8 << 20
    assert "decompression bomb" in str(ei.value)
    photo = write_photo(tmp_path / "ok.png")
    mask = write_mask(tmp_path / "m.png")
    for argv in (["apply", p, "--style", STYLE, "--mask", mask, "-o", tmp_path / "r1.png"],
                 ["apply", photo, "--style", p, "--mask", mask, "-o", tmp_path / "r2.png"]):
        rc, err = cli(argv, capfd)
        assert rc == 2, err
        one_line_error(err, "pixels per byte")


def test_flat_but_genuine_images_and_masks_still_load(tmp_path):
    """A flat 24 MP RGB PNG (~340 pixels per byte) loads; a 1-bit mask as large as its photo loads
    as that photo's mask, however small its file."""
    from tcp_core.io.imageio import ImageLoadError, load_image, load_mask

    flat = tmp_path / "flat.png"
    Image.fromarray(np.full((4000, 6000, 3), 200, np.uint8)).save(flat)
    assert load_image(flat).size == (6000, 4000)
    m = tmp_path / "mask1.png"
    a = np.zeros((5000, 5000), bool)
    a[1000:2000, 1000:3000] = True
    Image.fromarray(a).save(m)
    assert m.stat().st_size * 1024 < 25_000_000  # beyond the per-byte bound on its own
    with pytest.raises(ImageLoadError):
        load_image(m)
    out = load_mask(m, size=(5000, 5000))
    assert out.shape == (5000, 5000) and out[1500, 1500] == 1.0 and out[0, 0] == 0.0


# ---------------------------------------------------------------------------------------------
# 11, 12: full disks and killed writes


@pytest.fixture
def disk_full_after(monkeypatch):
    """disk_full_after(n): the first n temp files of atomic writes work, later ones are on a full disk
    (their descriptor is /dev/full, so libtiff and every encoder meet ENOSPC as on a real full disk)."""
    import tempfile

    import tcp_core.io.files as files

    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    real = tempfile.mkstemp

    def arm(n: int) -> None:
        count = [0]

        def mkstemp(prefix="", suffix="", dir=None):
            fd, name = real(prefix=prefix, suffix=suffix, dir=dir)
            count[0] += 1
            if count[0] <= n:
                return fd, name
            os.close(fd)
            return os.open("/dev/full", os.O_WRONLY), name

        monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp)

    return arm


@pytest.mark.parametrize("ok_writes", [0, 1, 2])
def test_interpolate_on_a_full_disk_writes_nothing(tmp_path, disk_full_after, ok_writes, capfd):
    """The strip, the GIF and the WebP are written together: when any of them meets a full disk,
    none is left (the message says nothing was written, and that is true)."""
    a = write_photo(tmp_path / "a.png")
    b = write_photo(tmp_path / "b.png", seed=1)
    out = tmp_path / "out" / "strip.png"
    out.parent.mkdir()
    disk_full_after(ok_writes)
    rc, err = cli(["interpolate", a, b, "--steps", "2", "-o", out], capfd)
    assert rc == 2, err
    one_line_error(err, "no space left", "nothing was written")
    assert os.listdir(out.parent) == []


def test_tiff_on_a_full_disk_is_one_clean_line(tmp_path, disk_full_after, capfd):
    photo = write_photo(tmp_path / "p.png")
    mask = write_mask(tmp_path / "m.png")
    out = tmp_path / "out"
    out.mkdir()
    disk_full_after(0)
    rc, err = cli(["apply", photo, "--style", STYLE, "--mask", mask, "-o", out / "r.tif"], capfd)
    assert rc == 2, err
    one_line_error(err, "no space left")  # libtiff printed "Error writing TIFF header." here
    assert "TIFF header" not in err and os.listdir(out) == []


def test_a_killed_save_leaves_no_temp_file_for_long(tmp_path):
    """kill -9 mid-save leaves .NAME.XXXXXXXX.part; the next save of NAME removes it once it is
    stale (untouched for STALE_TEMP_S), and leaves a fresh one (a write in progress) alone."""
    import signal
    import subprocess
    import sys

    from tcp_core.io.imageio import STALE_TEMP_S, save_image

    target = tmp_path / "r.png"
    code = ("import sys, time; from tcp_core.io.imageio import atomic_write\n"
            "def w(f):\n    f.write(b'x' * 100000); f.flush(); print('writing', flush=True); time.sleep(120)\n"
            "atomic_write(sys.argv[1], w)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert len(parts) == 1 and parts[0].name.startswith(".r.png.")
    fresh = tmp_path / ".r.png.zzzz9999.part"
    fresh.write_bytes(b"a write in progress")
    other = tmp_path / ".notes.txt.abcd1234.part"  # not ours to remove
    other.write_bytes(b"x")
    old = time.time() - STALE_TEMP_S - 10
    for p in (parts[0], other):
        os.utime(p, (old, old))
    save_image(target, textured(8, 8))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, fresh.name, other.name])


def test_gui_smoke_mode_with_bad_weights_exits_promptly(tmp_path):
    """TCP_EDITOR_SMOKE_QUIT_MS with weights that do not load: exit code 3 and one FAILED line at
    once, not after SMOKE_GIVE_UP_S (180 s) behind a modal error dialog."""
    import subprocess
    import sys

    bad = tmp_path / "bad.safetensors"
    bad.write_text("not weights\n" * 10)
    env = {**os.environ, "TCP_EDITOR_SMOKE_QUIT_MS": "300", "QT_QPA_PLATFORM": "offscreen",
           "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "tcp_editor", "--weights", str(bad), "--device", "cpu"], cwd=ROOT,
                         capture_output=True, text=True, timeout=90, env=env)
    assert out.returncode == 3, (out.stdout, out.stderr[-2000:])
    assert "gui smoke: FAILED: the model did not load" in out.stdout and "safetensors" in out.stdout, out.stdout
    assert time.monotonic() - t0 < 60


@pytest.mark.parametrize("case", ["init_is_the_export", "out_is_the_data"])
def test_train_never_writes_onto_its_inputs(train_data, tmp_path, case, capfd, monkeypatch, tiny_weights):
    """--init RUN/model-ema.safetensors --out RUN would replace the model it starts from; --out DATA
    would put sample sheets among the training photos."""
    run = tmp_path / "run"
    run.mkdir()
    init = run / "model-ema.safetensors"
    shutil.copyfile(tiny_weights, init)
    before = init.read_bytes()
    args = small_train_args(train_data, run if case == "init_is_the_export" else train_data)
    if case == "init_is_the_export":
        args = [a for a in args if a not in ("--preset", "tiny")] + ["--init", init]
    rc, err = train_cli(args, capfd, monkeypatch)
    assert rc == 2, err
    last = [ln for ln in err.splitlines() if ln.strip()][-1]
    assert last.startswith("error:") and ("--init" in last if case == "init_is_the_export" else "data folder" in last)
    assert init.read_bytes() == before
    assert sorted(p.name for p in train_data.iterdir()) == ["photo0.jpg", "photo1.jpg"]


def test_eval_refuses_to_write_its_report_onto_an_input(tmp_path):
    """`eval --out` whose report name is one of the pairs' files (or the pairs file) stops before writing."""
    import csv as _csv

    import numpy as _np
    from PIL import Image as _Image

    from tcp_core.eval.evaluate import EvalError, evaluate

    d = tmp_path / "set"
    d.mkdir()
    rng = _np.random.default_rng(0)
    _Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=_np.uint8)).save(d / "contact_sheet.png")
    _Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=_np.uint8)).save(d / "style.png")
    _Image.fromarray((rng.random((64, 64)) > 0.5).astype(_np.uint8) * 255).save(d / "mask.png")
    with open(d / "PAIRS.csv", "w", newline="") as f:
        _csv.writer(f).writerows([["content", "style", "mask"], ["contact_sheet.png", "style.png", "mask.png"]])
    before = (d / "contact_sheet.png").read_bytes()
    with pytest.raises(EvalError, match="refusing to write"):
        evaluate(d / "PAIRS.csv", None, d)
    assert (d / "contact_sheet.png").read_bytes() == before
    assert not (d / "report.json").exists()
