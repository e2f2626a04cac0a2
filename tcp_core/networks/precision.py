"""Numeric precision: one setting, one meaning, for training, editing, export and evaluation.

`--precision auto|bf16|fp32` (and `precision=` in the API):
- `fp32`: float32 everywhere (the reference).
- `bf16`: bfloat16 autocast for the convolutions and matmuls; parameters, optimizer state, EMA,
  losses and R1's gradient penalty stay float32 (autocast keeps reductions and losses in fp32, and
  the trainer computes R1 outside autocast). Checkpoints are written as before.
- `auto`: bf16 where the device runs it natively (a CPU with AVX512_BF16 or AMX, a CUDA GPU with
  bf16 support), fp32 elsewhere. On a CPU without native bf16 (AVX2 only) bf16 is emulated and
  many times slower than fp32, so `auto` never picks it there.

Memory format: channels-last (NHWC) is used on every device; on the CPU it lets oneDNN run its
fastest convolution kernels in fp32 and bf16 alike (measured in BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch

from tcp_core.base.errors import UsageError

PRECISION_CHOICES = ("auto", "bf16", "fp32")

# Tests and users on odd hardware can force the capability answer: "0" = no native bf16, "1" = native.
_FORCE_ENV = "TCP_EDITOR_NATIVE_BF16"


def cpu_has_native_bf16() -> bool:
    """True when this CPU runs bf16 convolutions natively (AVX512_BF16 or AMX-BF16)."""
    forced = os.environ.get(_FORCE_ENV)
    if forced in ("0", "1"):
        return forced == "1"
    try:
        if hasattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported"):
            if not torch.ops.mkldnn._is_mkldnn_bf16_supported():
                return False
    except (RuntimeError, AttributeError):
        return False
    flags = _cpu_flags()
    if flags is None:  # not Linux: trust oneDNN's answer above
        return bool(torch.backends.mkldnn.is_available())
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _cpu_flags() -> set[str] | None:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        return None
    return set()


def device_has_native_bf16(device: torch.device) -> bool:
    if os.environ.get(_FORCE_ENV) in ("0", "1"):
        return os.environ[_FORCE_ENV] == "1"
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        return cpu_has_native_bf16()
    return False


def resolve_precision(choice: str | None, device: torch.device) -> str:
    """'auto' | 'bf16' | 'fp32' (case-insensitive, None = auto) -> 'bf16' or 'fp32' for `device`."""
    c = (choice or "auto").lower()
    if c not in PRECISION_CHOICES:
        raise UsageError(f"unknown precision {choice!r}; choose one of {', '.join(PRECISION_CHOICES)}")
    if c == "auto":
        return "bf16" if device_has_native_bf16(device) else "fp32"
    if c == "bf16" and device.type == "mps":
        raise UsageError("bf16 is not supported on Apple MPS here; use --precision fp32")
    return c


@dataclass(frozen=True)
class Precision:
    """The resolved setting: `name` is 'bf16' or 'fp32'; `requested` what the user asked for."""

    name: str
    device_type: str
    requested: str = "auto"

    @classmethod
    def resolve(cls, choice: str | None, device: torch.device) -> Precision:
        return cls(resolve_precision(choice, device), device.type, (choice or "auto").lower())

    @property
    def dtype(self) -> torch.dtype:
        return torch.bfloat16 if self.name == "bf16" else torch.float32

    def autocast(self):
        """The context for forward passes (and the losses computed from them)."""
        if self.name == "bf16":
            return torch.autocast(self.device_type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def describe(self) -> str:
        how = "auto" if self.requested == "auto" else "chosen"
        return f"{self.name} ({how})"


def channels_last(x):
    """A module or a 4-D tensor in channels-last memory format (other tensors unchanged)."""
    if isinstance(x, torch.nn.Module):
        return x.to(memory_format=torch.channels_last)
    if isinstance(x, torch.Tensor) and x.ndim == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x
