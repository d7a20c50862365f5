"""Pick the compute device, the CPU thread count and the weight layout, and say why."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch


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
    requested = requested or os.environ.get("INKHORN_DEVICE") or None
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


def decoding_layout(model: torch.nn.Module) -> torch.nn.Module:
    """Store the weight matrices of linear and recurrent layers column-major (same shapes, same values).
    Decoding multiplies one row of activations per token, and on the CPU MKL does that with the
    (in, out) matrix contiguous about a third faster than with torch's (out, in): 2.6 ms against 4.1 ms
    of CPU time for the Hemingway GPT's 25 matrices. Long batches (training, scoring a text) are faster
    the usual way, and from four rows on (the translator's beams) the two are level."""
    for module in model.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.RNNBase)):
            for weight in module.parameters(recurse=False):
                if weight.dim() == 2:
                    weight.data = weight.data.t().contiguous().t()
    return model


@dataclass
class ThreadChoice:
    threads: int
    reason: str


def machine_load() -> tuple[int, float]:
    """(cores this process may run on, 1-minute load average: runnable processes, other people's too)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores, os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def choose_threads(work: str, requested: int | None = None, cores: int | None = None,
                   load: float | None = None) -> ThreadChoice:
    """CPU threads for `work`: "decode" (one row or a few at a time: generating text, translating a
    line, sampling a few pictures) or "batch" (training, scoring a whole text). `requested` (--threads)
    or $INKHORN_THREADS wins. Decoding takes one thread: its operations are too small to share, and a
    second thread that has to wait for a busy core stalls every one of them (on the 2-core machine with
    other work running, the Hemingway GPT sampled 124 tokens/s on one thread and 18 on two, the face
    VAE 240 pictures/s at batch 1 on one and 6 on two). Batch work takes the cores the load average
    leaves free, at least one."""
    if requested is None and os.environ.get("INKHORN_THREADS"):
        try:
            requested = int(os.environ["INKHORN_THREADS"])
        except ValueError:
            raise ValueError(f"INKHORN_THREADS must be a whole number, not {os.environ['INKHORN_THREADS']!r}") from None
        source = "$INKHORN_THREADS"
    else:
        source = "--threads"
    if requested is not None:
        if requested < 1:
            raise ValueError(f"threads must be 1 or more, not {requested}")
        return ThreadChoice(requested, f"{requested} as asked ({source})")
    found_cores, found_load = machine_load()
    cores = found_cores if cores is None else cores
    load = found_load if load is None else load
    busy = min(cores, int(load + 0.5))
    seen = f"{cores} core{'s' if cores != 1 else ''}, load {load:.1f}"
    if work == "decode":
        return ThreadChoice(1, f"decoding runs fastest on one thread ({seen})")
    free = max(1, cores - busy)
    return ThreadChoice(free, f"{seen}: {free} free" if free < cores else f"{seen}: all free")


def set_threads(work: str, requested: int | None = None) -> ThreadChoice:
    """Choose the thread count and set it. torch's setting is process-wide: a command sets it once,
    at its start (threads started later take it up)."""
    choice = choose_threads(work, requested)
    torch.set_num_threads(choice.threads)
    return choice
