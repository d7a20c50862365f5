"""Shared pieces of the tests that drive the app through App.run_test()."""
from __future__ import annotations

import asyncio
import functools
import time

SIZE = (80, 24)


def run_async(test):
    """Run an async test with asyncio.run, so the suite needs no async pytest plugin."""
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))
    return wrapper


async def wait_for(pilot, predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await pilot.pause(0.02)
