"""What the GUI asks the inference worker for, and what comes back when it fails.

Each job is a small dataclass; `Request` wraps one with the id and channel the worker's
latest-wins bookkeeping uses. `Failure` is what `InferenceWorker.failed` / `modelFailed` emit.
No torch here (the GUI imports these names).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .images import ExportConfig


class RequestKind(enum.Enum):
    RENDER = "render"
    SIMILARITY = "similarity"
    WARM = "warm"
    EXPORT = "export"
    CALL = "call"
    LOAD = "load"  # a model load (only in `Failure`: loads do not go through the request queue)


@dataclass
class RenderJob:
    """A preview edit (render.render). regions: tcp_core.editing.regions.RegionEdit, one per region."""

    image: np.ndarray
    regions: list = field(default_factory=list)
    global_: bool = False
    interp_image: np.ndarray | None = None
    interp_what: str = "style"
    interp_amount: float = 0.0
    export: ExportConfig = field(default_factory=ExportConfig)  # how each edit is rendered (Document.export_config)
    crop: bool = True  # False: the fast whole-photo interactive preview
    keyframe_step: float | None = None  # approximate strengths during a slider drag
    kind = RequestKind.RENDER


@dataclass
class SimilarityJob:
    """Select similar at (x, y) of `image`, seeded at the tolerance slider's `tolerance` (0..1)."""

    image: np.ndarray
    x: int
    y: int
    tolerance: float = 0.3
    kind = RequestKind.SIMILARITY


@dataclass
class WarmJob:
    """A warm-up (render.warm_steps); the worker runs it one step per turn, keeping its progress here."""

    image: np.ndarray
    styles: list = field(default_factory=list)
    mask: np.ndarray | None = None
    strength: float = 1.0
    export: ExportConfig = field(default_factory=ExportConfig)  # the preview's, so the warm-up fills its caches
    steps: list | None = None  # the remaining steps, once planned
    done: int = 0
    ms: list = field(default_factory=list)  # per finished step
    kind = RequestKind.WARM


@dataclass
class ExportJob:
    """A full-resolution export written to `path` (masks at preview size are scaled up in the worker). regions:
    (style, mask, strength[, style_mask[, priming percent or None]]) tuples."""

    photo: np.ndarray
    path: str
    regions: list = field(default_factory=list)
    global_: bool = False
    interp_image: np.ndarray | None = None
    interp_what: str = "style"
    interp_amount: float = 0.0
    export: ExportConfig = field(default_factory=ExportConfig)  # the preview's: what the user saw is what is written
    alpha: np.ndarray | None = None
    exif: bytes | None = None
    icc: bytes | None = None
    quality: int = 92
    protect: tuple[str, ...] = ()  # paths the export must not overwrite (the original photo, style references)
    kind = RequestKind.EXPORT


@dataclass
class CallJob:
    """Run `fn(model)` in the worker thread (tests, scripts, Match region); `what` starts the
    failure's summary ("<what>: <error>"; empty: the generic "The edit failed")."""

    fn: Callable[[Any], Any]
    what: str = ""
    kind = RequestKind.CALL


Job = RenderJob | SimilarityJob | WarmJob | ExportJob | CallJob


@dataclass
class Request:
    id: int
    channel: str
    job: Job

    @property
    def kind(self) -> RequestKind:
        return self.job.kind


@dataclass(frozen=True)
class Failure:
    """A request (or a model load) that failed: a one-line summary and the traceback."""

    id: int  # the request's id (0 for a model load)
    kind: RequestKind
    summary: str
    details: str = ""

    @property
    def message(self) -> str:
        return f"{self.summary}\n\n{self.details}" if self.details else self.summary
