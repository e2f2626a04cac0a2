"""What an edit is, without torch: `RegionEdit` (one region's style, mask and strength) and
`EditModel` (what the export pipeline needs from a model; `TCPModel` is one, tests use fakes).

`RegionEdit` is the one description of a region edit that travels from the GUI's services, the
`apply` command line and scripts into `tcp_core.editing.apply.apply_regions` and
`TCPModel.edit_regions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["EditModel", "ModelShape", "RegionEdit"]


@dataclass(frozen=True, eq=False)  # eq=False: arrays have no single truth value; equality is identity
class RegionEdit:
    """One region edit: restyle the pixels under `mask` towards `style` by `strength`.

    style: HxWx3 RGB reference (uint8, uint16 or float in [0, 1]). mask: HxW of the photo's size
    in [0, 1] (float, uint8 or bool), or None in global mode (the whole photo). strength: 0 keeps
    the photo, 1 takes the reference's style. style_mask: HxW of the style photo's size, the part
    of the reference to take the style from (None: all of it). pre_transfer: this region's colour priming
    (0..1, `ExportConfig.priming`), or None: the edit's own setting for every region."""

    style: np.ndarray
    mask: np.ndarray | None
    strength: float = 1.0
    style_mask: np.ndarray | None = None
    pre_transfer: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "strength", float(self.strength))
        if self.pre_transfer is not None:
            p = float(self.pre_transfer)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"a region's colour priming must be between 0 and 1, got {self.pre_transfer}")
            object.__setattr__(self, "pre_transfer", p)


class ModelShape(Protocol):
    """The parts of a model's configuration that fix its working size."""

    resolution: int
    enc_channels: Sequence[int]


class EditModel(Protocol):
    """What `apply_regions` (and the interpolation helpers) need from a model: numpy in, numpy out,
    at the model's working size (`tcp_core.editing.apply.working_shape`)."""

    @property
    def config(self) -> ModelShape: ...

    def swap(self, content: np.ndarray, style: np.ndarray, strength: float = 1.0, **kw) -> np.ndarray:
        """Global transfer of `style` onto `content` (kw: style_mask)."""

    def region_edit(self, content: np.ndarray, style: np.ndarray, mask: np.ndarray, strength: float = 1.0,
                    **kw) -> np.ndarray:
        """Region edit under `mask` (kw: keyframe_step, style_mask; passed only when set)."""

    def own_style_edit(self, content: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The region edit at strength 0 (the photo's own style): the export's reference."""

    def interpolate(self, a: np.ndarray, b: np.ndarray, what: str = "style", steps: int = 5) -> list[np.ndarray]:
        """Frames blending a's style (or content) codes into b's."""
