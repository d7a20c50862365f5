"""Driving the app through App.run_test(): async tests run under asyncio.run (no async plugin needed),
and `wait_for` polls the app until a condition holds. Every test writes its documents, settings and
exports into its own folders, never the user's."""
from __future__ import annotations

import asyncio
import threading
import inspect
import time

import pytest


@pytest.fixture(autouse=True)
def own_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("INKHORN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INKHORN_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(tmp_path / "outputs"))


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


@pytest.fixture
def ready_pane(wait_for):
    """await ready_pane(pilot, max_new_tokens=40) -> the Hemingway pane once its model has loaded."""
    async def ready_pane(pilot, max_new_tokens: int = 40):
        pane = pilot.app.query_one("HemingwayPane")
        await wait_for(pilot, lambda: pane.state == "ready")
        pane.settings.max_new_tokens = max_new_tokens
        return pane

    return ready_pane


@pytest.fixture
def generate(wait_for):
    """await generate(pilot, pane, key="ctrl+g") -> the generated node, once it has ended."""
    async def generate(pilot, pane, key: str = "ctrl+g"):
        before = pane.doc.current
        await pilot.press(key)
        await wait_for(pilot, lambda: pane.doc.current is not before and pane.doc.current.kind == "generated"
                       and pane.doc.current.generation.ended and not pane.running)
        return pane.doc.current

    return generate


class Gate:
    """Spies on core.text.sampling.filtered_top: records settings.temperature per call, holds call `hold_at`."""

    def __init__(self, monkeypatch, hold_at: int):
        import core.text.sampling

        self.hold_at = hold_at
        self.temperatures: list[float] = []
        self.reached = threading.Event()
        self.release = threading.Event()
        real = core.text.sampling.filtered_top

        def spy(logits, settings, history=None, top_k=None):
            if len(self.temperatures) == self.hold_at:
                self.reached.set()
                self.release.wait(10)
            self.temperatures.append(settings.temperature)
            return real(logits, settings, history, top_k)

        monkeypatch.setattr(core.text.sampling, "filtered_top", spy)


@pytest.fixture
def gate(monkeypatch):
    """gate(hold_at) -> a Gate that holds the generation at that token until gate.release is set."""
    return lambda hold_at: Gate(monkeypatch, hold_at)


async def _type_text(pilot, text: str) -> None:
    """Each character as a key event, the way the terminal driver hands them over, all at once (as a fast
    typist's keys queue up); then wait until the app has handled them. pilot.press waits after every key."""
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    for char in text:
        key = _character_to_key(char) if len(char) == 1 and not char.isalnum() else char
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()


@pytest.fixture
def type_text():
    """await type_text(pilot, text): type `text` into whatever has the focus."""
    return _type_text
