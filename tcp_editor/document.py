"""The edit document: photo, regions (mask + style + strength), global/interpolation settings.

No torch, no tcp_core: images are numpy uint8 arrays, masks float32. Every user edit goes
through `Document.undo_stack` (see `commands.py`); the low-level `_set_*` methods are what the
commands call and they emit the change signals.

Masks live at the *preview* resolution (long side <= `preview_long_side`); `full_mask()` maps
one to the photo's full resolution (bilinear up-sampling) for export.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from types import MappingProxyType

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from . import mask_ops

PREVIEW_LONG_SIDE = 1024
STYLE_LONG_SIDE = 1024
UNDO_LIMIT = 100
INTERP_WHAT = ("style", "content")
# Colour smoothing of the full-resolution reconstruction, the Region interior modes (how the
# inside of a region takes the network's global swap), the Colour priming (an integer percent) and the
# rest of the export's settings: the library's one definition, reached through the service layer
# (tcp_core.base.constants, tcp_core.editing.export_config).
from .services.images import (  # noqa: E402
    DEFAULT_DETAIL_GAIN,
    DEFAULT_FEATHER_EDGE,
    DEFAULT_INTERIOR_MODE,
    DEFAULT_PRE_TRANSFER_PERCENT,
    DEFAULT_PRIMING_HIGHLIGHTS,
    DEFAULT_PRIMING_PROFILE,
    DEFAULT_PRIMING_SPREAD,
    DEFAULT_SMOOTHING,
    EXPORT_PRESETS,
    FEATHER_EDGES,
    INTERIOR_MODES,
    MAX_PRE_TRANSFER_PERCENT,
    MAX_SMOOTHING,
    MAX_STRENGTH,
    PRIMING_HIGHLIGHTS,
    PRIMING_PROFILES,
    PRIMING_SPREADS,
    ExportConfig,
)

# The export's detail gain cap (Document.detail_gain, `ExportConfig.detail_gain`): 0 (no cap) or a number
# between these; below 1 it would flatten the photo's own detail, far above 4 it is no cap in practice.
MIN_DETAIL_GAIN = 1.0
MAX_DETAIL_GAIN = 4.0


def valid_detail_gain(value) -> bool:
    """Whether `value` is an allowed detail gain cap: a finite number (not a bool), 0 or between MIN_DETAIL_GAIN and
    MAX_DETAIL_GAIN."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    try:
        value = float(value)  # an int beyond float range raises OverflowError
    except OverflowError:
        return False
    return value == 0.0 or MIN_DETAIL_GAIN <= value <= MAX_DETAIL_GAIN  # (NaN fails both)


def _editor_priming(config: ExportConfig) -> MappingProxyType:
    """The colour-priming settings whose defaults changed since projects were first saved, as the Document holds them
    (the detail gain cap None, no cap, as 0.0), from an export preset."""
    return MappingProxyType({"priming_spread": config.priming_spread, "detail_gain": float(config.detail_gain or 0.0),
                             "priming_highlights": config.priming_highlights})


# Those settings at today's defaults (EXPORT_PRESETS["current"]), and as a project saved before they existed renders
# (EXPORT_PRESETS["legacy"]): such a project loads the old values (`project.load`, for each key it lacks), so that it
# renders as it was saved, until `Document.update_priming_defaults` brings it to the current ones.
CURRENT_PRIMING = _editor_priming(EXPORT_PRESETS["current"])
LEGACY_PRIMING = _editor_priming(EXPORT_PRESETS["legacy"])

_uids = itertools.count(1)


