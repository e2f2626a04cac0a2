"""`.tcpproj` project files: a zip with the photo, style photos and masks as PNG and a JSON of settings.

No pickle anywhere: `project.json` is plain JSON, images are PNG. Reading validates everything
(zip, JSON schema, member presence and sizes, pixel limits, mask sizes) and raises
`ProjectError` with a message meant for the user. Writing is atomic (temp file + rename).

Layout:
    project.json            {"format": "tcpproj", "version": 1, "photo": {...}, "regions": [...], ...}
    photo.png               full-resolution photo (RGB 8-bit)
    photo_alpha.png         optional alpha (L)
    photo.exif / photo.icc  optional EXIF / ICC bytes
    masks/<n>.png           16-bit greyscale masks at the preview resolution
    styles/<n>.png          style reference photos
    style_masks/<n>.png     optional: the part of region n's style photo to take the style from
                            (16-bit greyscale at the style photo's size; absent = the whole photo)
    second.png              optional second photo for interpolation
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import threading
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from . import mask_ops
from .document import (
    DEFAULT_DETAIL_GAIN,
    DEFAULT_FEATHER_EDGE,
    DEFAULT_INTERIOR_MODE,
    DEFAULT_PRE_TRANSFER_PERCENT,
    DEFAULT_PRIMING_HIGHLIGHTS,
    DEFAULT_PRIMING_PROFILE,
    DEFAULT_PRIMING_SPREAD,
    DEFAULT_SMOOTHING,
    FEATHER_EDGES,
    INTERIOR_MODES,
    INTERP_WHAT,
    LEGACY_PRIMING,
    MAX_DETAIL_GAIN,
    MAX_PRE_TRANSFER_PERCENT,
    MAX_SMOOTHING,
    MAX_STRENGTH,
    MIN_DETAIL_GAIN,
    PRIMING_HIGHLIGHTS,
    PRIMING_PROFILES,
    PRIMING_SPREADS,
    STYLE_LONG_SIDE,
    Document,
    Region,
    StyleRef,
    valid_detail_gain,
)
from .services.images import ImageSaveError, atomic_write

FORMAT = "tcpproj"
VERSION = 1
EXTENSION = ".tcpproj"
# Limits no project the editor writes comes near; reading stays bounded in memory and time by them
# (everything is checked from the zip directory and the PNG headers before anything is decoded).
MAX_TOTAL_BYTES = 4 << 30  # uncompressed size of all members together, as the zip declares it
MAX_JSON_BYTES = 8 << 20  # project.json (256 regions with long paths take well under 1 MB)
MAX_EXIF_BYTES = 1 << 20  # photo.exif (JPEG EXIF is at most 64 KB)
MAX_ICC_BYTES = 16 << 20  # photo.icc (the largest a JPEG can carry; typical profiles are a few KB)
MAX_PIXELS = 200_000_000  # the photo (and its alpha)
MAX_TOTAL_PIXELS = 1_000_000_000  # all images of the project together, each use of a member counted
MAX_REGIONS = 256
PNG_SLACK_BYTES = 1 << 20  # ancillary chunks a PNG member may carry beyond its pixel data


class ProjectError(ValueError):
    """A project file cannot be read or written; the message is for the user."""


@dataclass
class Snapshot:
    """Everything a project file holds (what `Document` restores from)."""

    photo: np.ndarray
    alpha: np.ndarray | None = None
    exif: bytes | None = None
    icc: bytes | None = None
    photo_path: str = ""
    regions: list[Region] = field(default_factory=list)
    active_index: int = -1
    global_transfer: bool = False
    interp_image: np.ndarray | None = None
    interp_path: str = ""
    interp_what: str = "style"
    interp_amount: float = 0.0
    preview_long_side: int = 1024
    saved_at: float = 0.0
    _photo_png: bytes | None = None  # cached encoding (autosave re-uses it)
    smoothing: int = DEFAULT_SMOOTHING
    interior: str = DEFAULT_INTERIOR_MODE
    pre_transfer: int = DEFAULT_PRE_TRANSFER_PERCENT  # colour priming, integer percent
    edge: str = DEFAULT_FEATHER_EDGE  # the feather across the mask's edge or inside it (FEATHER_EDGES)
    priming_profile: str = DEFAULT_PRIMING_PROFILE  # colour priming's target (PRIMING_PROFILES)
    priming_spread: str = DEFAULT_PRIMING_SPREAD  # what colour priming's spread ratio stretches (PRIMING_SPREADS)
    detail_gain: float = DEFAULT_DETAIL_GAIN  # the export's detail gain cap; 0.0: no cap
    priming_highlights: str = DEFAULT_PRIMING_HIGHLIGHTS  # how priming treats clipped highlights (PRIMING_HIGHLIGHTS)


def snapshot(doc: Document) -> Snapshot:
    """A consistent copy of the document (cheap: masks are copied, images are shared read-only)."""
    if doc.photo is None:
        raise ProjectError("There is no photo to save.")
    regions = [Region(r.name, r.mask.copy(), r.style, r.strength, r.visible, r.uid,
                      None if r.style_mask is None else r.style_mask.copy(), r.priming) for r in doc.regions]
    active = next((i for i, r in enumerate(doc.regions) if r.uid == doc.active_uid), -1)
    cache = getattr(doc, "_photo_png_cache", None)
    png = cache.png if cache is not None and cache.photo is doc.photo else None
    return Snapshot(doc.photo, doc.alpha, doc.exif, doc.icc, doc.path, regions, active, doc.global_transfer,
                    doc.interp_image, doc.interp_path, doc.interp_what, doc.interp_amount, doc.preview_long_side,
                    time.time(), png, int(doc.smoothing), str(doc.interior), int(doc.pre_transfer), str(doc.edge),
                    str(doc.priming_profile), str(doc.priming_spread), float(doc.detail_gain),
                    str(doc.priming_highlights))


def _png(arr: np.ndarray, level: int = 1) -> bytes:
    """PNG bytes; the mode follows the array (uint8 HxW: L, HxWx3: RGB, uint16 HxW: I;16)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", compress_level=level)
    return buf.getvalue()


