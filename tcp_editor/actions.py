"""The window's actions as a table: menus, tool bar, shortcuts, handlers and enabled-state rules.

`MainWindow` builds its menus and tool bar from `ACTIONS`, `MENUS`, `TOOLS` and `TOOLBAR`, and
enables actions by their `needs` rule whenever the document's photo, regions, active region or
settings change. Handlers take the window (checkable actions: the window and the checked state).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtGui import QKeySequence

Key = QKeySequence.StandardKey


class Needs(enum.Enum):
    NOTHING = "nothing"  # always enabled
    PHOTO = "photo"  # a photo is open
    REGION = "region"  # a photo is open and a region is active
    OLD_PRIMING = "old_priming"  # a photo is open and its colour priming is not the current defaults


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    handler: Callable[..., Any] | None = None
    shortcut: Any = None  # a key string, a QKeySequence.StandardKey, or a tuple of them
    checkable: bool = False
    tip: str = ""
    needs: Needs = Needs.NOTHING
    factory: Callable[[Any], Any] | None = None  # builds the QAction itself (undo/redo from the stack)


def _undo(w):
    return w.doc.undo_stack.createUndoAction(w, "&Undo")


def _redo(w):
    return w.doc.undo_stack.createRedoAction(w, "&Redo")


def _add_region(w) -> None:
    if w.doc.has_photo:
        w.doc.add_region()


def _update_priming(w) -> None:
    if w.doc.has_photo and w.doc.update_priming_defaults():
        w.feedback.status("The colour priming is now the current defaults (Undo brings back the saved one).", 8000)


UPDATE_PRIMING_TIP = ("This project keeps the colour priming it was saved with. Update it to the current defaults "
                      "(fine-detail stretching, sky grain guard, neutral highlights).")

ACTIONS: tuple[ActionSpec, ...] = (
    # File
    ActionSpec("open", "&Open…", lambda w: w.files.open_dialog(), Key.Open),
    ActionSpec("save", "&Save Project", lambda w: w.files.save_project_dialog(), Key.Save, needs=Needs.PHOTO),
    ActionSpec("save_as", "Save Project &As…", lambda w: w.files.save_project_dialog(True), Key.SaveAs,
               needs=Needs.PHOTO),
    ActionSpec("export", "&Export Image…", lambda w: w.files.export_dialog(), "Ctrl+E",
               tip="Export the edited photo at full resolution (PNG, JPEG, WebP)", needs=Needs.PHOTO),
    ActionSpec("quit", "&Quit", lambda w: w.close(), Key.Quit),
    # Edit
    ActionSpec("undo", "&Undo", shortcut=Key.Undo, factory=_undo),
    ActionSpec("redo", "&Redo", shortcut=(Key.Redo, "Ctrl+Y"), factory=_redo),
    ActionSpec("add_region", "Add &Region", _add_region, "Ctrl+R", needs=Needs.PHOTO),
    ActionSpec("update_priming", "Update &Priming to Current Defaults", _update_priming, tip=UPDATE_PRIMING_TIP,
               needs=Needs.OLD_PRIMING),
    # View
    ActionSpec("fit", "&Fit", lambda w: w.canvas.fit(), "Ctrl+0"),
    ActionSpec("zoom_100", "&100%", lambda w: w.canvas.zoom_100(), "Ctrl+1"),
    ActionSpec("zoom_in", "Zoom &In", lambda w: w.canvas.zoom_by(1.25), Key.ZoomIn),
    ActionSpec("zoom_out", "Zoom &Out", lambda w: w.canvas.zoom_by(0.8), Key.ZoomOut),
    ActionSpec("split", "&Split Before/After", lambda w, on: w.set_split(on), "Ctrl+\\", checkable=True,
               tip="Show the original left of the split line (hold \\ to see the original)"),
    # Mask
    ActionSpec("fill", "&Fill", lambda w: w.selection.mask_op("fill"), tip="Select the whole photo",
               needs=Needs.PHOTO),
    ActionSpec("invert", "&Invert", lambda w: w.selection.mask_op("invert"), "Ctrl+I", needs=Needs.REGION),
    ActionSpec("grow", "&Grow", lambda w: w.selection.mask_op("grow"), needs=Needs.REGION),
    ActionSpec("shrink", "&Shrink", lambda w: w.selection.mask_op("shrink"), needs=Needs.REGION),
    ActionSpec("feather", "F&eather", lambda w: w.selection.mask_op("feather"), needs=Needs.REGION),
    ActionSpec("clear", "&Clear", lambda w: w.selection.mask_op("clear"), "Ctrl+Shift+X", needs=Needs.REGION),
    ActionSpec("import_mask", "I&mport Mask…", lambda w: w.selection.import_mask_dialog(), needs=Needs.PHOTO),
    ActionSpec("export_mask", "E&xport Mask…", lambda w: w.selection.export_mask_dialog(), needs=Needs.REGION),
    # Model
    ActionSpec("bundled_model", "Use &Bundled Model", lambda w: w.models.load_bundled()),
    ActionSpec("weights_file", "Load &Weights File…", lambda w: w.models.load_weights_dialog()),
    ActionSpec("hub_model", "Load from &Hugging Face…", lambda w: w.models.load_hub_dialog()),
    ActionSpec("demo_model", "Use &Untrained Demo Model", lambda w: w.models.load_demo()),
)

SEPARATOR = "-"
RECENT_MENU = "@recent"  # File > Open Recent (filled when shown)
MODEL_CHOICES = "@model"  # Model > Device and Precision (radio groups of the model controller)

MENUS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("&File", ("open", RECENT_MENU, SEPARATOR, "save", "save_as", "export", SEPARATOR, "quit")),
    ("&Edit", ("undo", "redo", SEPARATOR, "add_region", SEPARATOR, "update_priming")),
    ("&View", ("fit", "zoom_100", "zoom_in", "zoom_out", "split")),
    ("&Mask", ("fill", "invert", "grow", "shrink", "feather", "clear", SEPARATOR, "import_mask", "export_mask")),
    ("M&odel", ("bundled_model", "weights_file", "hub_model", "demo_model", MODEL_CHOICES)),
)

# canvas tools: (tool, label, key, tip); a checkable, exclusive group at the start of the tool bar
TOOLS: tuple[tuple[str, str, str, str], ...] = (
    ("brush", "Brush", "B", "Paint the active region's mask (Alt: erase)"),
    ("eraser", "Eraser", "E", "Erase from the mask"),
    ("lasso", "Lasso", "L", "Polygon lasso: click points, double-click or Enter to close; drag for "
                            "freehand (Alt: subtract)"),
    ("flood", "Fill Colour", "G", "Colour flood fill from the clicked pixel (Alt: subtract)"),
    ("similar", "Similar", "W", "Select content similar to the clicked pixel (network content codes)"),
    ("pan", "Pan", "H", "Pan (or hold Space, or drag with the middle button)"),
)
SPLIT_SLIDER = "@split_slider"
TOOLBAR: tuple[str, ...] = (SEPARATOR, "fit", "zoom_100", SEPARATOR, "split", SPLIT_SLIDER)  # after the tools


def shortcuts(spec: ActionSpec) -> list[QKeySequence]:
    keys = spec.shortcut if isinstance(spec.shortcut, tuple) else (spec.shortcut,)
    return [QKeySequence(k) for k in keys if k is not None]


def is_enabled(needs: Needs, has_photo: bool, has_region: bool, priming_current: bool = True) -> bool:
    if needs is Needs.OLD_PRIMING:
        return has_photo and not priming_current
    return needs is Needs.NOTHING or (has_photo and (needs is Needs.PHOTO or has_region))
