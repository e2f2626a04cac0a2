"""Files: open a photo or project, save projects, export the edit at full resolution (in the
worker), the recent-files list and the unsaved-changes question."""

from __future__ import annotations

import os
import threading

from PySide6.QtCore import QObject, Signal

from . import dialogs, project
from .services.images import ImageLoadError, load_photo, same_file
from .services.requests import ExportJob, Failure

MAX_RECENT = 10


class FilesController(QObject):
    exportFinished = Signal(str)  # path
    exportFailed = Signal(str)  # summary
    pathChanged = Signal()  # the project's or photo's file name changed (window title)

    def __init__(self, doc, service, settings, feedback, max_pixels: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc, self.service, self.settings, self.feedback = doc, service, settings, feedback
        self.max_pixels = max_pixels
        self.exports: dict[int, str] = {}  # request id -> path

    @property
    def _parent(self):
        return self.feedback.window

    # open ---------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = os.path.dirname(self.doc.path) if self.doc.path else ""
        path = dialogs.open_path(self._parent, "Open photo or project", start)
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> bool:
        if str(path).lower().endswith(project.EXTENSION):
            return self.open_project(path)
        return self.open_photo(path)

    def maybe_save_changes(self) -> bool:
        """Ask before discarding unsaved edits; False if the user cancelled."""
        if not self.doc.has_photo or self.doc.undo_stack.isClean():
            return True
        name = os.path.basename(self.doc.project_path or self.doc.path) or "the photo"
        ans = dialogs.ask_save_changes(self._parent, name)
        if ans == "save":
            return self.save_project_dialog()
        return ans == "discard"

    def open_photo(self, path: str) -> bool:
        try:
            photo = load_photo(path, self.max_pixels)
        except ImageLoadError as e:
            self.feedback.error("Cannot open photo", str(e))
            return False
        except MemoryError:
            self.feedback.error("Cannot open photo", f"'{os.path.basename(path)}' is too large for the memory left.")
            return False
        if not self.maybe_save_changes():
            return False
        self.doc.set_photo(photo.rgb, photo.path, photo.exif, photo.icc, photo.alpha)
        self.doc.undo_stack.setClean()
        self._prewarm_photo_png()
        self.add_recent(path)
        h, w = photo.rgb.shape[:2]
        self.feedback.status(f"Opened {os.path.basename(path)} ({w}x{h}). Brush a region, then drop a "
                             "style photo on it.", 10000)
        return True

    def _prewarm_photo_png(self) -> None:
        """Encode the photo for project files in the background now (PIL's encoder releases the
        GIL), so the first Save does not spend ~1 s per 12 MP on it in the GUI thread."""
        png = project.photo_png_cache(self.doc)  # (the thread holds this, not the document: project.PhotoPng)

        def work() -> None:
            try:
                png.get()
            except Exception:  # noqa: BLE001 - Save encodes it itself then
                pass

        threading.Thread(target=work, name="tcp-photo-png", daemon=True).start()

    def open_project(self, path: str) -> bool:
        try:
            snap = project.load(path)
        except project.ProjectError as e:
            self.feedback.error("Cannot open project", str(e))
            return False
        except MemoryError:
            self.feedback.error("Cannot open project", "The project is too large for the memory left.")
            return False
        if not self.maybe_save_changes():
            return False
        project.restore(self.doc, snap, path)
        self.add_recent(path)
        self.pathChanged.emit()
        if self.doc.priming_is_current():
            self.feedback.status(f"Opened project {os.path.basename(path)}.", 8000)
        else:  # saved before today's priming defaults: it renders as it was saved until the user updates it
            self.feedback.notify(f"Opened project {os.path.basename(path)}. It keeps the colour priming it was saved "
                                 "with; Edit > Update Priming to Current Defaults brings the current one.", 15000)
        return True

    # save -----------------------------------------------------------------------------------------
    def save_project(self, path: str) -> bool:
        if not self.doc.has_photo:
            return False
        if not path.lower().endswith(project.EXTENSION):
            path += project.EXTENSION
        try:
            project.save(path, self.doc)
        except (project.ProjectError, OSError) as e:
            self.feedback.error("Cannot save project", str(e))
            return False
        self.doc.project_path = path
        self.doc.undo_stack.setClean()
        self.add_recent(path)
        self.pathChanged.emit()
        self.feedback.status(f"Saved {path}", 5000)
        return True

    def save_project_dialog(self, save_as: bool = False) -> bool:
        if not self.doc.has_photo:
            return False
        path = self.doc.project_path
        if save_as or not path:
            stem = os.path.splitext(self.doc.path)[0] if self.doc.path else "untitled"
            path = dialogs.save_path(self._parent, "Save project", stem + project.EXTENSION, dialogs.PROJECT_FILTER)
            if not path:
                return False
        return self.save_project(path)

    # export ---------------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        if not self.doc.has_photo:
            return
        stem, ext = os.path.splitext(self.doc.path or "untitled.png")
        ext = ext.lower() if ext.lower() in (".png", ".jpg", ".jpeg", ".webp") else ".png"
        name = f"{stem}_tcp{ext}"
        path = dialogs.save_path(self._parent, "Export image", name, dialogs.EXPORT_FILTER,
                                 dialogs.export_filter_for(name))
        if path:
            self.export_to(path)

    def export_to(self, path: str, quality: int = 92) -> int | None:
        """Export at full resolution (asynchronously, in the worker). Returns the request id."""
        doc = self.doc
        if not doc.has_photo:
            return None
        if not os.path.splitext(path)[1]:
            path += ".png"
        # the other files this edit reads (style references, the second photo) are never replaced
        inputs = [r.style.path for r in doc.regions if r.style is not None and r.style.path]
        inputs += [doc.interp_path] if doc.interp_path else []
        hit = next((p for p in inputs if same_file(path, p)), None)
        if hit is not None:
            self.feedback.error("Export", f"'{os.path.basename(path)}' is a style reference or second photo of "
                                          "this edit; exporting onto it would destroy it. Choose another name.")
            return None
        protect = [doc.path] if doc.path else []
        if doc.path and same_file(path, doc.path):
            if not dialogs.confirm(self._parent, "Overwrite the original?",
                                   f"'{os.path.basename(path)}' is the original photo. Replace it with the edit? "
                                   "This cannot be undone.", default_yes=False):
                return None
            protect = []
        protect += inputs  # checked above; the worker checks again when it writes
        regions = [(r.style.image, r.mask.copy(), float(r.strength), r.style_mask, r.priming) for r in doc.regions
                   if r.visible and r.style is not None and (doc.global_transfer or r.mask.max() > 0)]
        rid = self.service.submit_export(ExportJob(
            photo=doc.photo, alpha=doc.alpha, exif=doc.exif, icc=doc.icc, regions=regions,
            global_=doc.global_transfer, interp_image=doc.interp_image if doc.interp_amount > 0 else None,
            interp_what=doc.interp_what, interp_amount=doc.interp_amount, export=doc.export_config(), path=path,
            quality=quality, protect=tuple(protect)))
        self.exports[rid] = path
        self.feedback.status(f"Exporting {os.path.basename(path)} at full resolution…")
        return rid

    def on_exported(self, rid: int, path: str, ms: float) -> None:
        self.exports.pop(rid, None)
        self.feedback.status(f"Exported {path} ({ms / 1000:.1f} s)", 10000)
        self.exportFinished.emit(path)

    def on_progress(self, rid: int, done: int, total: int) -> None:
        if rid in self.exports and total > 0:
            name = os.path.basename(self.exports[rid])
            self.feedback.status(f"Exporting {name} at full resolution… {100 * done // total}%")

    def on_failed(self, failure: Failure) -> bool:
        """An export of ours failed: tell the user. False for other requests."""
        path = self.exports.pop(failure.id, None)
        if path is None:
            return False
        self.feedback.status(f"Export to {os.path.basename(path)} failed.")
        self.exportFailed.emit(failure.summary)
        self.feedback.error("Export failed", failure.summary + "\n\nThe document is unchanged; try another file "
                                                               "name or format.", failure.details)
        return True

    # recent files -----------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        v = self.settings.value("recent/files", [])
        if isinstance(v, str):
            v = [v]
        return [p for p in (v or []) if isinstance(p, str)]

    def add_recent(self, path: str) -> None:
        path = os.path.abspath(path)
        files = [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent/files", [path] + files[: MAX_RECENT - 1])

    def fill_recent_menu(self, menu) -> None:
        menu.clear()
        files = [p for p in self.recent_files() if os.path.exists(p)]
        if not files:
            a = menu.addAction("(none)")
            a.setEnabled(False)
            return
        for p in files:
            a = menu.addAction(os.path.basename(p))
            a.setToolTip(p)
            a.triggered.connect(lambda _=False, p=p: self.open_path(p))
