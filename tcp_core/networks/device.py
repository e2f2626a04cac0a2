"""Device selection: CUDA if available, else Apple MPS, else CPU; overridable."""

from __future__ import annotations

import torch

from tcp_core.base.errors import UsageError, UserError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailable(UserError, RuntimeError):
    """The requested device (CUDA, MPS) is not available on this machine."""


def pick_device(preference: str | None = "auto") -> torch.device:
    pref = (preference or "auto").lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if pref.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceUnavailable(
                "CUDA was requested but no CUDA GPU is available (torch reports none); use --device cpu")
        return torch.device(pref)
    if pref == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise DeviceUnavailable("Apple MPS was requested but is not available on this machine; use --device cpu")
        return torch.device("mps")
    if pref == "cpu":
        return torch.device("cpu")
    raise UsageError(f"unknown device {preference!r}; choose one of {', '.join(DEVICE_CHOICES)}")


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"CUDA ({torch.cuda.get_device_name(device)})"
    return {"mps": "Apple MPS", "cpu": "CPU"}.get(device.type, str(device))
