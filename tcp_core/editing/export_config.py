"""How the export renders region edits: one frozen config for everything `apply_regions` does around the network.

The network's edit of a region (paper Eq. 5-6) is one step of the export; the rest are product steps, each a
setting measured blind against the one before (`tcp_core.base.constants` says why each default is what it is):

    priming        how far each region is first moved towards its reference by a classical colour transfer
                   (`tcp_core.colour.priming`), with priming_cap / priming_profile / priming_spread /
                   priming_highlights / priming_part / priming_objects saying how
    interior       how a region's inside takes the network's global swap ("guided", "fixed" ramp, or "off")
    interior_fill  what fills that inside: the network's swap of the primed photo ("swap") or the primed photo itself
    edge           where the feather fades the edit out: "across" the mask's edge or "inside" it
    guided_feather the feather follows the photo's edges (False: a plain blur of the mask)
    smoothing      colour smoothing of the transform that carries the edit to full resolution (None: default)
    detail_gain    the most that transform amplifies the photo's own detail where it is smooth (None: no cap)

The command lines (`tcp-editor apply`, `tcp-editor eval`), the editor's preview, warm-up and export and the
evaluation's `tcp_final` all build one `ExportConfig` and hand it on, so a new setting is a field here, a flag or
widget where a user sets it, and its use in `apply_regions`. Invalid values raise
`ExportSettingError` (a ValueError) naming the field.
Torch-free.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from types import MappingProxyType

from tcp_core.base.constants import (
    DEFAULT_DETAIL_GAIN,
    DEFAULT_FEATHER_EDGE,
    DEFAULT_INTERIOR_FILL,
    DEFAULT_INTERIOR_MODE,
    DEFAULT_PRE_TRANSFER,
    DEFAULT_PRIMING_CAP,
    DEFAULT_PRIMING_HIGHLIGHTS,
    DEFAULT_PRIMING_OBJECTS,
    DEFAULT_PRIMING_PROFILE,
    DEFAULT_PRIMING_SPREAD,
    FEATHER_EDGES,
    INTERIOR_FILLS,
    INTERIOR_MODES,
    MAX_SMOOTHING,
    PRIMING_HIGHLIGHTS,
    PRIMING_OBJECTS,
    PRIMING_PARTS,
    PRIMING_PROFILES,
    PRIMING_SPREADS,
)

__all__ = ["EXPORT_PRESETS", "ExportConfig", "ExportSettingError"]

_CHOICES = {
    "interior": INTERIOR_MODES,
    "interior_fill": INTERIOR_FILLS,
    "edge": FEATHER_EDGES,
    "priming_profile": PRIMING_PROFILES,
    "priming_spread": PRIMING_SPREADS,
    "priming_highlights": PRIMING_HIGHLIGHTS,
    "priming_part": PRIMING_PARTS,
    "priming_objects": PRIMING_OBJECTS,
}


class ExportSettingError(ValueError):
    """An invalid export setting: `field` names it, `problem` says what is wrong (a command line names its flag)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ExportConfig:
    """The export's settings (defaults: today's export, `EXPORT_PRESETS["current"]`)."""

    priming: float = DEFAULT_PRE_TRANSFER  # 0..1; a region's own RegionEdit.pre_transfer wins over it
    priming_cap: float | None = DEFAULT_PRIMING_CAP  # the priming's spread ratio cap (> 0), None: Reinhard's own
    priming_profile: str = DEFAULT_PRIMING_PROFILE  # PRIMING_PROFILES: the reference's colours row by row or one
    priming_spread: str = DEFAULT_PRIMING_SPREAD  # PRIMING_SPREADS: what the spread ratio stretches
    priming_highlights: str = DEFAULT_PRIMING_HIGHLIGHTS  # PRIMING_HIGHLIGHTS: clipped highlights' own colour or none
    priming_part: str = "place"  # PRIMING_PARTS: what of the reference priming reads, for a region without style mask
    priming_objects: str = DEFAULT_PRIMING_OBJECTS  # PRIMING_OBJECTS: textured regions' odd pixels primed or kept
    interior: str = DEFAULT_INTERIOR_MODE  # INTERIOR_MODES: how a region's inside takes the global swap
    interior_fill: str = DEFAULT_INTERIOR_FILL  # INTERIOR_FILLS: the swap of the primed photo, or the primed photo
    edge: str = DEFAULT_FEATHER_EDGE  # FEATHER_EDGES: the feather across the mask's edge or inside it
    guided_feather: bool = True  # the feather follows the photo (False: a plain blur of the mask)
    smoothing: float | None = None  # 0..MAX_SMOOTHING; None: DEFAULT_SMOOTHING
    detail_gain: float | None = DEFAULT_DETAIL_GAIN  # > 0 cap on the detail the transform amplifies; None: no cap

    def __post_init__(self) -> None:
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise ExportSettingError(name, f"must be one of {', '.join(choices)}, got {getattr(self, name)!r}")
        if not (_number(self.priming) and 0.0 <= self.priming <= 1.0):
            raise ExportSettingError("priming", f"must be between 0 and 1, got {self.priming!r}")
        if self.priming_cap is not None and not (_number(self.priming_cap) and self.priming_cap > 0):
            raise ExportSettingError("priming_cap", f"must be above 0, got {self.priming_cap!r}")
        if self.smoothing is not None and not (_number(self.smoothing) and 0 <= self.smoothing <= MAX_SMOOTHING):
            raise ExportSettingError("smoothing", f"must be between 0 and {MAX_SMOOTHING}, got {self.smoothing!r}")
        if self.detail_gain is not None and not (_number(self.detail_gain) and self.detail_gain > 0):
            raise ExportSettingError("detail_gain", f"must be above 0, got {self.detail_gain!r}")
        if not isinstance(self.guided_feather, bool):
            raise ExportSettingError("guided_feather", f"must be True or False, got {self.guided_feather!r}")

    @classmethod
    def resolve(cls, config: ExportConfig | None, name: str = "config") -> ExportConfig:
        """`config`, or today's defaults for None; anything but an ExportConfig raises TypeError naming the argument
        `name`."""
        if config is None:
            return cls()
        if not isinstance(config, cls):
            raise TypeError(f"{name} must be an ExportConfig, got {type(config).__name__}")
        return config

    # -- derived --------------------------------------------------------------------------------

    @property
    def inside(self) -> bool:
        """The feather fades the edit out inside the mask (no pixel outside it changes)."""
        return self.edge == "inside"

    @property
    def swap_interior(self) -> bool:
        """A region's inside takes the network's global swap (interior "guided" or "fixed")."""
        return self.interior != "off"

    def replace(self, **changes) -> ExportConfig:
        """A copy with `changes` (validated)."""
        return dataclasses.replace(self, **changes)

    # -- records --------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """JSON-ready fields (reports, run records)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ExportConfig:
        """The config of `values` (a `to_dict`); fields it lacks keep their defaults, an unknown key raises
        ExportSettingError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ExportSettingError(unknown[0], "is not an export setting")
        return cls(**values)


# Named presets. "current": today's export. "legacy": what a project saved before the priming settings of sessions
# 34-35 existed renders with (priming stretches all of a region's variation, no detail gain cap, plain highlights),
# so that an old project opens looking as it was saved until the user updates it.
EXPORT_PRESETS = MappingProxyType({
    "current": ExportConfig(),
    "legacy": ExportConfig(priming_spread="all", detail_gain=None, priming_highlights="plain"),
})
