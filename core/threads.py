"""How many CPU threads torch runs on, chosen for the work and the machine's load, and why."""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from core.catalog import environ
from core.limits import MAX_THREADS, check_int


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
    source = "--threads"
    if requested is None and environ("INKHORN_THREADS"):
        value = environ("INKHORN_THREADS")
        try:
            requested = int(value)
        except ValueError:
            raise ValueError(f"INKHORN_THREADS must be a whole number, not {value!r}") from None
        source = "$INKHORN_THREADS"
    if requested is not None:
        check_int(source, requested, 1, MAX_THREADS)
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
