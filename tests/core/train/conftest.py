"""Run a function on several gloo processes on the CPU, as torchrun's processes run a training command.

The processes are forked, so they start in milliseconds with everything the test already imported; each
joins a process group through a file store of its own and uses one thread, as forked workers must
(an OpenMP pool does not survive a fork).
"""
from __future__ import annotations

import datetime
import itertools
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

_stores = itertools.count()


def _rank_main(rank: int, world: int, store: str, fn, args) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=120))
    try:
        fn(*args)
    finally:
        dist.destroy_process_group()


def _on_ranks(world: int, folder: Path, fn, *args) -> None:
    """fn(*args) on `world` processes of one group; raises if any of them fails or dies."""
    store = Path(folder) / f"store-{next(_stores)}"
    mp.start_processes(_rank_main, args=(world, str(store), fn, args), nprocs=world, start_method="fork")


@pytest.fixture(scope="session")
def on_ranks():
    """on_ranks(world, folder, fn, *args): fn(*args) on `world` gloo processes of one group."""
    return _on_ranks
