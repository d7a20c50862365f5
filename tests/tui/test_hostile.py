"""The app against hostile text and paths: markup in what the user typed or where files go is shown as it is
(never read as markup), escape sequences and bidi controls never reach the screen, and a failing save is said."""
from __future__ import annotations

import errno

from textual.widgets import Static, TabbedContent

from core.text.desk.document import Piece
from core.translate.translator import Translation
from tui.app import InkhornApp
from tui.panes.translate import MAX_HISTORY, TranslatePane
from tui.widgets.source_area import SourceArea

MARKUP = "[/] I see [b]the cat[/b] and [/] [link=http://e.vil]the dog[/link]. "


def toasts(app) -> list[str]:
    """What the notifications on screen show, as rendered."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


async def open_translate(pilot, wait_for) -> TranslatePane:
    await pilot.pause()
    pilot.app.query_one(TabbedContent).active = "translate"
    pane = pilot.app.query_one(TranslatePane)
    await wait_for(pilot, lambda: pane.state in ("ready", "failed"))
    return pane


async def test_pasted_markup_in_the_translate_pane_is_shown_as_typed(checkpoint_dir, save_translator, wait_for):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    app = InkhornApp()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        pane = await open_translate(pilot, wait_for)
        app.query_one("#source", SourceArea).load_text(MARKUP * 40)  # long: a note quotes where it was cut
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.result is not None or pane.warned is not None)
        if pane.warned is not None:  # too little English for the language check: insist
            await pilot.press("enter")
        await wait_for(pilot, lambda: pane.result is not None)
        await wait_for(pilot, lambda: any("reads only the first" in t for t in toasts(app)))
        assert app.is_running and any("[/]" in t for t in toasts(app))  # the note quotes the text literally


async def test_the_translation_on_screen_has_no_escapes_or_bidi_controls(checkpoint_dir, save_translator, wait_for):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    app = InkhornApp()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        pane = await open_translate(pilot, wait_for)
        pane.request += 1  # a result as a crafted checkpoint could produce it, arriving for the newest request
        hostile = Translation("I see the cat.", "\u202eJe vois\x1b]0;pwned\x07 le\x1b[2J chat.\x9b31m",
                              notes=["\x1b[31mred\x1b[0m [/]"])
        pane._translated(pane.request, hostile, 0.1)
        await pilot.pause()
        shown = str(app.query_one("#translation", Static).render())
        assert "Je vois le chat." in shown and not any(c in shown for c in "\x1b\x07\x9b\u202e")
        await wait_for(pilot, lambda: any("red [/]" in t for t in toasts(app)))


async def test_translate_history_is_bounded(checkpoint_dir, save_translator, wait_for):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    app = InkhornApp()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        pane = await open_translate(pilot, wait_for)
        source = app.query_one("#source", SourceArea)
        for i in range(MAX_HISTORY + 50):
            source.load_text(f"I see the cat {i}.")
            pane.action_translate()
        assert len(pane.history) == MAX_HISTORY and pane.history[-1] == f"I see the cat {MAX_HISTORY + 49}."
        await wait_for(pilot, lambda: pane.result is not None and "translating" not in pane.status)


async def test_an_output_folder_named_with_markup_survives_copy(tmp_path, monkeypatch, write_vae_checkpoint,
                                                                wait_for):
    folder = tmp_path / "checkpoints"
    write_vae_checkpoint(folder)
    out = tmp_path / "x[/b]\x1b]2;t\x07"
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(folder))
    monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(out))
    monkeypatch.setenv("INKHORN_DEVICE", "cpu")
    app = InkhornApp()
    monkeypatch.setattr(app, "copy_to_clipboard", lambda text: None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        app.query_one(TabbedContent).active = "latent-art"
        pane = app.query_one("ArtPane")
        await wait_for(pilot, lambda: pane.saved is not None)
        await pilot.press("y")
        await wait_for(pilot, lambda: any("copied" in t for t in toasts(app)))
        copied = next(t for t in toasts(app) if "copied" in t)
        assert "x[/b]" in copied and "\x1b" not in copied and app.is_running
        footer = str(app.query_one("#art-footer").render())
        assert "x[/b]" in footer and "\x1b" not in footer


async def test_an_export_on_a_full_disk_is_said_and_leaves_no_file(checkpoint_dir, tmp_path, monkeypatch,
                                                                    wait_for, ready_pane):
    out = tmp_path / "outputs"
    monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(out))

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    app = InkhornApp()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await ready_pane(pilot)
        await pilot.press(*"[/] prompt")
        monkeypatch.setattr("core.files.os.fsync", full)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("No space left" in t for t in toasts(app)))
        assert not out.exists() or list(out.iterdir()) == []
        monkeypatch.undo()
        monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(out))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("exported" in t for t in toasts(app)))
        assert sorted(p.suffix for p in out.iterdir()) == [".json", ".md"]


async def test_escapes_and_bidi_controls_in_the_document_never_reach_the_screen(checkpoint_dir, wait_for,
                                                                               ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        pane = await ready_pane(pilot)
        pane.editor.insert("pasted \u202eevil\x1b]2;pwned\x07 [b]bold[/b] \x1b[2J")
        await pilot.pause()
        assert pane.doc.text == "pasted evil [b]bold[/b] "  # what is typed or pasted is kept safe
        node = pane.doc.start_generation(pane._record())  # tokens as a crafted checkpoint could write them
        node.pieces = [Piece("\x1b]0;t\x07\u202e\x9b31m", 0.5, ())]
        pane.editor.show()
        await pilot.pause()
        shown = "".join(strip.text for strip in pane.editor.render_lines(pane.editor.region.reset_offset))
        assert "[b]bold[/b]" in shown and not any(c in shown for c in "\x1b\x07\x9b\u202e")
        assert "\u241b]0;t\u2407" in pane.editor.text  # shown as pictures, one for one
