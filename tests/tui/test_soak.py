"""Soak: two hundred generations in the app, driven through run_test(), must not grow its memory; each is
undone, so the document stays small and what is measured is the app. Marked slow: `python -m pytest -m slow`
(README: Tests)."""
from __future__ import annotations

import pytest

from core.text.desk.history import MAX_STEPS
from tui.app import InkhornApp

pytestmark = pytest.mark.slow

PROMPTS = ["The sun", "We walked down", "", "x\x1b]2;TITLE\x07y", "\u202eevil\u202c", "It was cold " * 40]


async def test_two_hundred_generations_in_the_app(checkpoint_dir, wait_for, ready_pane, generate, memory):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        warm = 0.0
        for i in range(200):
            pane.editor.insert(PROMPTS[i % len(PROMPTS)])
            await generate(pilot, pane)
            await pilot.press("ctrl+z")  # the generation
            if i == 19:
                warm = memory.now()
        assert len(pane.doc.history.done) <= MAX_STEPS
        assert memory.growth("app", warm, 20, 200) < memory.GROWTH_BAR
