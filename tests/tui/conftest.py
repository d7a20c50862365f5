"""Driving the app through App.run_test(): async tests run under asyncio.run (no async plugin needed),
and `wait_for` polls the app until a condition holds."""
from __future__ import annotations

import asyncio
import inspect
import time

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None


async def _wait_for(pilot, predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate}")
        await pilot.pause(0.02)


@pytest.fixture
def wait_for():
    """await wait_for(pilot, predicate, timeout=20): pause the app until predicate() holds."""
    return _wait_for
