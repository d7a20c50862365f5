"""The Translate tab driven through App.run_test() with a tiny translator checkpoint (never a shipped one)."""
from __future__ import annotations

import pytest
from textual import events
from textual.widgets import Static, TabbedContent

from tui import keys
from tui.app import InkhornApp
from tui.panes.translate import TranslatePane
from tui.widgets.attention_view import AttentionView
from tui.widgets.keybar import KeyBar
from tui.widgets.source_area import SourceArea


@pytest.fixture
def open_tab(wait_for):
    async def open_tab(pilot) -> TranslatePane:
        await pilot.pause()  # the tabs are ready to switch once the first paint is done
        pilot.app.query_one(TabbedContent).active = "translate"
        pane = pilot.app.query_one(TranslatePane)
        await wait_for(pilot, lambda: pane.state in ("ready", "failed"))
        await pilot.pause()
        return pane

    return open_tab


@pytest.fixture
def translate(wait_for):
    async def translate(pilot, pane, sentence: str) -> None:
        asked = pane.request
        pilot.app.query_one("#source", SourceArea).load_text(sentence)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.request > asked and pane.result is not None
                       and pane.result.source == sentence and "translating" not in pane.status)

    return translate


def status(app) -> str:
    return str(app.query_one("#status", Static).render())


async def test_translates_shows_attention_toggles_beam_and_copies(checkpoint_dir, save_translator, wait_for, open_tab, translate):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_tab(pilot)
        assert pane.state == "ready" and app.focused is app.query_one("#source", SourceArea)
        assert "beam 4" in status(app)
        await translate(pilot, pane, "I see the cat.")
        assert pane.result.text == "Je vois le chat."
        assert "Je vois le chat." in str(app.query_one("#translation", Static).render())
        heatmap = app.query_one(AttentionView).render().plain
        assert "▀" in heatmap and "the" in heatmap and "</s>" in heatmap
        await pilot.press("f3")
        assert app.clipboard == "Je vois le chat."
        await pilot.press("ctrl+g")  # greedy, and the sentence on show is translated again
        assert pane.beam == 1
        await wait_for(pilot, lambda: "greedy" in status(app) and "translating" not in status(app))
        assert pane.result.text == "Je vois le chat."
        await pilot.press("ctrl+g")
        assert pane.beam == 4


async def test_history_walks_back_and_forth(checkpoint_dir, save_translator, open_tab, translate):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_tab(pilot)
        await translate(pilot, pane, "I see the cat.")
        await translate(pilot, pane, "We take the car.")
        source = app.query_one("#source", SourceArea)
        source.load_text("")
        await pilot.press("up")
        assert source.text == "We take the car."
        await pilot.press("up", "up")
        assert source.text == "I see the cat."
        await pilot.press("down")
        assert source.text == "We take the car."
        await pilot.press("down")
        assert source.text == ""


async def test_bad_input_is_explained(checkpoint_dir, save_translator, open_tab, translate):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_tab(pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert pane.result is None and any("some English first" in str(n.message) for n in app._notifications)
        await translate(pilot, pane, "I see the cat and " * 30)
        await pilot.pause()
        assert pane.result.text and any("reads only the first" in str(n.message) for n in app._notifications)
        await pilot.press("f3")
        assert app.clipboard == pane.result.text
        await translate(pilot, pane, "[/] [b]I see the cat.[/b] " * 3)  # markup in a note must not crash the app
        assert pane.result is not None


async def test_several_lines_are_typed_pasted_and_translated_line_for_line(checkpoint_dir, save_translator, open_tab,
                                                                             wait_for):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_tab(pilot)
        await pilot.press(*"I see the cat.", "ctrl+j", *"We take the car.")
        source = app.query_one("#source", SourceArea)
        assert source.text == "I see the cat.\nWe take the car." and pane.request == 0  # Ctrl+J did not send
        await pilot.press("up")  # inside the text the arrow moves the cursor, no history
        assert source.cursor_location[0] == 0 and source.text == "I see the cat.\nWe take the car."
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.result is not None and "translating" not in pane.status)
        assert pane.result.text == "Je vois le chat.\nNous prenons la voiture."
        assert "sentence 2 of 2" in app.query_one(AttentionView).render().plain
        source.move_cursor(source.document.end)
        app.post_message(events.Paste("\nYou find the apple. They want the small house.\nI see the dog."))  # as a terminal
        await pilot.pause()
        assert source.text == "I see the cat.\nWe take the car.\nYou find the apple. They want the small house.\n" \
                              "I see the dog."


async def test_text_in_another_language_is_flagged_and_translated_when_asked_again(checkpoint_dir, save_translator,
                                                                                   open_tab, wait_for):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_tab(pilot)
        app.query_one("#source", SourceArea).load_text("Wie geht es dir heute?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.warned is not None)
        assert pane.result is None and "German" in str(app.query_one("#translation", Static).render())
        await pilot.press("enter")  # insisting translates it
        await wait_for(pilot, lambda: pane.result is not None)
        assert pane.result.source == "Wie geht es dir heute?" and pane.warned is None


async def test_footer_and_palette_list_the_pane_keys(checkpoint_dir, save_translator, open_tab):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot)
        described = {description for _, description, _ in app.query_one(KeyBar).entries()}
        assert {"history", "beam/greedy", "copy", "new line"} <= described
        commands = {c.title for c in app.get_system_commands(app.screen)}
        for binding in keys.TRANSLATE_PANE:
            assert f"Translate: {binding.description}" in commands


async def test_missing_checkpoint_names_the_training_command(tmp_path, monkeypatch):
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(tmp_path / "none"))
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(TabbedContent).active = "translate"
        await pilot.pause()
        shown = " ".join(str(w.render()) for w in app.query("#translate .notice"))
        assert "not landed yet" in shown and "en-fr.safetensors" in shown and "inkhorn train translator" in shown


async def test_corrupt_checkpoint_is_reported_in_the_pane(checkpoint_dir, open_tab):
    (checkpoint_dir / "en-fr.safetensors").write_bytes(b"garbage")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_tab(pilot)
        assert pane.state == "failed"
        assert "corrupt" in str(app.query_one("#translation", Static).render())
        await pilot.press("enter")  # nothing to translate with: a warning, no crash
        assert "not loaded" in status(app)
