"""Mask tools behind the canvas and the Mask menu: fill/invert/grow/shrink/feather/clear, lasso,
colour flood fill, select similar (a worker request; the tolerance slider re-thresholds the last
click live) and mask import/export."""

from __future__ import annotations

import os
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from . import dialogs, mask_ops
from .services.images import ImageLoadError, ImageSaveError, load_mask_file, same_file


class SelectionController(QObject):
    selectionApplied = Signal()

    def __init__(self, doc, service, controls, feedback, max_pixels: int, photo_gen: Callable[[], int],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc, self.service, self.controls, self.feedback = doc, service, controls, feedback
        self.max_pixels = max_pixels
        self.photo_gen = photo_gen  # the preview scheduler's photo generation (similarity answers of an old photo go)
        self.requests: dict[int, tuple[int, str, int]] = {}  # similarity request id -> (region uid, mode, photo gen)
        self.last_similar: dict | None = None  # the last Select-similar click (see on_tolerance)

    def target_region(self, create: bool = True):
        r = self.doc.active_region
        if r is None and create and self.doc.has_photo:
            self.doc.add_region()
            r = self.doc.active_region
        return r

    def mask_op(self, op: str) -> None:
        r = self.target_region(create=op == "fill")
        if r is None:
            return
        m = r.mask
        c = self.controls
        new = {
            "fill": lambda: np.ones_like(m),
            "invert": lambda: mask_ops.invert(m),
            "grow": lambda: mask_ops.grow(m, c.grow_px.value()),
            "shrink": lambda: mask_ops.grow(m, -c.grow_px.value()),
            "feather": lambda: mask_ops.feather(m, c.feather_px.value()),
            "clear": lambda: np.zeros_like(m),
        }[op]()
        self.doc.apply_mask(r.uid, new, op.capitalize() + " mask")

    def on_polygon(self, points, mode: str) -> None:
        r = self.target_region(create=mode == "add")
        if r is None:
            return
        sel = mask_ops.polygon_mask(r.mask.shape, points)
        self.doc.apply_mask(r.uid, mask_ops.combine(r.mask, sel, mode), "Lasso")
        self.selectionApplied.emit()

    def on_flood(self, x: int, y: int, mode: str) -> None:
        r = self.target_region(create=mode == "add")
        if r is None:
            return
        sel = mask_ops.flood_fill(self.doc.preview, x, y, self.controls.tolerance.value())
        if sel.any():
            self.doc.apply_mask(r.uid, mask_ops.combine(r.mask, sel, mode), "Colour fill")
        self.selectionApplied.emit()

    # select similar ---------------------------------------------------------------------------------
    def on_similar_click(self, x: int, y: int, mode: str) -> None:
        h, w = self.doc.preview_shape
        if not (0 <= x < w and 0 <= y < h):
            return
        r = self.target_region(create=mode == "add")
        if r is None:
            return
        rid = self.service.submit_similarity(self.doc.preview, x, y, self.controls.similarity.value() / 100)
        self.requests[rid] = (r.uid, mode, self.photo_gen())
        self.feedback.status("Selecting similar content…", 3000)

    def on_similarity(self, rid: int, sim, ms: float) -> None:
        req = self.requests.pop(rid, None)
        if req is None:
            return
        uid, mode, gen = req
        if gen != self.photo_gen():
            return
        try:
            r = self.doc.region(uid)
        except KeyError:
            return
        if sim.shape != r.mask.shape:
            sim = mask_ops.resize_mask(sim, r.mask.shape)
        # kept, so that moving the tolerance slider re-thresholds this click live
        self.last_similar = {"uid": uid, "mode": mode, "sim": sim, "base": r.mask.copy(), "applied": False}
        self._apply_similar()
        self.feedback.status(f"Selected similar content ({ms:.0f} ms): the Select similar tolerance changes it, "
                             "Alt+click takes a part away", 5000)
        self.selectionApplied.emit()

    def on_request_gone(self, rid: int) -> bool:
        """A similarity request was discarded or failed: True if it was one of ours."""
        return self.requests.pop(rid, None) is not None

    def photo_changed(self) -> None:
        self.service.cancel("similarity")
        self.requests.clear()
        self.last_similar = None

    def _apply_similar(self) -> None:
        ls = self.last_similar
        stack = self.doc.undo_stack
        if ls["applied"]:
            stack.undo()  # back to the mask before the click: one undo step for the click in all
        sel = mask_ops.threshold_similarity(ls["sim"], mask_ops.similar_threshold(self.controls.similarity.value()))
        ls["applied"] = self.doc.apply_mask(ls["uid"], mask_ops.combine(ls["base"], sel, ls["mode"]),
                                            "Select similar")
        ls["index"] = stack.index()

    def on_tolerance(self, _value: int) -> None:
        """Tolerance slider moved: show the last Select-similar click at the new tolerance, as long
        as nothing else was edited since (then the slider only sets the next click's tolerance)."""
        ls = self.last_similar
        if ls is None:
            return
        if self.doc.undo_stack.index() != ls["index"] or ls["uid"] not in {r.uid for r in self.doc.regions}:
            self.last_similar = None
            return
        self._apply_similar()

    # mask files -------------------------------------------------------------------------------------
    def import_mask_dialog(self) -> None:
        path = dialogs.open_path(self.feedback.window, "Import mask", "", dialogs.MASK_FILTER)
        if path:
            self.import_mask(path)

    def import_mask(self, path: str) -> bool:
        r = self.target_region()
        if r is None:
            return False
        h, w = r.mask.shape
        try:
            m = load_mask_file(path, (w, h), self.max_pixels)
        except ImageLoadError as e:
            self.feedback.error("Cannot import mask", str(e))
            return False
        self.doc.apply_mask(r.uid, m, "Import mask")
        return True

    def export_mask_dialog(self) -> None:
        r = self.doc.active_region
        if r is None:
            return
        stem = os.path.splitext(self.doc.path)[0] if self.doc.path else "mask"
        path = dialogs.save_path(self.feedback.window, "Export mask (full resolution)", f"{stem}_{r.name}_mask.png",
                                 "PNG (*.png)")
        if path:
            self.export_mask(path)

    def export_mask(self, path: str) -> bool:
        from .services.images import save_mask_png

        r = self.doc.active_region
        if r is None:
            return False
        if not path.lower().endswith(".png"):
            path += ".png"
        if self.doc.path and same_file(path, self.doc.path):
            self.feedback.error("Cannot export mask", "That is the original photo; choose another name.")
            return False
        try:
            save_mask_png(path, self.doc.full_mask(r))
        except (ImageSaveError, OSError) as e:
            self.feedback.error("Cannot export mask", str(e))
            return False
        self.feedback.status(f"Mask saved to {path}", 5000)
        return True
