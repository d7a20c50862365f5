"""The Anna pane is the shared text pane on the LSTM: it loads, streams, keeps its own settings."""
from __future__ import annotations

from tui.app import InkhornApp
from tui.widgets.output_view import OutputView


async def test_anna_pane_streams_from_the_lstm(anna_checkpoint, wait_for):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")  # Hemingway -> Anna
        pane = app.query_one("AnnaPane")
        await wait_for(pilot, lambda: pane.state == "ready")
        assert pane.lm.kind == "lstm" and "anna" in pane.status
        pane.settings.max_new_tokens = 25
        await pilot.press(*"Anna and the prince", "enter")
        await wait_for(pilot, lambda: pane.session.generations and not pane.running)
        output = pane.query_one(OutputView)
        assert output.text.startswith("Anna and the prince") and output.generated
        record = pane.session.generations[-1]
        assert record.model == "anna" and record.tokens == 25
        await pilot.press("right_square_bracket")
        assert pane.settings.temperature > app.query_one("HemingwayPane").settings.temperature
