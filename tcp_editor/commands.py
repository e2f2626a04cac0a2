"""QUndoCommands for every document edit.

Mask edits store only the changed rectangle's before/after patches, zlib-compressed (masks are
mostly flat, so a typical stroke costs kilobytes); the stack's undo limit bounds the total.
Slider moves (strength, interpolation amount) merge while they belong to one drag
(`Document.end_merge()` closes a drag).
"""

from __future__ import annotations

import zlib

import numpy as np
from PySide6.QtGui import QUndoCommand

MERGE_STRENGTH = 1001
MERGE_DOC_VALUE = 1002


class _Patch:
    """A compressed float32 patch."""

    __slots__ = ("shape", "data")

    def __init__(self, arr: np.ndarray) -> None:
        a = np.ascontiguousarray(arr, np.float32)
        self.shape = a.shape
        self.data = zlib.compress(a.tobytes(), 1)

    def array(self) -> np.ndarray:
        return np.frombuffer(zlib.decompress(self.data), np.float32).reshape(self.shape).copy()

    @property
    def nbytes(self) -> int:
        return len(self.data)


class MaskPatchCommand(QUndoCommand):
    def __init__(self, doc, uid: int, rect, before: np.ndarray, after: np.ndarray, text: str,
                 already_applied: bool = False) -> None:
        super().__init__(text)
        self.doc, self.uid, self.rect = doc, uid, tuple(int(v) for v in rect)
        self.before, self.after = _Patch(before), _Patch(after)
        self._skip_first_redo = already_applied

    @property
    def nbytes(self) -> int:
        return self.before.nbytes + self.after.nbytes

    def redo(self) -> None:
        if self._skip_first_redo:
            self._skip_first_redo = False
            self.doc.maskChanged.emit(self.uid, self.rect)
            self.doc.changed.emit()
            return
        self.doc._write_mask_patch(self.uid, self.rect, self.after.array())

    def undo(self) -> None:
        self.doc._write_mask_patch(self.uid, self.rect, self.before.array())


class AddRegionCommand(QUndoCommand):
    def __init__(self, doc, region, index: int) -> None:
        super().__init__(f"Add {region.name}")
        self.doc, self.region, self.index = doc, region, index
        self._prev_active = doc.active_uid

    def redo(self) -> None:
        self.doc._insert_region(self.index, self.region)

    def undo(self) -> None:
        self.doc._remove_region(self.region.uid)
        self.doc.set_active(self._prev_active)


class DeleteRegionCommand(QUndoCommand):
    def __init__(self, doc, uid: int) -> None:
        region = doc.region(uid)
        super().__init__(f"Delete {region.name}")
        self.doc, self.uid = doc, uid
        self.region = None
        self.index = doc.index_of(uid)

    def redo(self) -> None:
        self.index, self.region = self.doc._remove_region(self.uid)

    def undo(self) -> None:
        self.doc._insert_region(self.index, self.region)  # the restored region becomes active


class MoveRegionCommand(QUndoCommand):
    def __init__(self, doc, uid: int, new_index: int) -> None:
        super().__init__(f"Move {doc.region(uid).name}")
        self.doc, self.uid, self.new_index = doc, uid, new_index
        self.old_index = doc.index_of(uid)

    def redo(self) -> None:
        self.doc._move_region(self.uid, self.new_index)

    def undo(self) -> None:
        self.doc._move_region(self.uid, self.old_index)


class RegionPropertyCommand(QUndoCommand):
    """name / visible / style / strength / priming of one region; strength merges within one drag."""

    def __init__(self, doc, uid: int, attr: str, value, text: str, merge_generation: int | None = None) -> None:
        super().__init__(text)
        self.doc, self.uid, self.attr = doc, uid, attr
        self.old = getattr(doc.region(uid), attr)
        self.new = value
        self.merge_generation = merge_generation

    def id(self) -> int:
        return MERGE_STRENGTH if self.attr == "strength" and self.merge_generation is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, RegionPropertyCommand):
            return False
        if other.uid != self.uid or other.attr != self.attr or other.merge_generation != self.merge_generation:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc._set_region_value(self.uid, self.attr, self.new)

    def undo(self) -> None:
        self.doc._set_region_value(self.uid, self.attr, self.old)


class RegionValuesCommand(QUndoCommand):
    """Several properties of one region in one undo step (a new style and its cleared style part;
    a style part set or cleared). Arrays are held as given: the document never edits them in place."""

    def __init__(self, doc, uid: int, values: dict, text: str) -> None:
        super().__init__(text)
        self.doc, self.uid = doc, uid
        region = doc.region(uid)
        self.new = dict(values)
        self.old = {k: getattr(region, k) for k in values}

    def redo(self) -> None:
        self.doc._set_region_values(self.uid, self.new)

    def undo(self) -> None:
        self.doc._set_region_values(self.uid, self.old)


class DocValueCommand(QUndoCommand):
    """Document-level settings (global transfer, interpolation); merges within one slider drag."""

    def __init__(self, doc, values: dict, text: str, merge_generation: int | None = None) -> None:
        super().__init__(text)
        self.doc = doc
        self.new = dict(values)
        self.old = {k: getattr(doc, k) for k in values}
        self.merge_generation = merge_generation

    def id(self) -> int:
        return MERGE_DOC_VALUE if self.merge_generation is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, DocValueCommand) or other.merge_generation != self.merge_generation:
            return False
        if set(other.new) != set(self.new):
            return False
        self.new = dict(other.new)
        return True

    def redo(self) -> None:
        self.doc._set_values(self.new)

    def undo(self) -> None:
        self.doc._set_values(self.old)
