"""Soak: two hundred generations in the app, driven through run_test(), must not grow its memory, and the
session it keeps stays bounded. Marked slow: `python -m pytest -m slow` (README: Tests)."""
from __future__ import annotations

import pytest
from textual.widgets import Input

from core.text.session import MAX_GENERATIONS
from tui.app import InkhornApp

pytestmark = pytest.mark.slow

PROMPTS = ["The sun", "We walked down", "", "x\x1b]2;TITLE\x07y", "\u202eevil\u202c", "It was cold " * 40]


async def test_two_hundred_generations_in_the_app(checkpoint_dir, wait_for, memory):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one("HemingwayPane")
        await wait_for(pilot, lambda: pane.state == "ready")
        pane.settings.max_new_tokens = 40
        prompt = app.query_one("#prompt", Input)
        warm = 0.0
        for i in range(200):
            prompt.value = PROMPTS[i % len(PROMPTS)]
            prompt.focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(app.session.generations) + app.session.dropped == i + 1
                           and not pane.running)
            if i == 19:
                warm = memory.now()
        assert len(app.session.generations) == MAX_GENERATIONS and app.session.dropped == 200 - MAX_GENERATIONS
        assert memory.growth("app", warm, 20, 200) < memory.GROWTH_BAR
