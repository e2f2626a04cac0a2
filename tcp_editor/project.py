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
    second.png              optional second photo for interpolation
"""

from __future__ import annotations

import io
import json
import math
import os
import time
import zipfile
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from . import mask_ops
from .document import DEFAULT_SMOOTHING, INTERP_WHAT, MAX_SMOOTHING, Document, Region, StyleRef
from .services.images import ImageSaveError, atomic_write

FORMAT = "tcpproj"
VERSION = 1
EXTENSION = ".tcpproj"
MAX_MEMBER_BYTES = 1 << 30  # uncompressed size of one member
MAX_TOTAL_BYTES = 4 << 30
MAX_PIXELS = 200_000_000
MAX_REGIONS = 256


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


def snapshot(doc: Document) -> Snapshot:
    """A consistent copy of the document (cheap: masks are copied, images are shared read-only)."""
    if doc.photo is None:
        raise ProjectError("There is no photo to save.")
    regions = [Region(r.name, r.mask.copy(), r.style, r.strength, r.visible, r.uid) for r in doc.regions]
    active = next((i for i, r in enumerate(doc.regions) if r.uid == doc.active_uid), -1)
    cache = getattr(doc, "_photo_png_cache", None)
    png = cache[1] if cache is not None and cache[0] is doc.photo else None
    return Snapshot(doc.photo, doc.alpha, doc.exif, doc.icc, doc.path, regions, active, doc.global_transfer,
                    doc.interp_image, doc.interp_path, doc.interp_what, doc.interp_amount, doc.preview_long_side,
                    time.time(), png, int(doc.smoothing))


def _png(arr: np.ndarray, level: int = 1) -> bytes:
    """PNG bytes; the mode follows the array (uint8 HxW: L, HxWx3: RGB, uint16 HxW: I;16)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG", compress_level=level)
    return buf.getvalue()


def encode_photo(photo: np.ndarray) -> bytes:
    return _png(np.ascontiguousarray(photo))


def photo_png(doc: Document, photo: np.ndarray) -> bytes:
    """PNG bytes of `photo` for project files, cached on the document while it shows that photo
    (encoding takes about 1 s per 12 MP). Safe to call from a background thread."""
    cache = getattr(doc, "_photo_png_cache", None)
    if cache is not None and cache[0] is photo:
        return cache[1]
    png = encode_photo(photo)
    if doc.photo is photo:
        doc._photo_png_cache = (photo, png)
    return png


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
    if snap.exif:
        members.append(("photo.exif", bytes(snap.exif)))
    if snap.icc:
        members.append(("photo.icc", bytes(snap.icc)))
    if snap.interp_image is not None:
        members.append(("second.png", _png(np.ascontiguousarray(snap.interp_image))))
    for i, r in enumerate(snap.regions):
        mask16 = np.clip(r.mask * 65535.0 + 0.5, 0, 65535).astype(np.uint16)
        entry = {"name": r.name, "strength": float(r.strength), "visible": bool(r.visible),
                 "mask": f"masks/{i}.png", "style": None, "style_path": "", "style_name": ""}
        members.append((f"masks/{i}.png", _png(mask16, level=6)))
        if r.style is not None:
            entry["style"] = f"styles/{i}.png"
            entry["style_path"] = r.style.path
            entry["style_name"] = r.style.name
            members.append((f"styles/{i}.png", _png(np.ascontiguousarray(r.style.image))))
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
        snap._photo_png = photo_png(doc, snap.photo)
    try:
        return write(path, snap)
    except ImageSaveError as e:  # atomic_write's clear message (folder missing, disk full, permissions)
        raise ProjectError(str(e).replace("Cannot save", "Cannot save the project", 1)) from None
    except OSError as e:
        raise ProjectError(f"Cannot save the project '{path}': {e.strerror or e}") from None


# reading -------------------------------------------------------------------------------------
def _fail(path: str, what: str) -> ProjectError:
    return ProjectError(f"Cannot open the project '{os.path.basename(path)}': {what}")


def _read_member(z: zipfile.ZipFile, name: str, path: str) -> bytes:
    if not isinstance(name, str) or not name:
        raise _fail(path, "a file reference in project.json is not a string.")
    try:
        info = z.getinfo(name)
    except KeyError:
        raise _fail(path, f"the file '{name}' is missing from the project.") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise _fail(path, f"'{name}' is too large ({info.file_size} bytes).")
    try:
        return z.read(name)
    except Exception as e:  # noqa: BLE001 - CRC/zlib errors, encryption, unsupported compression...
        raise _fail(path, f"'{name}' is damaged ({type(e).__name__}: {e}).") from None


