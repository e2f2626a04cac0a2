"""Style photos: loading (cached), a region's style, the Style part dialog (and its Match region
requests to the inference worker), the style gallery
(bundled styles and the user's, remembered in the settings), the second photo for interpolation,
and the worker's warm-up for the first preview (which styles it is likely to use)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Qt

from . import dialogs
from .document import StyleRef
from .mask_ops import SIMILAR_TOLERANCE_DEFAULT
from .resources import bundled_styles
from .services.images import ImageLoadError, is_image_path, load_photo


@dataclass(frozen=True)
class DirectMatch:
    """A one-click Match (the Regions panel's button): its answer becomes region `uid`'s style part
    directly (one undo step), if the region still has `style` by then."""

    uid: int
    style: StyleRef


@dataclass
class SelectClick:
    """A Select click in the Style part dialog `dlg`: its answer is added to (or, `subtract`, taken from) the
    dialog's mask."""

    dlg: object
    subtract: bool


WARM_GALLERY_STYLES = 6  # gallery styles whose swap with the photo is computed ahead
MAX_GALLERY = 50


class StylesController(QObject):
    def __init__(self, doc, service, settings, feedback, gallery, max_pixels: int,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc, self.service, self.settings, self.feedback = doc, service, settings, feedback
        self.gallery = gallery  # regions_panel.gallery
        self.max_pixels = max_pixels
        self.cache: dict[str, StyleRef] = {}
        self.style_part = None  # the open Style part dialog
        # (request id, the dialog or a DirectMatch) of the Match region request out
        self.match_request: tuple[int, object] | None = None
        self.prewarm = True  # prepare the first preview in the worker while the user brushes

    # styles -----------------------------------------------------------------------------------------
    def load_style(self, path: str) -> StyleRef | None:
        if path in self.cache:
            return self.cache[path]
        try:
            photo = load_photo(path, self.max_pixels, keep_alpha=False)
        except ImageLoadError as e:
            self.feedback.error("Cannot use this style photo", str(e))
            return None
        style = StyleRef.from_array(photo.rgb, path)
        self.cache[path] = style
        return style

    def set_region_style_from_path(self, uid: int, path: str) -> bool:
        style = self.load_style(path)
        if style is None:
            return False
        try:
            self.doc.set_style(uid, style)
        except KeyError:
            return False
        self.gallery.add_style(path, style.image)
        self._remember(path)
        return True

    def choose_style_dialog(self) -> None:
        r = self.doc.active_region
        if r is None:
            return
        path = dialogs.open_path(self.feedback.window, "Choose a style photo", "", dialogs.IMAGE_FILTER)
        if path:
            self.set_region_style_from_path(r.uid, path)

    def style_part_dialog(self, uid: int | None = None):
        """Open the Style part dialog for a region (the active one by default): OK sets the brushed
        part of its style photo as one undo step. Window-modal, not blocking; returns the dialog."""
        from .style_part import StylePartDialog

        if uid is None:
            r = self.doc.active_region
            if r is None:
                return None
            uid = r.uid
        r = self.doc.region(uid)
        if r.style is None:
            return None
        if self.style_part is not None:
            self.style_part.reject()
        style = r.style
        dlg = StylePartDialog(r.style.image, r.style_mask, r.style.name, self.feedback.window,
                              match=lambda: self.match_region(dlg, uid, style),
                              select=lambda x, y, sub: self.select_in_style(dlg, style, x, y, sub))
        if not r.mask.any():
            dlg.set_match_available(False)

        def accepted() -> None:
            try:
                region = self.doc.region(uid)
            except KeyError:  # deleted meanwhile (undo)
                return
            if region.style is style:  # not if the style changed meanwhile: the part was of the old one
                self.doc.set_style_mask(uid, dlg.style_mask())

        def finished(_result: int) -> None:
            if self.style_part is dlg:
                self.style_part = None
            if self.match_request is not None and self._dialog_of(self.match_request[1]) is dlg:
                self.match_request = None  # its answer, if it still comes, is left alone
                self.service.cancel("match")
            dlg.deleteLater()  # its copy of the style photo and mask go with it

        dlg.accepted.connect(accepted)
        dlg.finished.connect(finished)
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        self.style_part = dlg
        dlg.open()
        return dlg

    # Match region -----------------------------------------------------------------------------------
    def match_region(self, dlg, uid: int, style: StyleRef) -> int | None:
        """Ask the worker for the part of `style` that looks like region `uid` (the preview photo
        and the region's mask, as the network sees them); the answer fills `dlg`'s canvas
        (on_called). A newer request replaces an older one. Returns the request id, or None."""
        try:
            region = self.doc.region(uid)
        except KeyError:
            dlg.match_failed("The region is gone: nothing to match.")
            return None
        if region.style is not style:
            dlg.match_failed("The region's style photo changed: reopen the dialog.")
            return None
        if self.doc.preview is None or not region.mask.any():
            dlg.set_match_available(False)
            return None
        rid = self.service.submit_match_part(self.doc.preview, region.mask, style.image)
        self.match_request = (rid, dlg)
        dlg.match_started()
        return rid

    def select_in_style(self, dlg, style: StyleRef, x: int, y: int, subtract: bool = False) -> int:
        """Select similar on the style photo at (x, y) for the Style part dialog `dlg`: the worker's answer is added
        to (`subtract`: taken from) the dialog's mask (on_called). A newer request replaces an older one."""
        rid = self.service.submit_style_select(style.image, int(x), int(y), SIMILAR_TOLERANCE_DEFAULT / 100)
        self.match_request = (rid, SelectClick(dlg, bool(subtract)))
        dlg.match_started("Selecting…")
        return rid

    @staticmethod
    def _dialog_of(target):
        """The Style part dialog a request answers (a Select click's dialog, or the dialog itself)."""
        return target.dlg if isinstance(target, SelectClick) else target

    def match_now(self, uid: int | None = None) -> int | None:
        """One click (the Regions panel's Match): take region `uid`'s (the active one's) style from the
        part of its style photo that looks like the region, without the dialog. The worker's answer
        becomes the style part as one undo step (on_called); Style part… refines it, Whole undoes it.
        Returns the request id, or None (nothing to match: no style, or an empty region)."""
        r = self.doc.active_region if uid is None else self.doc.region(uid)
        if r is None or r.style is None:
            return None
        if self.doc.preview is None or not r.mask.any():
            self.feedback.status("Brush the region first: Match looks for the part of the style photo like it",
                                 5000)
            return None
        rid = self.service.submit_match_part(self.doc.preview, r.mask, r.style.image)
        self.match_request = (rid, DirectMatch(r.uid, r.style))
        self.feedback.status(f"Matching {r.name} in {r.style.name}…")
        return rid

    def _take_match(self, rid: int):
        """The dialog or DirectMatch waiting for request `rid` (and no longer waiting), or None: not
        ours, stale (superseded, or the dialog closed)."""
        req = self.match_request
        if req is None or req[0] != rid:
            return None
        self.match_request = None
        target = req[1]
        return target if isinstance(target, DirectMatch) or self._dialog_of(target) is self.style_part else None

    def _direct_result(self, target: DirectMatch, value) -> None:
        try:
            region = self.doc.region(target.uid)
        except KeyError:  # deleted meanwhile
            self.feedback.status("")
            return
        if region.style is not target.style:  # the style changed meanwhile: the match was of the old one
            self.feedback.status("")
            return
        mask = np.asarray(value, np.float32) if isinstance(value, np.ndarray) else None
        if mask is None or mask.shape != target.style.image.shape[:2] or not np.isfinite(mask).all():
            self.feedback.error("Match region failed", "The worker did not answer with a mask of the style photo.")
            return
        if not (mask > 0.5).any():
            self.feedback.status("Nothing in the style photo looks like the region: the whole photo is used", 8000)
            return
        self.doc.set_style_mask(target.uid, np.clip(mask, 0.0, 1.0))
        self.feedback.status(f"{region.name}: style from the part of {target.style.name} like it "
                             "(Style part… to refine, Whole for all of it)", 8000)

    def on_called(self, rid: int, value, _ms: float) -> None:
        """worker.called: a Match region answer fills its dialog's canvas, or (Match) becomes the style part."""
        target = self._take_match(rid)
        if target is None:
            return
        if isinstance(target, DirectMatch):
            self._direct_result(target, value)
            return
        if isinstance(target, SelectClick):
            try:
                target.dlg.set_selected(value, target.subtract)
            except (TypeError, ValueError) as e:  # not a map: say so, never crash
                target.dlg.match_failed(f"Select similar failed: {e}")
            return
        try:
            target.set_matched(value)
        except (TypeError, ValueError) as e:  # not a mask: say so, never crash
            target.match_failed(f"Match region failed: {e}")

    def on_failed(self, failure) -> bool:
        """worker.failed: True if it was a Match region request (then its dialog, or the status bar, says why)."""
        if self.match_request is None or self.match_request[0] != failure.id:
            return False
        target = self._take_match(failure.id)
        if isinstance(target, DirectMatch):
            self.feedback.error("Match region failed", failure.summary, failure.details)
        elif target is not None:
            self._dialog_of(target).match_failed(failure.summary, failure.details)
        return True

    def on_request_gone(self, rid: int) -> bool:
        """worker.discarded: True if it was the Match region request out (its dialog gets its button back)."""
        if self.match_request is None or self.match_request[0] != rid:
            return False
        target = self._take_match(rid)
        if isinstance(target, DirectMatch):
            self.feedback.status("Matching was cancelled.", 5000)
        elif target is not None:
            self._dialog_of(target).match_failed("Matching was cancelled." if not isinstance(target, SelectClick)
                                                 else "Selecting was cancelled.")
        return True

    def clear_style_part(self, uid: int | None = None) -> bool:
        """Take the active region's style from the whole reference again (one undo step)."""
        r = self.doc.active_region if uid is None else self.doc.region(uid)
        return r is not None and self.doc.set_style_mask(r.uid, None)

    # gallery ----------------------------------------------------------------------------------------
    def on_gallery_chosen(self, path: str) -> None:
        if not self.doc.has_photo:
            return
        r = self.doc.active_region
        if r is None:
            self.doc.add_region()
            r = self.doc.active_region
        self.set_region_style_from_path(r.uid, path)

    def load_gallery(self) -> None:
        paths = bundled_styles() + [p for p in self.saved_gallery() if os.path.isfile(p)]
        for p in paths:
            try:
                ph = load_photo(p, self.max_pixels, keep_alpha=False)
            except ImageLoadError:
                continue
            self.gallery.add_style(p, ph.rgb)

    def saved_gallery(self) -> list[str]:
        v = self.settings.value("gallery/paths", [])
        if isinstance(v, str):
            v = [v]
        return [p for p in (v or []) if isinstance(p, str)]

    def _remember(self, path: str) -> None:
        if path in bundled_styles():
            return
        paths = [p for p in self.saved_gallery() if p != path]
        self.settings.setValue("gallery/paths", ([path] + paths)[:MAX_GALLERY])

    def add_gallery_paths(self, paths: list[str]) -> None:
        bad = []
        for p in paths:
            if not is_image_path(p):
                bad.append(f"{os.path.basename(p)}: not an image file")
                continue
            style = self.load_style(p)
            if style is not None:
                self.gallery.add_style(p, style.image)
                self._remember(p)
        if bad:
            self.feedback.error("Not added to the gallery", "\n".join(bad))

    # second photo -----------------------------------------------------------------------------------
    def choose_second_photo_dialog(self) -> None:
        path = dialogs.open_path(self.feedback.window, "Second photo for interpolation", "", dialogs.IMAGE_FILTER)
        if path:
            self.set_second_photo(path)

    def set_second_photo(self, path: str) -> bool:
        try:
            ph = load_photo(path, self.max_pixels, keep_alpha=False)
        except ImageLoadError as e:
            self.feedback.error("Cannot open the second photo", str(e))
            return False
        self.doc.set_interp_image(ph.rgb, path)
        return True

    # warm-up ----------------------------------------------------------------------------------------
    def warm_styles(self) -> list[np.ndarray]:
        """Style images a first preview is likely to use: the active region's, then the gallery's."""
        out: list[np.ndarray] = []
        r = self.doc.active_region
        if r is not None and r.style is not None:
            out.append(r.style.image)
        for p in (bundled_styles() + self.saved_gallery())[:WARM_GALLERY_STYLES]:
            style = self.cache.get(p)
            if style is None and os.path.isfile(p):
                try:
                    style = StyleRef.from_array(load_photo(p, self.max_pixels, keep_alpha=False).rgb, p)
                except ImageLoadError:
                    continue
                self.cache[p] = style
            if style is not None and not any(style.image is o for o in out):
                out.append(style.image)
        return out

    def request_warm(self) -> int | None:
        """Let the worker prepare the first preview (the photo's encoding, the gallery styles' swaps,
        the network's kernels at this size) while the user brushes; see render.warm_steps."""
        doc = self.doc
        if not self.prewarm or (doc.interp_image is not None and doc.interp_amount > 0):
            return None
        if doc.preview is None:
            # No photo yet: the network's first passes (its kernels' set-up, about 0.25 s on 2 cores)
            # and the gallery styles' encodings, on a stand-in photo of the usual 4:3 shape.
            stand_in = np.full((768, 1024, 3), 128, np.uint8)
            return self.service.submit_warm(stand_in, self.warm_styles(), None, 1.0, export=doc.export_config())
        r = doc.active_region
        mask = r.mask.copy() if r is not None and r.mask.any() else None
        strength = float(r.strength) if r is not None else 1.0
        export = doc.export_config()
        if r is not None and r.priming is not None:  # the region's own colour priming, as its preview primes it
            export = export.replace(priming=r.priming / 100)
        return self.service.submit_warm(doc.preview, self.warm_styles(), mask, strength, export=export)
