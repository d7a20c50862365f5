"""Training on several processes with PyTorch DistributedDataParallel, as torchrun launches it.

`torchrun --nproc_per_node=N -m core.cli train ...` starts N copies of the command with RANK,
WORLD_SIZE and LOCAL_RANK in their environment; `start` joins them into one process group
(NCCL with one GPU per process, gloo on the CPU). A batch is defined by its step alone, the
same for any number of processes, and each rank computes the loss of its own rows of it
(`Shard.rows`); DDP averages the gradients, so N processes with B/N rows each take the step
one process takes with B rows. Every rank evaluates (the GAN's batch-norm recalibration
synchronises on the GPU, so no rank may skip it), and only rank 0 writes checkpoints, the
resume file, samples, logs and progress. Checkpoints are always written from the model
itself, never from its DDP or torch.compile wrapper, so their names carry no `module.` or
`_orig_mod.` prefix, and a resume file written by N processes resumes on any number.

Batch norm is synchronised across GPUs (SyncBatchNorm), so its statistics cover the global
batch as with one process; on the CPU PyTorch has no SyncBatchNorm and each rank normalises
its own rows.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from core.device import DeviceChoice

T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def rows(self, n: int) -> slice:
        """This rank's contiguous part of a batch of n rows, all parts equal: DDP averages the ranks'
        gradients without weights, so a loss that is a mean over rows needs equal parts."""
        if n % self.world:
            raise ValueError(f"a batch of {n} does not split evenly across {self.world} processes: "
                             f"use a batch size that is a multiple of {self.world}")
        return self.share(n)

    def share(self, n: int) -> slice:
        """This rank's contiguous part of n rows, the parts differing by one row at most (for a loss that
        weighs the rows itself)."""
        return slice(self.rank * n // self.world, (self.rank + 1) * n // self.world)


def current_shard() -> Shard:
    if dist.is_available() and dist.is_initialized():
        return Shard(dist.get_rank(), dist.get_world_size())
    return Shard()


def start(choice: DeviceChoice) -> DeviceChoice:
    """Join the process group when torchrun started this process; returns the device this rank
    trains on (its own GPU on a CUDA machine)."""
    if "RANK" not in os.environ or dist.is_initialized():
        return choice
    if choice.device.type not in ("cuda", "cpu"):
        raise ValueError(f"training on several processes runs on CUDA GPUs or the CPU, not {choice.device.type}: "
                         "pass --device cpu")
    if choice.device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
        choice = DeviceChoice(device, choice.reason)
    else:
        dist.init_process_group("gloo")
    shard = current_shard()
    return DeviceChoice(choice.device, f"{choice.reason}; rank {shard.rank} of {shard.world} processes")


def stop() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, device: torch.device, compile: bool) -> torch.nn.Module:
    """What a training step runs: `model` compiled when asked and under DDP when there are several
    processes. The wrapper shares the model's parameters; the model itself stays unwrapped."""
    world = current_shard().world
    if world > 1 and device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)  # swaps the layers inside, in place
    net = torch.compile(model) if compile else model
    if world > 1:
        net = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    return net


def unsynced(net: torch.nn.Module) -> torch.nn.Module:
    """The (compiled) module inside a DDP wrapper, for a forward pass whose parameters take no gradient
    (the GAN's frozen discriminator): DDP would wait for gradients that never come."""
    return net.module if isinstance(net, DistributedDataParallel) else net


def from_main(make: Callable[[], T]) -> T:
    """`make()` computed on rank 0 alone and handed to every rank: a tokenizer is trained once, and
    every rank gets the very same one."""
    shard = current_shard()
    if shard.world == 1:
        return make()
    box = [make() if shard.main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]