def _read_image(z: zipfile.ZipFile, name: str, path: str, modes: tuple[str, ...]) -> np.ndarray:
    data = _read_member(z, name, path)
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format != "PNG":
                raise _fail(path, f"'{name}' is not a PNG image.")
            if im.width * im.height > MAX_PIXELS:
                raise _fail(path, f"'{name}' is too large ({im.width}x{im.height}).")
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
        raw = _read_member(z, "project.json", path)
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
        photo = _read_image(z, _typed(ph.get("file"), str, "photo.file", path), path, ("RGB",))
        if (photo.shape[1], photo.shape[0]) != (ph.get("width"), ph.get("height")):
            raise _fail(path, "the photo's size does not match project.json.")
        alpha = None
        if ph.get("alpha"):
            alpha = _read_image(z, ph["alpha"], path, ("L",))
            if alpha.shape != photo.shape[:2]:
                raise _fail(path, "the photo's alpha has the wrong size.")
        exif = _read_member(z, ph["exif"], path) if ph.get("exif") else None
        icc = _read_member(z, ph["icc"], path) if ph.get("icc") else None
        pls = meta.get("preview_long_side", 1024)
        if isinstance(pls, bool) or not isinstance(pls, int) or not 64 <= pls <= 16384:
            raise _fail(path, "project.json: preview_long_side must be an integer between 64 and 16384.")
        h, w = photo.shape[:2]
        s = min(1.0, pls / max(h, w))
        preview_shape = (max(1, round(h * s)), max(1, round(w * s))) if s < 1 else (h, w)
        regs_raw = _typed(meta.get("regions", []), list, "regions", path)
        if len(regs_raw) > MAX_REGIONS:
            raise _fail(path, f"too many regions ({len(regs_raw)}).")
        regions = []
        for i, e in enumerate(regs_raw):
            e = _typed(e, dict, f"regions[{i}]", path)
            name = _typed(e.get("name", f"Region {i + 1}"), str, f"regions[{i}].name", path)[:200]
            strength = _number(e.get("strength", 1.0), f"regions[{i}].strength", path)
            visible = _typed(e.get("visible", True), bool, f"regions[{i}].visible", path)
            m = _read_image(z, e.get("mask"), path, ("I;16", "I", "L"))
            mask = mask_ops.from_image(m.astype(np.uint16) if m.dtype != np.uint8 else m)
            if mask.shape != preview_shape:
                if abs(mask.shape[1] / mask.shape[0] - preview_shape[1] / preview_shape[0]) > 0.02:
                    raise _fail(path, f"the mask of region {i + 1} does not fit the photo.")
                mask = mask_ops.resize_mask(mask, preview_shape)
            style = None
            if e.get("style"):
                st = _read_image(z, e["style"], path, ("RGB",))
                style = StyleRef(st, str(e.get("style_path", "")), str(e.get("style_name", "")) or f"style {i + 1}")
            regions.append(Region(name, mask, style, strength, visible))
        ip = meta.get("interpolation") or {}
        ip = _typed(ip, dict, "interpolation", path)
        interp = _read_image(z, ip["file"], path, ("RGB",)) if ip.get("file") else None
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
        saved_at = meta.get("saved_at", 0.0)
        try:
            saved_at = float(saved_at) if isinstance(saved_at, (int, float)) and not isinstance(saved_at, bool) else 0.0
        except OverflowError:
            saved_at = 0.0
        return Snapshot(photo, alpha, exif, icc, str(ph.get("source_path", "")), regions, active, glob, interp,
                        str(ip.get("source_path", "")), what, amount, pls,
                        saved_at if math.isfinite(saved_at) else 0.0, smoothing=smoothing)


def restore(doc: Document, snap: Snapshot, project_path: str = "") -> None:
    """Replace the document's content with a snapshot (clears the undo stack)."""
    doc.preview_long_side = snap.preview_long_side
    doc.set_photo(snap.photo, snap.photo_path, snap.exif, snap.icc, snap.alpha)
    doc.blockSignals(True)
    try:
        doc.regions = [Region(r.name, r.mask, r.style, r.strength, r.visible) for r in snap.regions]
        doc.global_transfer = snap.global_transfer
        doc.interp_image = snap.interp_image
        doc.interp_path = snap.interp_path
        doc.interp_what = snap.interp_what
        doc.interp_amount = snap.interp_amount
        doc.smoothing = snap.smoothing
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