def fit_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Downscale (area) so that the long side is at most long_side; never upscales."""
    h, w = image.shape[:2]
    s = long_side / max(h, w)
    if s >= 1.0:
        return np.ascontiguousarray(image)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


@dataclass
class StyleRef:
    """A style reference photo (RGB uint8, long side <= STYLE_LONG_SIDE) and where it came from."""

    image: np.ndarray
    path: str = ""
    name: str = ""

    @classmethod
    def from_array(cls, rgb: np.ndarray, path: str = "", name: str = "") -> StyleRef:
        img = np.ascontiguousarray(rgb[:, :, :3]) if rgb.ndim == 3 else np.repeat(rgb[:, :, None], 3, 2)
        return cls(fit_long_side(img.astype(np.uint8), STYLE_LONG_SIDE), str(path), name or _basename(path))


def _basename(path: str) -> str:
    import os

    return os.path.basename(str(path)) if path else ""


@dataclass
class Region:
    name: str
    mask: np.ndarray  # HxW float32 [0, 1] at the preview resolution
    style: StyleRef | None = None
    strength: float = 1.0
    visible: bool = True
    uid: int = field(default_factory=lambda: next(_uids))
    # The part of the style reference to take the style from (HxW float32 [0, 1] of style.image's
    # size; never all zero), or None: the whole reference. Cleared whenever the style changes.
    style_mask: np.ndarray | None = None
    # This region's colour priming (integer percent 0..MAX_PRE_TRANSFER_PERCENT), or None: the document's.
    priming: int | None = None

    def copy(self) -> Region:
        return Region(self.name, self.mask.copy(), self.style, self.strength, self.visible, self.uid,
                      None if self.style_mask is None else self.style_mask.copy(), self.priming)


@dataclass(frozen=True)
class RenderRegion:
    style: np.ndarray
    mask: np.ndarray
    strength: float
    style_mask: np.ndarray | None = None  # the part of `style` to take the style from (None: all of it)
    priming: int | None = None  # the region's colour priming, percent (None: the document's pre_transfer)


@dataclass(frozen=True)
class RenderState:
    """An immutable snapshot of what to render (what the inference worker receives)."""

    image: np.ndarray
    regions: tuple[RenderRegion, ...]
    global_transfer: bool
    interp_image: np.ndarray | None
    interp_what: str
    interp_amount: float
    # how each edit is rendered, in the library's units (`Document.export_config`); a region's own colour priming
    # stays in its RenderRegion
    export: ExportConfig = field(default_factory=ExportConfig)

    @property
    def is_identity(self) -> bool:
        return not self.regions and (self.interp_image is None or self.interp_amount <= 0)


class Document(QObject):
    photoChanged = Signal()
    regionsChanged = Signal()  # structure: add / delete / reorder / rename / visibility
    regionChanged = Signal(int)  # uid: a property (style, strength, name, visibility)
    maskChanged = Signal(int, object)  # uid, dirty rect (x0, y0, x1, y1) or None (whole mask)
    activeRegionChanged = Signal(int)  # uid, -1 for none
    settingsChanged = Signal()  # global transfer, interpolation, smoothing, region interior, colour priming (amount,
    # profile, spread, highlights), mask edge, detail gain cap
    changed = Signal()  # anything that changes the rendered result

    def __init__(self, parent: QObject | None = None, preview_long_side: int = PREVIEW_LONG_SIDE) -> None:
        super().__init__(parent)
        self.preview_long_side = preview_long_side
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.photo: np.ndarray | None = None  # full resolution RGB uint8
        self.alpha: np.ndarray | None = None
        self.preview: np.ndarray | None = None  # RGB uint8, long side <= preview_long_side
        self.path: str = ""
        self.exif: bytes | None = None
        self.icc: bytes | None = None
        self.regions: list[Region] = []
        self.interp_image: np.ndarray | None = None
        self._merge_generation = 0
        self._reset_edits()

    def _reset_edits(self) -> None:
        """No regions, no second photo, every transfer setting at its default, no project file: the state of
        a new document (at construction and when a photo is opened)."""
        self.regions = []
        self.active_uid = -1
        self.global_transfer = False
        self.interp_image = None
        self.interp_path = ""
        self.interp_what = "style"
        self.interp_amount = 0.0
        self.smoothing = DEFAULT_SMOOTHING
        self.interior = DEFAULT_INTERIOR_MODE
        self.pre_transfer = DEFAULT_PRE_TRANSFER_PERCENT
        self.edge = DEFAULT_FEATHER_EDGE
        self.priming_profile = DEFAULT_PRIMING_PROFILE
        self.priming_spread = DEFAULT_PRIMING_SPREAD
        self.detail_gain = DEFAULT_DETAIL_GAIN
        self.priming_highlights = DEFAULT_PRIMING_HIGHLIGHTS
        self.project_path = ""
        self._region_counter = 0

    # photo -------------------------------------------------------------------------------
    @property
    def has_photo(self) -> bool:
        return self.photo is not None

    @property
    def full_shape(self) -> tuple[int, int]:
        return self.photo.shape[:2] if self.photo is not None else (0, 0)

    @property
    def preview_shape(self) -> tuple[int, int]:
        return self.preview.shape[:2] if self.preview is not None else (0, 0)

    @property
    def preview_scale(self) -> float:
        """preview pixels per full-resolution pixel (<= 1)."""
        if self.photo is None:
            return 1.0
        return self.preview.shape[1] / self.photo.shape[1]

    def set_photo(self, rgb: np.ndarray, path: str = "", exif: bytes | None = None, icc: bytes | None = None,
                  alpha: np.ndarray | None = None) -> None:
        """Start a new document on this photo (not undoable: clears regions and the undo stack)."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"photo must be HxWx3 uint8, got {rgb.shape} {rgb.dtype}")
        self.undo_stack.clear()
        self.photo = np.ascontiguousarray(rgb)
        self.alpha = alpha
        self.preview = fit_long_side(self.photo, self.preview_long_side)
        self.path = str(path)
        self.exif = exif
        self.icc = icc
        self._reset_edits()
        self.photoChanged.emit()
        self.regionsChanged.emit()
        self.activeRegionChanged.emit(-1)
        self.settingsChanged.emit()
        self.changed.emit()

    def full_mask(self, region: Region) -> np.ndarray:
        """The region's mask at the photo's full resolution."""
        return mask_ops.resize_mask(region.mask, self.full_shape)

    def empty_mask(self) -> np.ndarray:
        return np.zeros(self.preview_shape, np.float32)

    # look-ups ----------------------------------------------------------------------------
    def region(self, uid: int) -> Region:
        for r in self.regions:
            if r.uid == uid:
                return r
        raise KeyError(f"no region {uid}")

    def index_of(self, uid: int) -> int:
        for i, r in enumerate(self.regions):
            if r.uid == uid:
                return i
        raise KeyError(f"no region {uid}")

    @property
    def active_region(self) -> Region | None:
        for r in self.regions:
            if r.uid == self.active_uid:
                return r
        return None

    def set_active(self, uid: int) -> None:
        if uid != -1 and all(r.uid != uid for r in self.regions):
            uid = -1
        if uid != self.active_uid:
            self.active_uid = uid
            self.activeRegionChanged.emit(uid)

    def next_region_name(self) -> str:
        names = {r.name for r in self.regions}
        n = len(self.regions) + 1
        while f"Region {n}" in names:
            n += 1
        return f"Region {n}"

    # rendering ---------------------------------------------------------------------------
    def render_state(self) -> RenderState | None:
        if self.preview is None:
            return None
        regions = tuple(
            RenderRegion(r.style.image, r.mask.copy(), float(r.strength), r.style_mask, r.priming)
            for r in self.regions
            if r.visible and r.style is not None and (self.global_transfer or r.mask.max() > 0))
        return RenderState(self.preview, regions, self.global_transfer,
                           self.interp_image if self.interp_amount > 0 else None, self.interp_what,
                           float(self.interp_amount), self.export_config())

    def export_config(self) -> ExportConfig:
        """The document's export settings as the library takes them: the one `ExportConfig` the preview, the warm-up
        and the export render with. The document keeps each setting in the editor's units (what the widgets and
        project.json hold); here colour priming's percent becomes a fraction (/ 100), the detail gain cap 0.0 becomes
        None (no cap) and the integer colour smoothing a float. A region's own priming is not in it
        (`RenderRegion.priming`, `Region.priming`). ValueError (naming the field) if a setting is out of range."""
        return ExportConfig(priming=self.pre_transfer / 100, interior=str(self.interior), edge=str(self.edge),
                            priming_profile=str(self.priming_profile), priming_spread=str(self.priming_spread),
                            priming_highlights=str(self.priming_highlights), smoothing=float(self.smoothing),
                            detail_gain=float(self.detail_gain) or None)

    # editing API: every call pushes one undoable command ---------------------------------
    def add_region(self, name: str | None = None, mask: np.ndarray | None = None,
                   style: StyleRef | None = None) -> int:
        from .commands import AddRegionCommand

        if self.preview is None:
            raise RuntimeError("open a photo first")
        m = self.empty_mask() if mask is None else mask_ops.resize_mask(mask, self.preview_shape)
        region = Region(name or self.next_region_name(), m, style)
        self.undo_stack.push(AddRegionCommand(self, region, len(self.regions)))
        return region.uid

    def delete_region(self, uid: int) -> None:
        from .commands import DeleteRegionCommand

        self.undo_stack.push(DeleteRegionCommand(self, uid))

    def rename_region(self, uid: int, name: str) -> None:
        from .commands import RegionPropertyCommand

        name = name.strip()
        if name and name != self.region(uid).name:
            self.undo_stack.push(RegionPropertyCommand(self, uid, "name", name, f"Rename to {name!r}"))

    def set_region_visible(self, uid: int, visible: bool) -> None:
        from .commands import RegionPropertyCommand

        if bool(visible) != self.region(uid).visible:
            self.undo_stack.push(RegionPropertyCommand(self, uid, "visible", bool(visible),
                                                       "Show region" if visible else "Hide region"))

    def move_region(self, uid: int, new_index: int) -> None:
        from .commands import MoveRegionCommand

        new_index = max(0, min(len(self.regions) - 1, int(new_index)))
        if new_index != self.index_of(uid):
            self.undo_stack.push(MoveRegionCommand(self, uid, new_index))

    def set_style(self, uid: int, style: StyleRef | None) -> None:
        """A new style reference; its style part (if any) belonged to the old one and is cleared in
        the same undo step."""
        from .commands import RegionValuesCommand

        values = {"style": style}
        if style is not self.region(uid).style:  # the same reference again keeps its part
            values["style_mask"] = None
        self.undo_stack.push(RegionValuesCommand(self, uid, values,
                                                 f"Set style {style.name}" if style else "Remove style"))

    def set_style_mask(self, uid: int, mask: np.ndarray | None) -> bool:
        """The part of the region's style reference to take the style from (HxW of the style photo;
        resized to it if the aspect matches), or None / an empty mask: the whole reference.
        One undo step; False when nothing changes."""
        from .commands import RegionValuesCommand

        region = self.region(uid)
        if mask is not None:
            if region.style is None:
                raise ValueError("the region has no style reference to take a part of")
            mask = np.clip(np.nan_to_num(np.asarray(mask, np.float32)), 0.0, 1.0)
            if mask.ndim != 2:
                raise ValueError(f"a style mask is HxW, got shape {mask.shape}")
            shape = region.style.image.shape[:2]
            if mask.shape != shape:
                mask = mask_ops.resize_mask(mask, shape)
            if not np.any(mask > 0):
                mask = None
        old = region.style_mask
        if (old is None and mask is None) or (old is not None and mask is not None and np.array_equal(old, mask)):
            return False
        self.undo_stack.push(RegionValuesCommand(self, uid, {"style_mask": mask},
                                                 "Set style part" if mask is not None else "Clear style part"))
        return True

    def set_strength(self, uid: int, value: float) -> None:
        """Consecutive calls merge into one undo step until `end_merge()` (slider release)."""
        from .commands import RegionPropertyCommand

        value = float(np.clip(value, 0.0, MAX_STRENGTH))
        if abs(value - self.region(uid).strength) > 1e-9:
            self.undo_stack.push(RegionPropertyCommand(self, uid, "strength", value, "Style strength",
                                                       merge_generation=self._merge_generation))

    def set_region_priming(self, uid: int, value: int | None) -> None:
        """The colour priming of one region (an integer percent 0..MAX_PRE_TRANSFER_PERCENT), or None to follow the
        document's Colour priming (`set_pre_transfer`); a sky may want more than the skin next to it. One undo step
        per change; a value out of range raises ValueError and changes nothing."""
        from .commands import RegionPropertyCommand

        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                  or not 0 <= value <= MAX_PRE_TRANSFER_PERCENT):
            raise ValueError(f"a region's colour priming must be an integer percent between 0 and "
                             f"{MAX_PRE_TRANSFER_PERCENT}, or None (the document's), got {value!r}")
        value = None if value is None else int(value)
        if value != self.region(uid).priming:
            self.undo_stack.push(RegionPropertyCommand(self, uid, "priming", value, "Region priming"))

    def set_global_transfer(self, on: bool) -> None:
        from .commands import DocValueCommand

        if bool(on) != self.global_transfer:
            self.undo_stack.push(DocValueCommand(self, {"global_transfer": bool(on)},
                                                 "Global transfer on" if on else "Global transfer off"))

    def set_interp_image(self, rgb: np.ndarray | None, path: str = "") -> None:
        from .commands import DocValueCommand

        img = None if rgb is None else fit_long_side(np.ascontiguousarray(rgb[:, :, :3]), self.preview_long_side)
        self.undo_stack.push(DocValueCommand(self, {"interp_image": img, "interp_path": str(path)},
                                             "Set second photo" if img is not None else "Remove second photo"))

    def set_interp_what(self, what: str) -> None:
        from .commands import DocValueCommand

        if what not in INTERP_WHAT:
            raise ValueError(f"interpolate what must be one of {INTERP_WHAT}")
        if what != self.interp_what:
            self.undo_stack.push(DocValueCommand(self, {"interp_what": what}, f"Interpolate {what}"))

    def set_interp_amount(self, value: float) -> None:
        from .commands import DocValueCommand

        value = float(np.clip(value, 0.0, 1.0))
        if abs(value - self.interp_amount) > 1e-9:
            self.undo_stack.push(DocValueCommand(self, {"interp_amount": value}, "Interpolation amount",
                                                 merge_generation=self._merge_generation))

    def set_smoothing(self, value: int) -> None:
        """Colour smoothing of the edit at full resolution (0..MAX_SMOOTHING network pixels): low
        values follow the network's local colours, high ones keep more of the photo's own texture.
        Consecutive calls merge into one undo step until `end_merge()`."""
        from .commands import DocValueCommand

        value = int(np.clip(int(value), 0, MAX_SMOOTHING))
        if value != self.smoothing:
            self.undo_stack.push(DocValueCommand(self, {"smoothing": value}, "Colour smoothing",
                                                 merge_generation=self._merge_generation))

    def set_interior(self, mode: str) -> None:
        """How each region's inside is rendered (preview and export; one of INTERIOR_MODES): with the
        network's global swap, which carries more of the style reference than the region edit, switching
        to it away from the border along the photo ("guided") or over a fixed ramp ("fixed"), or not at
        all ("off"). One undo step per change (a choice, not a drag: nothing to merge)."""
        self._set_choice("interior", mode, INTERIOR_MODES, "region interior", "Region interior")

    def _set_choice(self, attr: str, value: str, choices: tuple[str, ...], what: str, undo_text: str) -> None:
        """Set the document setting `attr` to one of `choices` as one undo step (none when unchanged); a value not
        among them raises ValueError ("<what> must be one of ...") and changes nothing."""
        from .commands import DocValueCommand

        if value not in choices:
            raise ValueError(f"{what} must be one of {', '.join(choices)}, got {value!r}")
        if value != getattr(self, attr):
            self.undo_stack.push(DocValueCommand(self, {attr: value}, undo_text))

    def set_pre_transfer(self, value: int) -> None:
        """Colour priming (preview and export; an integer percent 0..MAX_PRE_TRANSFER_PERCENT): how far
        each region is moved towards its style photo's colours by a classical colour transfer before
        the network restyles it (`ExportConfig.priming` = value / 100); 0 is the network alone.
        One undo step per change (a spin-box step); a value out of range, or not an integer, raises
        ValueError and changes nothing."""
        from .commands import DocValueCommand

        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or not 0 <= value <= MAX_PRE_TRANSFER_PERCENT:
            raise ValueError(f"colour priming must be an integer percent between 0 and {MAX_PRE_TRANSFER_PERCENT}, "
                             f"got {value!r}")
        value = int(value)
        if value != self.pre_transfer:
            self.undo_stack.push(DocValueCommand(self, {"pre_transfer": value}, "Colour priming"))

    def set_edge(self, edge: str) -> None:
        """Where each region's edit fades out (preview and export; one of FEATHER_EDGES): "across" the brushed
        mask's edge, following the photo (no band where the brush stopped on a smooth sky; the edit may reach a
        few pixels past the mask there), or "inside" the mask (no pixel outside it changes). One undo step per
        change; an unknown value raises ValueError and changes nothing."""
        self._set_choice("edge", edge, FEATHER_EDGES, "mask edge", "Mask edge")

    def set_priming_profile(self, profile: str) -> None:
        """What colour priming moves each region towards (preview and export; one of PRIMING_PROFILES): "rows" the
        reference's colours row by row (a sunset's gradient stays a gradient), "global" one colour for the whole
        region. One undo step per change; an unknown value raises ValueError and changes nothing."""
        self._set_choice("priming_profile", profile, PRIMING_PROFILES, "priming profile", "Priming follows")

    def set_priming_spread(self, spread: str) -> None:
        """What colour priming's spread ratio stretches (preview and export; one of PRIMING_SPREADS): only each region's
        "detail" (finer than a few pixels of the network's image; a smooth sky's slow shading is never stretched) or
        "all" of its variation (the priming before session 34: under a busy reference a dusk sky's gentle shading could
        become a dark patch). One undo step per change; an unknown value raises ValueError and changes nothing."""
        self._set_choice("priming_spread", spread, PRIMING_SPREADS, "priming spread", "Priming stretches")

    def set_priming_highlights(self, highlights: str) -> None:
        """How colour priming treats clipped highlights (preview and export; one of PRIMING_HIGHLIGHTS): "neutral" (the
        default) counts a clipped pixel's chroma difference from its row as none, so the sun's white disk takes the
        reference's colour at its row instead of the opposite one (a white sun turned blue under a storm reference);
        "plain" primes every pixel alike (the priming before; projects saved without the setting). No control in the
        panel (it is a fix, not a choice): projects and this method set it. One undo step per change; an unknown value
        raises ValueError and changes nothing."""
        self._set_choice("priming_highlights", highlights, PRIMING_HIGHLIGHTS, "priming highlights",
                         "Priming highlights")

    def set_detail_gain(self, value: float) -> None:
        """The cap on how much the colour transform that carries each edit to full resolution amplifies the photo's own
        detail where the photo is smooth (preview and export; `ExportConfig.detail_gain`, 0 as None): 0 is no cap (a sky
        turned peach may show the photo's sensor noise as grain), otherwise a number between MIN_DETAIL_GAIN and
        MAX_DETAIL_GAIN. One undo step per change; any other value raises ValueError and changes nothing."""
        from .commands import DocValueCommand

        if not valid_detail_gain(value):
            raise ValueError(f"the detail gain cap must be 0 (no cap) or a number between {MIN_DETAIL_GAIN:g} and "
                             f"{MAX_DETAIL_GAIN:g}, got {value!r}")
        value = float(value)
        if value != self.detail_gain:
            self.undo_stack.push(DocValueCommand(self, {"detail_gain": value}, "Sky grain guard"))

    def priming_is_current(self) -> bool:
        """Whether priming_spread, detail_gain and priming_highlights are all at the current defaults (False for a
        project that keeps the priming it was saved with)."""
        return all(getattr(self, k) == v for k, v in CURRENT_PRIMING.items())

    def update_priming_defaults(self) -> bool:
        """Bring priming_spread, detail_gain and priming_highlights to the current defaults together ("update process
        version"): one undo step ("Update priming"; undo brings back all three as they were), one settingsChanged.
        Nothing (no undo step) when they already are the defaults; returns whether anything changed."""
        from .commands import DocValueCommand

        if self.priming_is_current():
            return False
        self.undo_stack.push(DocValueCommand(self, dict(CURRENT_PRIMING), "Update priming"))
        return True

    def end_merge(self) -> None:
        """Close the current run of mergeable slider moves (call on slider release)."""
        self._merge_generation += 1

    def apply_mask(self, uid: int, new_mask: np.ndarray, text: str = "Edit mask") -> bool:
        """Replace a region's mask with an undoable patch of the changed rectangle."""
        from .commands import MaskPatchCommand

        region = self.region(uid)
        new_mask = np.clip(np.asarray(new_mask, np.float32), 0.0, 1.0)
        if new_mask.shape != region.mask.shape:
            new_mask = mask_ops.resize_mask(new_mask, region.mask.shape)
        rect = mask_ops.changed_rect(region.mask, new_mask)
        if rect is None:
            return False
        x0, y0, x1, y1 = rect
        before = region.mask[y0:y1, x0:x1].copy()
        after = new_mask[y0:y1, x0:x1].copy()
        self.undo_stack.push(MaskPatchCommand(self, uid, rect, before, after, text))
        return True

    def commit_stroke(self, uid: int, rect, before_patch: np.ndarray, text: str = "Brush stroke") -> None:
        """Record a stroke already painted into the mask (in place) as one undo step."""
        from .commands import MaskPatchCommand

        if rect is None:
            return
        x0, y0, x1, y1 = rect
        after = self.region(uid).mask[y0:y1, x0:x1].copy()
        self.undo_stack.push(MaskPatchCommand(self, uid, rect, before_patch, after, text, already_applied=True))

    def notify_mask(self, uid: int, rect) -> None:
        """The mask of `uid` was changed in place (live stroke)."""
        self.maskChanged.emit(uid, rect)
        self.changed.emit()

    # low level (commands call these) -----------------------------------------------------
    def _insert_region(self, index: int, region: Region) -> None:
        self.regions.insert(index, region)
        self.regionsChanged.emit()
        self.set_active(region.uid)
        self.changed.emit()

    def _remove_region(self, uid: int) -> tuple[int, Region]:
        i = self.index_of(uid)
        region = self.regions.pop(i)
        if self.active_uid == uid:
            nxt = self.regions[min(i, len(self.regions) - 1)].uid if self.regions else -1
            self.active_uid = nxt
            self.activeRegionChanged.emit(nxt)
        self.regionsChanged.emit()
        self.changed.emit()
        return i, region

    def _move_region(self, uid: int, new_index: int) -> None:
        region = self.regions.pop(self.index_of(uid))
        self.regions.insert(new_index, region)
        self.regionsChanged.emit()
        self.changed.emit()

    def _set_region_value(self, uid: int, attr: str, value) -> None:
        setattr(self.region(uid), attr, value)
        if attr in ("name", "visible"):
            self.regionsChanged.emit()
        self.regionChanged.emit(uid)
        if attr != "name":
            self.changed.emit()

    def _set_region_values(self, uid: int, values: dict) -> None:
        region = self.region(uid)
        for k, v in values.items():
            setattr(region, k, v)
        self.regionChanged.emit(uid)
        self.changed.emit()

    def _set_values(self, values: dict) -> None:
        for k, v in values.items():
            setattr(self, k, v)
        self.settingsChanged.emit()
        self.changed.emit()

    def _write_mask_patch(self, uid: int, rect, patch: np.ndarray) -> None:
        x0, y0, x1, y1 = rect
        self.region(uid).mask[y0:y1, x0:x1] = patch
        self.maskChanged.emit(uid, rect)
        self.changed.emit()
