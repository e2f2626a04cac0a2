"""Fuzz tests (hypothesis) of the two readers that take files from users:

* `tcp_core.io.imageio.load_image` / `load_mask`: random bytes and mutated valid PNG/JPEG/GIF/WebP/
  TIFF/BMP bytes. Every outcome is a valid array or `ImageLoadError`, never another exception.
* `tcp_editor.project.load` (the `.tcpproj` reader): mutated zip bytes and valid zips whose
  project.json is mutated. Every outcome is a valid `Snapshot` or `ProjectError`.

Deterministic (derandomized, no example database) so CI runs are reproducible; each test runs
60-150 examples, plus pinned inputs that once escaped the project reader.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

from tcp_core.io.imageio import ImageLoadError, LoadedImage, load_image, load_mask  # noqa: E402

BAD = Path(__file__).resolve().parent / "data" / "bad"
FUZZ_MAX_PIXELS = 2_000_000  # a mutated header may claim a big image; keep every decode small

SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SEEDS = {name: (BAD / name).read_bytes() for name in (
    "ok_rgb.png", "ok_rgb.jpg", "ok_rgb.webp", "ok_rgb.bmp", "ok_rgb.tif", "animated.gif",
    "palette_transparent.png", "gray16.png", "rgb16.png", "cmyk.jpg", "exif_rotated.jpg", "la.png")}


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


# ---------------------------------------------------------------------------------------------
# byte mutations


@st.composite
def mutated(draw, seeds: dict[str, bytes]):
    """A valid file's bytes after 1-4 random mutations (flip, overwrite, insert, delete, truncate,
    duplicate a slice). The header is hit often: that is where size and mode live."""
    name = draw(st.sampled_from(sorted(seeds)))
    data = bytearray(seeds[name])
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "dup", "header"]))
        n = len(data)
        if n == 0:
            break
        pos = draw(st.integers(0, n - 1))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[pos] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]))
        elif op == "header":  # overwrite bytes in the first 64 (sizes, modes, chunk lengths)
            p = draw(st.integers(0, min(63, n - 1)))
            chunk = draw(st.binary(min_size=1, max_size=4))
            data[p:p + len(chunk)] = chunk
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[pos:]
        else:
            k = draw(st.integers(1, 128))
            data[pos:pos] = data[pos:pos + k]
    return name, bytes(data)


def _check_image(img, keep_16bit=False):
    assert isinstance(img, LoadedImage)
    a = img.rgb
    assert isinstance(a, np.ndarray) and a.ndim == 3 and a.shape[2] == 3
    assert a.shape[0] >= 1 and a.shape[1] >= 1
    assert a.dtype == np.uint8 or (keep_16bit and a.dtype == np.uint16)
    assert a.flags.c_contiguous
    if img.alpha is not None:
        assert img.alpha.shape == a.shape[:2] and img.alpha.dtype == np.uint8


def _load_both(path: Path) -> None:
    """load_image (two flag sets) and load_mask: each gives a valid result or ImageLoadError."""
    for kw in ({}, {"keep_alpha": True, "keep_16bit": True}):
        try:
            img = load_image(path, max_pixels=FUZZ_MAX_PIXELS, **kw)
        except ImageLoadError as e:
            assert str(e)
        else:
            _check_image(img, kw.get("keep_16bit", False))
    try:
        m = load_mask(path, max_pixels=FUZZ_MAX_PIXELS)
    except ImageLoadError as e:
        assert str(e)
    else:
        assert m.ndim == 2 and m.dtype == np.float32 and m.size > 0
        assert np.isfinite(m).all() and m.min() >= 0.0 and m.max() <= 1.0
        try:  # resized to another size of a different aspect: refused cleanly, or resized
            r = load_mask(path, size=(m.shape[1] * 2, m.shape[0] * 2), max_pixels=FUZZ_MAX_PIXELS)
        except ImageLoadError:
            pass
        else:
            assert r.shape == (m.shape[0] * 2, m.shape[1] * 2)


@settings(max_examples=150, **SETTINGS)
@given(case=mutated(SEEDS))
def test_mutated_images_load_or_raise_image_load_error(fuzz_dir, case):
    name, data = case
    p = fuzz_dir / ("m" + os.path.splitext(name)[1])
    p.write_bytes(data)
    _load_both(p)


@settings(max_examples=80, **SETTINGS)
@given(data=st.binary(min_size=0, max_size=600),
       prefix=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"RIFF\x00\x01\x00\x00WEBP",
                               b"II*\x00", b"MM\x00*", b"BM", b"P6\n", b"\x00\x00\x01\x00"]),
       ext=st.sampled_from([".jpg", ".png", ".webp", ".gif", ".tif", ".bmp", ".ico", ""]))
def test_random_bytes_load_or_raise_image_load_error(fuzz_dir, data, prefix, ext):
    p = fuzz_dir / f"r{ext}"
    p.write_bytes(prefix + data)
    _load_both(p)


def test_seeds_themselves_load():
    """The fuzz seeds are valid images (so mutations start from something real)."""
    for name in SEEDS:
        _check_image(load_image(BAD / name, keep_alpha=True, keep_16bit=True), keep_16bit=True)


# ---------------------------------------------------------------------------------------------
# the project-file reader

try:  # the project reader lives in the GUI package (Qt); the image fuzzing above runs without it
    from tcp_editor import project
except ImportError:  # pragma: no cover - GUI-less installs
    project = None
needs_project = pytest.mark.skipif(project is None, reason="tcp_editor (PySide6) is not installed")


def _png(arr: np.ndarray) -> bytes:
    b = io.BytesIO()
    Image.fromarray(arr).save(b, format="PNG")
    return b.getvalue()


PHOTO = (np.arange(24 * 16 * 3) % 251).astype(np.uint8).reshape(16, 24, 3)
MASK16 = np.zeros((16, 24), np.uint16)
MASK16[4:12, 6:18] = 65535
BASE_META = {
    "format": "tcpproj", "version": 1, "app": "TCP Editor", "saved_at": 1700000000.0,
    "photo": {"file": "photo.png", "width": 24, "height": 16, "source_path": "/x/photo.jpg",
              "alpha": None, "exif": None, "icc": None},
    "preview_long_side": 1024, "global_transfer": False, "smoothing": 6,
    "interpolation": {"file": None, "source_path": "", "what": "style", "amount": 0.0},
    "active_region": 0,
    "regions": [{"name": "Sky", "strength": 0.5, "visible": True, "mask": "masks/0.png",
                 "style": "styles/0.png", "style_path": "/x/s.jpg", "style_name": "s"}],
}
MEMBERS = {"photo.png": _png(PHOTO), "masks/0.png": _png(MASK16), "styles/0.png": _png(PHOTO[::-1].copy())}


def _zip(meta, members=MEMBERS, json_text: str | None = None) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("project.json", json_text if json_text is not None else json.dumps(meta),
                   compress_type=zipfile.ZIP_DEFLATED)
        for n, d in members.items():
            z.writestr(n, d)
    return b.getvalue()


VALID_ZIP = _zip(BASE_META)


def _load_project(path: Path):
    try:
        snap = project.load(str(path))
    except project.ProjectError as e:
        assert str(e).startswith("Cannot open the project")
        return None
    assert isinstance(snap, project.Snapshot)
    assert snap.photo.ndim == 3 and snap.photo.shape[2] == 3 and snap.photo.dtype == np.uint8
    for r in snap.regions:
        assert r.mask.ndim == 2 and r.mask.dtype == np.float32
        assert np.isfinite(r.mask).all() and 0 <= r.mask.min() and r.mask.max() <= 1
        assert 0.0 <= r.strength <= 1.0
    assert 0.0 <= snap.interp_amount <= 1.0
    assert isinstance(snap.smoothing, int) and 0 <= snap.smoothing <= 32
    return snap


@needs_project
def test_valid_project_loads(tmp_path):
    p = tmp_path / "ok.tcpproj"
    p.write_bytes(VALID_ZIP)
    snap = _load_project(p)
    assert snap is not None and len(snap.regions) == 1 and snap.regions[0].strength == 0.5


@needs_project
@settings(max_examples=120, **SETTINGS)
@given(case=mutated({"p.tcpproj": VALID_ZIP}))
def test_mutated_project_zip_bytes(fuzz_dir, case):
    p = fuzz_dir / "z.tcpproj"
    p.write_bytes(case[1])
    _load_project(p)


# JSON values a mutation may put anywhere (integers beyond float range included).
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.sampled_from([10**400, -(10**400), 2**63, 2**64])
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
    | st.sampled_from(["photo.png", "masks/0.png", "styles/0.png", "missing.png", "../photo.png", "style",
                       "content", "tcpproj", ""]),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
    max_leaves=6,
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(BASE_META) if p]


def _set(obj, path, value, delete=False):
    for k in path[:-1]:
        obj = obj[k]
    if delete:
        del obj[path[-1]]
    else:
        obj[path[-1]] = value


@needs_project
@settings(max_examples=150, **SETTINGS)
@given(edits=st.lists(st.tuples(st.sampled_from(ALL_PATHS), json_values, st.booleans()), min_size=1, max_size=3),
       drop_member=st.sampled_from([None, "photo.png", "masks/0.png", "styles/0.png"]),
       bad_member=st.sampled_from([None, "photo.png", "masks/0.png"]))
@example(edits=[(("regions",), [{"mask": "masks/0.png"}] * 300, False)], drop_member=None, bad_member=None)
@example(edits=[(("photo", "width"), 10**6, False)], drop_member=None, bad_member=None)
@example(edits=[(("interpolation", "what"), ["style"], False)], drop_member=None, bad_member=None)
@example(edits=[(("regions", 0, "style"), {"x": 1}, False)], drop_member=None, bad_member=None)
def test_mutated_project_json(fuzz_dir, edits, drop_member, bad_member):
    meta = json.loads(json.dumps(BASE_META))
    for path, value, delete in edits:
        try:
            _set(meta, path, value, delete)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier edit replaced a parent of this path
    members = dict(MEMBERS)
    if drop_member:
        members.pop(drop_member)
    if bad_member:
        members[bad_member] = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
    p = fuzz_dir / "j.tcpproj"
    p.write_bytes(_zip(meta, members, json_text=json.dumps(meta, allow_nan=True)))
    _load_project(p)


@needs_project
@settings(max_examples=60, **SETTINGS)
@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_random_project_json_text(fuzz_dir, text):
    p = fuzz_dir / "t.tcpproj"
    p.write_bytes(_zip(None, json_text=text))
    _load_project(p)


# Inputs that once escaped project.load as OverflowError / RecursionError (fixed in f6154de).
@needs_project
@pytest.mark.parametrize("case", ["saved_at", "strength", "amount", "deep"])
def test_project_json_out_of_range_and_deep(tmp_path, case):
    meta = json.loads(json.dumps(BASE_META))
    text = None
    if case == "saved_at":
        meta["saved_at"] = 10**400
    elif case == "strength":
        meta["regions"][0]["strength"] = 10**400
    elif case == "amount":
        meta["interpolation"]["amount"] = -(10**400)
    else:
        text = '{"format": "tcpproj", "version": 1, "x": ' + "[" * 200_000 + "]" * 200_000 + "}"
    p = tmp_path / "g.tcpproj"
    p.write_bytes(_zip(meta, json_text=text))
    snap = _load_project(p)
    if case == "saved_at":  # only informational: the project still opens
        assert snap is not None and snap.saved_at == 0.0
    else:
        assert snap is None
