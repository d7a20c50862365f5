"""The Anna pane is the shared writing desk on the LSTM: it loads, streams, keeps its own settings and document."""
from __future__ import annotations

from tui.app import InkhornApp
from tui.widgets.desk_editor import printable


async def test_anna_pane_streams_from_the_lstm(anna_checkpoint, tmp_path, wait_for, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")  # Hemingway -> Anna
        pane = app.query_one("AnnaPane")
        await wait_for(pilot, lambda: pane.state == "ready")
        assert pane.lm.kind == "lstm" and "anna" in pane.status
        pane.settings.max_new_tokens = 25
        await pilot.press(*"Anna and the prince")
        node = await generate(pilot, pane)
        assert pane.doc.text.startswith("Anna and the prince") and pane.editor.text == printable(pane.doc.text)
        assert node.generation.model == "anna" and len(node.pieces) == 25
        assert app.query_one("HemingwayPane").doc.text == ""  # each tab has its own document
        hemingway = app.query_one("HemingwayPane")
        await pilot.press("tab", "right_square_bracket")
        assert pane.settings.temperature > hemingway.settings.temperature
    assert (tmp_path / "data" / "documents" / "anna.json").exists()  # autosaved under the tab's own name
    assert not (tmp_path / "data" / "documents" / "hemingway.json").exists()  # nothing was written there
