"""Pick the compute device and say why."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.catalog import environ


@dataclass
class DeviceChoice:
    device: torch.device
    reason: str

    @property
    def label(self) -> str:
        if self.device.type == "cuda":
            return f"cuda · {torch.cuda.get_device_name(self.device)}"
        return self.device.type


def choose_device(requested: str | None = None) -> DeviceChoice:
    """`requested` (or $INKHORN_DEVICE) may be cuda, mps, cpu or None for the best available."""
    requested = requested or environ("INKHORN_DEVICE")
    if requested:
        if requested.startswith("cuda") and not torch.cuda.is_available():
            return DeviceChoice(torch.device("cpu"), f"{requested} asked for but no CUDA GPU is visible; using the CPU")
        if requested == "mps" and not torch.backends.mps.is_available():
            return DeviceChoice(torch.device("cpu"), "mps asked for but not available; using the CPU")
        return DeviceChoice(torch.device(requested), f"{requested} as asked")
    if torch.cuda.is_available():
        return DeviceChoice(torch.device("cuda"), "CUDA GPU found")
    if torch.backends.mps.is_available():
        return DeviceChoice(torch.device("mps"), "Apple GPU found")
    return DeviceChoice(torch.device("cpu"), "no GPU found; running on the CPU")


def autocast(device: torch.device, enabled: bool = True):
    """bf16 autocast where it pays: CUDA, and CPUs (bf16 matmuls run on AVX-512/AMX)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled and device.type in ("cuda", "cpu"))
