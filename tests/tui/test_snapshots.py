"""Layout snapshots at 80x24 (pytest-textual-snapshot).

Update after a deliberate change with: pytest tests/tui/test_snapshots.py --snapshot-update

Deterministic by construction: each waits until the model has loaded, pins the seed, uses greedy
decoding where text is shown, and fixes the one clock-dependent number (tokens/s).
"""
from __future__ import annotations

import pytest

import core.text.generate
from tui.app import InkhornApp


@pytest.fixture
def loaded(wait_for):
    async def loaded(pilot):
        pane = pilot.app.query_one("HemingwayPane")
        await wait_for(pilot, lambda: pane.state == "ready")
        await pilot.pause()
        return pane

    return loaded


@pytest.fixture()
def steady_clock(monkeypatch):
    monkeypatch.setattr(core.text.generate.GenerationStats, "tokens_per_second", property(lambda self: 123.4))


def test_hemingway_ready(checkpoint_dir, snap_compare, loaded):
    assert snap_compare(InkhornApp(), terminal_size=(80, 24), run_before=loaded)


def test_hemingway_after_greedy_generation_with_probabilities(checkpoint_dir, steady_clock, snap_compare, wait_for, loaded):
    async def run_before(pilot):
        pane = await loaded(pilot)
        pane.settings.seed = 1234
        pane.settings.temperature = 0.0  # greedy: the same text on every run
        pane.settings.max_new_tokens = 24
        await pilot.press(*"The sun", "enter", "p")
        await wait_for(pilot, lambda: pane.session.generations and not pane.running)
        await pilot.pause()

    assert snap_compare(InkhornApp(), terminal_size=(80, 24), run_before=run_before)


def test_missing_checkpoints(tmp_path, monkeypatch, snap_compare):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(tmp_path / "checkpoints"))
    assert snap_compare(InkhornApp(), terminal_size=(80, 24))


def test_help_screen(checkpoint_dir, snap_compare, loaded):
    async def run_before(pilot):
        await loaded(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(InkhornApp(), terminal_size=(80, 24), run_before=run_before)
