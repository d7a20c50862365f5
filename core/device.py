"""Pick the compute device and say why."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

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


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX-512 BF16 or AMX). Elsewhere torch emulates bf16,
    several times slower than fp32, and some kernels (the LSTM's) have no bf16 form at all."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def bf16_pays(device: torch.device) -> bool:
    return device.type == "cuda" or (device.type == "cpu" and cpu_has_fast_bf16())


def autocast(device: torch.device, enabled: bool = True):
    """bf16 autocast where it pays: CUDA, and CPUs with bf16 in hardware (see cpu_has_fast_bf16)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled and bf16_pays(device))