def encode_photo(photo: np.ndarray) -> bytes:
    return _png(np.ascontiguousarray(photo))


class PhotoPng:
    """The PNG bytes of one photo for project files, encoded once (about 1 s per 12 MP) by whichever thread asks
    first; the others wait for it instead of encoding again.

    Background threads (the encode after opening, the autosave) get this object, never the Document: a Qt
    object whose last reference a background thread dropped would be destroyed on that thread."""

    def __init__(self, photo: np.ndarray) -> None:
        self.photo = photo
        self.png: bytes | None = None
        self._lock = threading.Lock()

    def get(self) -> bytes:
        with self._lock:
            if self.png is None:
                self.png = encode_photo(self.photo)
            return self.png


def photo_png_cache(doc: Document) -> PhotoPng:
    """The document's PhotoPng for the photo it shows now (a new one after the photo changed; call on the GUI
    thread). The document keeps only the current photo's, so an older photo's memory goes with it."""
    cache = getattr(doc, "_photo_png_cache", None)
    if cache is None or cache.photo is not doc.photo:
        cache = PhotoPng(doc.photo)
        doc._photo_png_cache = cache
    return cache


def write(path: str, snap: Snapshot) -> str:
    """Write a snapshot atomically. Safe to call from a background thread."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ProjectError(f"Cannot save '{path}': the folder '{folder}' does not exist.")
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "app": "TCP Editor",
        "saved_at": snap.saved_at or time.time(),
        "photo": {
            "file": "photo.png",
            "width": int(snap.photo.shape[1]),
            "height": int(snap.photo.shape[0]),
            "source_path": snap.photo_path,
            "alpha": "photo_alpha.png" if snap.alpha is not None else None,
            "exif": "photo.exif" if snap.exif else None,
            "icc": "photo.icc" if snap.icc else None,
        },
        "preview_long_side": int(snap.preview_long_side),
        "global_transfer": bool(snap.global_transfer),
        "smoothing": int(snap.smoothing),
        "interior": str(snap.interior),
        "pre_transfer": int(snap.pre_transfer),  # colour priming, percent
        "edge": str(snap.edge),  # the feather: "across" the mask's edge or "inside" the mask
        "priming_profile": str(snap.priming_profile),  # colour priming's target: "rows" or "global"
        "priming_spread": str(snap.priming_spread),  # what priming stretches: "detail" or "all"
        "detail_gain": float(snap.detail_gain),  # the export's detail gain cap; 0: no cap
        "priming_highlights": str(snap.priming_highlights),  # clipped highlights in priming: "neutral" or "plain"
        "interpolation": {
            "file": "second.png" if snap.interp_image is not None else None,
            "source_path": snap.interp_path,
            "what": snap.interp_what,
            "amount": float(snap.interp_amount),
        },
        "active_region": int(snap.active_index),
        "regions": [],
    }
    members: list[tuple[str, bytes]] = [
        ("photo.png", snap._photo_png if snap._photo_png is not None else encode_photo(snap.photo))]
    if snap.alpha is not None:
        members.append(("photo_alpha.png", _png(np.ascontiguousarray(snap.alpha, np.uint8))))
    if snap.exif and len(snap.exif) <= MAX_EXIF_BYTES:
        members.append(("photo.exif", bytes(snap.exif)))
    else:  # metadata beyond the limits is not written: the project must open again
        meta["photo"]["exif"] = None
    if snap.icc and len(snap.icc) <= MAX_ICC_BYTES:
        members.append(("photo.icc", bytes(snap.icc)))
    else:
        meta["photo"]["icc"] = None
    if snap.interp_image is not None:
        members.append(("second.png", _png(np.ascontiguousarray(snap.interp_image))))
    for i, r in enumerate(snap.regions):
        mask16 = np.clip(r.mask * 65535.0 + 0.5, 0, 65535).astype(np.uint16)
        entry = {"name": r.name, "strength": float(r.strength), "visible": bool(r.visible),
                 "mask": f"masks/{i}.png", "style": None, "style_path": "", "style_name": "",
                 "priming": r.priming}  # colour priming, percent; null: the project's pre_transfer
        members.append((f"masks/{i}.png", _png(mask16, level=6)))
        if r.style is not None:
            entry["style"] = f"styles/{i}.png"
            entry["style_path"] = r.style.path
            entry["style_name"] = r.style.name
            members.append((f"styles/{i}.png", _png(np.ascontiguousarray(r.style.image))))
            if r.style_mask is not None:
                sm16 = np.clip(r.style_mask * 65535.0 + 0.5, 0, 65535).astype(np.uint16)
                entry["style_mask"] = f"style_masks/{i}.png"
                members.append((f"style_masks/{i}.png", _png(sm16, level=6)))
        meta["regions"].append(entry)
    def fill(f) -> None:
        with zipfile.ZipFile(f, "w") as z:
            z.writestr("project.json", json.dumps(meta, indent=1), compress_type=zipfile.ZIP_DEFLATED)
            for name, data in members:
                z.writestr(name, data, compress_type=zipfile.ZIP_STORED)

    atomic_write(path, fill)  # temp file in the same folder, fsync, rename: never a half-written project
    return path


def save(path: str, doc: Document) -> str:
    snap = snapshot(doc)
    if snap._photo_png is None:
        snap._photo_png = photo_png_cache(doc).get()
    try:
        return write(path, snap)
    except ImageSaveError as e:  # atomic_write's clear message (folder missing, disk full, permissions)
        raise ProjectError(str(e).replace("Cannot save", "Cannot save the project", 1)) from None
    except OSError as e:
        raise ProjectError(f"Cannot save the project '{path}': {e.strerror or e}") from None


# reading -------------------------------------------------------------------------------------
def _fail(path: str, what: str) -> ProjectError:
    return ProjectError(f"Cannot open the project '{os.path.basename(path)}': {what}")


def _member(z: zipfile.ZipFile, name, path: str) -> zipfile.ZipInfo:
    if not isinstance(name, str) or not name:
        raise _fail(path, "a file reference in project.json is not a string.")
    try:
        return z.getinfo(name)
    except KeyError:
        raise _fail(path, f"the file '{name}' is missing from the project.") from None


def _read_member(z: zipfile.ZipFile, name: str, path: str, limit: int) -> bytes:
    """The member's bytes, at most `limit` of them as declared; never more than declared is inflated
    (zipfile's plain read() inflates up to 2 GB in one call whatever the member declares)."""
    info = _member(z, name, path)
    if info.file_size > limit:
        raise _fail(path, f"'{name}' is too large ({info.file_size} bytes; at most {limit} are expected).")
    try:
        with z.open(info) as f:
            data = f.read(info.file_size) if info.file_size else b""  # bounded by the declared size
            if len(data) != info.file_size or f.read(1):
                raise zipfile.BadZipFile("its size differs from the size the zip declares")
    except Exception as e:  # noqa: BLE001 - CRC/zlib errors, encryption, unsupported compression...
        raise _fail(path, f"'{name}' is damaged ({type(e).__name__}: {e}).") from None
    return data


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _png_header(z: zipfile.ZipFile, name, path: str) -> tuple[int, int]:
    """(width, height) from the PNG signature and IHDR (33 bytes), without decoding anything; the
    member's declared size must fit its pixels (plus `PNG_SLACK_BYTES` for ancillary chunks)."""
    info = _member(z, name, path)
    try:
        with z.open(info) as f:
            head = f.read(33)
    except Exception as e:  # noqa: BLE001
        raise _fail(path, f"'{name}' is damaged ({type(e).__name__}: {e}).") from None
    if len(head) < 33 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise _fail(path, f"'{name}' is not a PNG image.")
    w, h, depth, colour = struct.unpack(">IIBB", head[16:26])
    if w == 0 or h == 0 or colour not in _PNG_CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise _fail(path, f"'{name}' is not a valid PNG image.")
    raw = h * (1 + (w * _PNG_CHANNELS[colour] * depth + 7) // 8)  # filtered scanlines
    limit = raw + raw // 64 + PNG_SLACK_BYTES  # deflate's worst case is about 0.03 % larger
    if info.file_size > limit:
        raise _fail(path, f"'{name}' is too large for a {w}x{h} image ({info.file_size} bytes).")
    return w, h


def _read_image(z: zipfile.ZipFile, name: str, path: str, modes: tuple[str, ...], max_pixels: int) -> np.ndarray:
    w, h = _png_header(z, name, path)
    if w * h > max_pixels:
        raise _fail(path, f"'{name}' is too large ({w}x{h}).")
    data = _read_member(z, name, path, (1 << 62))  # _png_header bounded the declared size
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "PNG":
                raise _fail(path, f"'{name}' is not a PNG image.")
            if im.size != (w, h):
                raise _fail(path, f"'{name}' is not a valid PNG image.")
            im.load()
            if im.mode not in modes:
                im = im.convert(modes[0])
            return np.asarray(im).copy()
    except ProjectError:
        raise
    except Exception as e:  # noqa: BLE001 - PIL raises many types for bad data
        raise _fail(path, f"'{name}' is not a readable image ({type(e).__name__}: {e}).") from None


def _typed(value, types, what: str, path: str):
    if not isinstance(value, types) or isinstance(value, bool) and bool not in (
            types if isinstance(types, tuple) else (types,)):
        raise _fail(path, f"project.json: {what} has the wrong type.")
    return value


def _choice(meta: dict, key: str, choices: tuple[str, ...], default: str, path: str) -> str:
    """The setting `key` of project.json, one of `choices`; `default` when absent (files from before it existed)."""
    value = meta.get(key, default)
    if not isinstance(value, str) or value not in choices:
        raise _fail(path, f"project.json: {key} must be one of {', '.join(choices)}.")
    return value


def _number(value, what: str, path: str, lo: float = 0.0, hi: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(path, f"project.json: {what} must be a number.")
    try:
        value = float(value)  # an int beyond float range raises OverflowError
    except OverflowError:
        raise _fail(path, f"project.json: {what} is out of range.") from None
    if not math.isfinite(value):
        raise _fail(path, f"project.json: {what} must be a finite number.")
    if not lo <= value <= hi:
        raise _fail(path, f"project.json: {what} must be between {lo:g} and {hi:g}.")
    return float(value)


def load(path: str) -> Snapshot:
    """Read and validate a project file. Raises ProjectError (never anything else for bad data)."""
    path = os.fspath(path)
    try:
        return _load(path)
    except (ProjectError, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 - a safety net: damaged files must not crash the editor
        raise _fail(path, f"the file is damaged ({type(e).__name__}: {e}).") from None


def _load(path: str) -> Snapshot:
    if not os.path.isfile(path):
        raise _fail(path, "the file does not exist.")
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise _fail(path, f"it is not a TCP Editor project (not a valid zip file: {e}).") from None
    with z:
        total = sum(i.file_size for i in z.infolist())
        if total > MAX_TOTAL_BYTES:
            raise _fail(path, "it is too large when unpacked.")
        raw = _read_member(z, "project.json", path, MAX_JSON_BYTES)
        try:
            meta = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise _fail(path, f"project.json is not valid JSON ({e}).") from None
        except RecursionError:
            raise _fail(path, "project.json is nested too deeply.") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise _fail(path, "project.json does not describe a TCP Editor project.")
        version = meta.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise _fail(path, "project.json has no valid version.")
        if version > VERSION:
            raise _fail(path, f"it was written by a newer TCP Editor (format version {version}); please update.")
        ph = _typed(meta.get("photo"), dict, "photo", path)
        photo_name = _typed(ph.get("file"), str, "photo.file", path)
        pls = meta.get("preview_long_side", 1024)
        if isinstance(pls, bool) or not isinstance(pls, int) or not 64 <= pls <= 16384:
            raise _fail(path, "project.json: preview_long_side must be an integer between 64 and 16384.")
        regs_raw = _typed(meta.get("regions", []), list, "regions", path)
        if len(regs_raw) > MAX_REGIONS:
            raise _fail(path, f"too many regions ({len(regs_raw)}).")
        entries = [_typed(e, dict, f"regions[{i}]", path) for i, e in enumerate(regs_raw)]
        ip = _typed(meta.get("interpolation") or {}, dict, "interpolation", path)

        # Every image's size from its PNG header, before any pixel is decoded: each against what the
        # editor writes (photo <= MAX_PIXELS, masks and the second photo at the preview size, styles
        # at STYLE_LONG_SIDE), and all of them (each use counted) against MAX_TOTAL_PIXELS.
        pw, ph_ = _png_header(z, photo_name, path)
        if pw * ph_ > MAX_PIXELS:
            raise _fail(path, f"'{photo_name}' is too large ({pw}x{ph_}).")
        if (pw, ph_) != (ph.get("width"), ph.get("height")):
            raise _fail(path, "the photo's size does not match project.json.")
        budget = [pw * ph_]

        def check(name, long_side: int, what: str) -> None:
            w, h = _png_header(z, name, path)
            if max(w, h) > long_side:
                raise _fail(path, f"{what} '{name}' is {w}x{h}, larger than the {long_side} px the editor stores.")
            budget[0] += w * h
            if budget[0] > MAX_TOTAL_PIXELS:
                raise _fail(path, f"its images hold more than {MAX_TOTAL_PIXELS / 1e6:.0f} megapixels together "
                                  "(a project never does).")

        if ph.get("alpha"):
            check(ph["alpha"], max(pw, ph_), "the photo's alpha")
        for i, e in enumerate(entries):
            check(e.get("mask"), min(pls, max(pw, ph_)), f"the mask of region {i + 1}")  # the preview's size
            if e.get("style"):
                check(e["style"], STYLE_LONG_SIDE, f"the style of region {i + 1}")
                if e.get("style_mask"):  # absent in files from before style parts existed
                    check(e["style_mask"], STYLE_LONG_SIDE, f"the style part of region {i + 1}")
            elif e.get("style_mask"):
                raise _fail(path, f"region {i + 1} has a style part but no style photo.")
        if ip.get("file"):
            check(ip["file"], pls, "the second photo")

        decoded: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}  # one decode per member, however often used

        def image(name: str, modes: tuple[str, ...], max_pixels: int = MAX_PIXELS) -> np.ndarray:
            key = (name, modes)
            if key not in decoded:
                decoded[key] = _read_image(z, name, path, modes, max_pixels)
            return decoded[key]

        photo = image(photo_name, ("RGB",))
        alpha = None
        if ph.get("alpha"):
            alpha = image(ph["alpha"], ("L",))
            if alpha.shape != photo.shape[:2]:
                raise _fail(path, "the photo's alpha has the wrong size.")
        exif = _read_member(z, ph["exif"], path, MAX_EXIF_BYTES) if ph.get("exif") else None
        icc = _read_member(z, ph["icc"], path, MAX_ICC_BYTES) if ph.get("icc") else None
        h, w = photo.shape[:2]
        s = min(1.0, pls / max(h, w))
        preview_shape = (max(1, round(h * s)), max(1, round(w * s))) if s < 1 else (h, w)
        regions = []
        for i, e in enumerate(entries):
            name = _typed(e.get("name", f"Region {i + 1}"), str, f"regions[{i}].name", path)[:200]
            strength = _number(e.get("strength", 1.0), f"regions[{i}].strength", path, hi=MAX_STRENGTH)
            visible = _typed(e.get("visible", True), bool, f"regions[{i}].visible", path)
            priming = e.get("priming")  # absent in files from before it existed: the project's
            if priming is not None and (isinstance(priming, bool) or not isinstance(priming, int)
                                        or not 0 <= priming <= MAX_PRE_TRANSFER_PERCENT):
                raise _fail(path, f"project.json: regions[{i}].priming (colour priming) must be null or an integer "
                                  f"percent between 0 and {MAX_PRE_TRANSFER_PERCENT}.")
            m = image(e.get("mask"), ("I;16", "I", "L"))
            mask = mask_ops.from_image(m.astype(np.uint16) if m.dtype != np.uint8 else m)
            if mask.shape != preview_shape:
                if abs(mask.shape[1] / mask.shape[0] - preview_shape[1] / preview_shape[0]) > 0.02:
                    raise _fail(path, f"the mask of region {i + 1} does not fit the photo.")
                mask = mask_ops.resize_mask(mask, preview_shape)
            style = None
            if e.get("style"):
                st = image(e["style"], ("RGB",))
                style = StyleRef(st, str(e.get("style_path", "")), str(e.get("style_name", "")) or f"style {i + 1}")
            style_mask = None
            if style is not None and e.get("style_mask"):
                sm = image(e["style_mask"], ("I;16", "I", "L"))
                style_mask = mask_ops.from_image(sm.astype(np.uint16) if sm.dtype != np.uint8 else sm)
                shape = style.image.shape[:2]
                if style_mask.shape != shape:
                    if abs(style_mask.shape[1] / style_mask.shape[0] - shape[1] / shape[0]) > 0.02:
                        raise _fail(path, f"the style part of region {i + 1} does not fit its style photo.")
                    style_mask = mask_ops.resize_mask(style_mask, shape)
                if not np.any(style_mask > 0):
                    style_mask = None  # an empty part means the whole photo (as the editor stores it)
            regions.append(Region(name, mask, style, strength, visible, style_mask=style_mask, priming=priming))
        interp = image(ip["file"], ("RGB",)) if ip.get("file") else None
        what = ip.get("what", "style")
        if what not in INTERP_WHAT:
            raise _fail(path, f"project.json: interpolation.what must be one of {', '.join(INTERP_WHAT)}.")
        amount = _number(ip.get("amount", 0.0), "interpolation.amount", path)
        active = meta.get("active_region", -1)
        if isinstance(active, bool) or not isinstance(active, int):
            active = -1
        glob = _typed(meta.get("global_transfer", False), bool, "global_transfer", path)
        smoothing = meta.get("smoothing", DEFAULT_SMOOTHING)  # absent in files from before it existed
        if isinstance(smoothing, bool) or not isinstance(smoothing, int) or not 0 <= smoothing <= MAX_SMOOTHING:
            raise _fail(path, f"project.json: smoothing must be an integer between 0 and {MAX_SMOOTHING}.")
        interior = _choice(meta, "interior", INTERIOR_MODES, DEFAULT_INTERIOR_MODE, path)
        pre_transfer = meta.get("pre_transfer", DEFAULT_PRE_TRANSFER_PERCENT)  # absent in files from before it existed
        if isinstance(pre_transfer, bool) or not isinstance(pre_transfer, int) \
                or not 0 <= pre_transfer <= MAX_PRE_TRANSFER_PERCENT:
            raise _fail(path, "project.json: pre_transfer (colour priming) must be an integer percent between 0 "
                              f"and {MAX_PRE_TRANSFER_PERCENT}.")
        # files from before these existed faded their edits out inside the masks, primed towards one colour per
        # region, stretched all of a region's variation, did not cap the detail gain and primed clipped highlights like
        # any other pixel: they render as saved (the last three are EXPORT_PRESETS["legacy"]'s, as the Document holds
        # them; that preset keeps today's edge and profile, so those two old values are spelled out here)
        edge = _choice(meta, "edge", FEATHER_EDGES, "inside", path)
        priming_profile = _choice(meta, "priming_profile", PRIMING_PROFILES, "global", path)
        priming_spread = _choice(meta, "priming_spread", PRIMING_SPREADS, LEGACY_PRIMING["priming_spread"], path)
        priming_highlights = _choice(meta, "priming_highlights", PRIMING_HIGHLIGHTS,
                                     LEGACY_PRIMING["priming_highlights"], path)
        detail_gain = meta.get("detail_gain", LEGACY_PRIMING["detail_gain"])
        if not valid_detail_gain(detail_gain):
            raise _fail(path, f"project.json: detail_gain (the sky grain guard) must be 0 (off) or a number between "
                              f"{MIN_DETAIL_GAIN:g} and {MAX_DETAIL_GAIN:g}.")
        saved_at = meta.get("saved_at", 0.0)
        try:
            saved_at = float(saved_at) if isinstance(saved_at, (int, float)) and not isinstance(saved_at, bool) else 0.0
        except OverflowError:
            saved_at = 0.0
        return Snapshot(photo, alpha, exif, icc, str(ph.get("source_path", "")), regions, active, glob, interp,
                        str(ip.get("source_path", "")), what, amount, pls,
                        saved_at if math.isfinite(saved_at) else 0.0, smoothing=smoothing, interior=interior,
                        pre_transfer=pre_transfer, edge=edge, priming_profile=priming_profile,
                        priming_spread=priming_spread, detail_gain=float(detail_gain),
                        priming_highlights=priming_highlights)


def restore(doc: Document, snap: Snapshot, project_path: str = "") -> None:
    """Replace the document's content with a snapshot (clears the undo stack)."""
    doc.preview_long_side = snap.preview_long_side
    doc.set_photo(snap.photo, snap.photo_path, snap.exif, snap.icc, snap.alpha)
    doc.blockSignals(True)
    try:
        doc.regions = [Region(r.name, r.mask, r.style, r.strength, r.visible, style_mask=r.style_mask,
                              priming=r.priming)
                       for r in snap.regions]
        doc.global_transfer = snap.global_transfer
        doc.interp_image = snap.interp_image
        doc.interp_path = snap.interp_path
        doc.interp_what = snap.interp_what
        doc.interp_amount = snap.interp_amount
        doc.smoothing = snap.smoothing
        doc.interior = snap.interior
        doc.pre_transfer = snap.pre_transfer
        doc.edge = snap.edge
        doc.priming_profile = snap.priming_profile
        doc.priming_spread = snap.priming_spread
        doc.detail_gain = float(snap.detail_gain)
        doc.priming_highlights = snap.priming_highlights
        doc.project_path = project_path
        if doc.regions:
            doc.active_uid = doc.regions[snap.active_index if 0 <= snap.active_index < len(doc.regions) else 0].uid
    finally:
        doc.blockSignals(False)
    doc.undo_stack.clear()
    doc.undo_stack.setClean()
    doc.regionsChanged.emit()
    doc.activeRegionChanged.emit(doc.active_uid)
    doc.settingsChanged.emit()
    doc.changed.emit()
