"""The writing desk through App.run_test() with the tiny GPT: editing and continuing, the tree of
siblings, alternative tokens, undo/redo, stray typing, stop strings and banned words, the views."""
from __future__ import annotations

import pytest

from core.text.desk.document import CHOICE, EDITED, GENERATED, WRITTEN
from tui.app import InkhornApp
from tui.widgets.desk_editor import OVERLAP, DeskEditor, band, printable
from tui.widgets.dialogs import ListDialog, WordsDialog
from tui.widgets.probability_view import choices
from tui.widgets.sampler_bar import FIELDS, SamplerBar
from tui.widgets.tree_view import TreeView


def in_step(pane) -> bool:
    """The editor shows exactly the document's text."""
    return pane.editor.text == printable(pane.doc.text)


async def test_edit_then_continue(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=12)
        await pilot.press(*"The sun")
        first = await generate(pilot, pane)
        await pilot.press(*" rose.")  # typed at the end: the writer's own node after the generation
        written = pane.doc.current
        assert written.kind == WRITTEN and written.parent is first and written.text == " rose."
        second = await generate(pilot, pane)
        assert second.parent is written and pane.doc.branch_text(written) == "The sun" + first.text + " rose."
        assert pane.doc.text.startswith("The sun" + first.text + " rose.") and in_step(pane)
        # an edit inside the model's text: a new branch from there, the old one kept as its sibling
        await pilot.press("ctrl+home", "right", "right", "right", "backspace", "backspace", "backspace", *"A")
        edited = pane.doc.current
        assert edited.kind == EDITED and pane.doc.text.startswith("A sun" + first.text + " rose.") and in_step(pane)
        assert pane.doc.siblings(edited)[0].text == "The sun"
        third = await generate(pilot, pane)
        assert third.parent is edited and pane.doc.text.startswith("A sun") and in_step(pane)


async def test_regenerate_and_move_between_siblings(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=10)
        await pilot.press(*"The sun")
        one = await generate(pilot, pane)
        two = await generate(pilot, pane, "ctrl+r")
        three = await generate(pilot, pane, "ctrl+r")
        assert pane.doc.siblings(three) == [one, two, three] and pane.editor.border_title.startswith("generated 3/3")
        assert len({n.generation.settings["seed"] for n in (one, two, three)}) == 3
        await pilot.press("alt+left")
        assert pane.doc.current is two and "2/3" in pane.editor.border_title
        assert pane.doc.text == "The sun" + two.text and in_step(pane)
        await pilot.press("alt+left", "alt+left")  # no further than the first
        assert pane.doc.current is one
        await pilot.press("alt+right")
        assert pane.doc.current is two
        await pilot.press("alt+up")
        assert pane.doc.current is one.parent and pane.doc.text == "The sun" and in_step(pane)
        await pilot.press("alt+down")  # back down the way it came
        assert pane.doc.current is two and in_step(pane)


async def test_retry_takes_a_sibling_written_in_the_background(checkpoint_dir, monkeypatch, wait_for, ready_pane,
                                                               generate, gate):
    import tui.panes.pregenerate as pregenerate

    monkeypatch.setattr(pregenerate, "COUNT", 2)
    monkeypatch.setattr(pregenerate, "DELAY_SECONDS", 0.05)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=15)
        await pilot.press(*"The sun")
        first = await generate(pilot, pane)
        await wait_for(pilot, lambda: pane.pregenerator.ready() == 2)
        assert "2 more ready" in pane.editor.border_title
        await pilot.press("ctrl+r")
        retried = pane.doc.current  # there at once: nothing streams
        assert not pane.running and retried is not first and retried.generation.ended == "length"
        assert len(retried.pieces) == 15 and pane.doc.siblings(retried) == [first, retried] and in_step(pane)
        assert retried.generation.settings["seed"] != first.generation.settings["seed"]
        assert retried.generation.model_sha256 == first.generation.model_sha256
        # a generation the writer asks for cancels the background one first
        held = gate(0)  # the next token drawn, the background's, waits: it is caught writing
        await pilot.press("tab", "right_square_bracket", "tab")  # other settings: the background starts again
        await wait_for(pilot, lambda: held.reached.is_set() and pane.pregenerator.cancel_event is not None)
        running = pane.pregenerator.cancel_event
        await pilot.press("ctrl+g")
        assert running.is_set() and pane.running and pane.doc.current.parent is retried
        held.release.set()
        await pilot.press("escape")


async def test_changed_settings_leave_the_background_siblings_unused(checkpoint_dir, monkeypatch, wait_for,
                                                                   ready_pane, generate):
    import tui.panes.pregenerate as pregenerate

    monkeypatch.setattr(pregenerate, "COUNT", 1)
    monkeypatch.setattr(pregenerate, "DELAY_SECONDS", 0.05)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=8)
        await pilot.press(*"The sun")
        await generate(pilot, pane)
        await wait_for(pilot, lambda: pane.pregenerator.ready() == 1)
        unused = pane.pregenerator.ready_steps[0][1][0].seed
        await pilot.press("tab", "right_square_bracket", "tab")  # temperature 0.9: not what it was written with
        retried = await generate(pilot, pane, "ctrl+r")
        g = retried.generation
        assert g.settings["temperature"] == pytest.approx(0.9) and g.settings["seed"] != unused


async def test_taking_another_word_branches_from_it(checkpoint_dir, wait_for, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=12)
        pane.settings.top_k = 0
        await pilot.press(*"The sun")
        original = await generate(pilot, pane)
        pos, index, piece = next((pos, i, p) for pos, node, i, p in pane.doc.spans()
                                 if node is original and i >= 2 and p.text and len(choices(p)) >= 2)
        pane.editor.move_cursor(pane.editor.document.get_location_from_index(pos))
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, WordsDialog)
        await pilot.press("down", "enter")  # the second word offered
        taken = piece.alternatives[choices(piece)[1]][0]
        await wait_for(pilot, lambda: pane.doc.current.kind == GENERATED and not pane.running)
        choice = pane.doc.current.parent
        assert choice.kind == CHOICE and choice.pieces[-1].text == taken and choice.pieces[:index] == original.pieces[:index]
        assert pane.doc.siblings(choice) == [original, choice]  # the old branch is kept
        before = "The sun" + "".join(p.text for p in original.pieces[:index])
        assert pane.doc.text.startswith(before + taken) and in_step(pane)
        went_on = pane.doc.current  # the continuation of the word taken: it has no siblings of its own
        assert pane.editor.border_title.startswith("generated 2/2")  # the fork above: the word taken
        await pilot.press("alt+left")
        assert pane.doc.current is original and in_step(pane)
        await pilot.press("alt+right")  # back to the end of the other branch, as it was left
        assert pane.doc.current is went_on and in_step(pane)


async def test_undo_and_redo_across_a_generation(checkpoint_dir, wait_for, ready_pane, generate, gate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=10)
        await pilot.press(*"The sun")
        node = await generate(pilot, pane)
        with_generation = pane.doc.text
        await pilot.press("ctrl+z")
        assert pane.doc.text == "The sun" and in_step(pane)
        await pilot.press("ctrl+y")
        assert pane.doc.text == with_generation and pane.doc.current is node and in_step(pane)
        await pilot.press("ctrl+z", "ctrl+z")  # the generation, then the typing
        assert pane.doc.text == "The " and in_step(pane)  # typing is undone a word at a time
        await pilot.press("ctrl+y", "ctrl+y")
        assert pane.doc.text == with_generation
        # undo during a generation stops it first, then takes it back
        held = gate(hold_at=3)
        pane.settings.max_new_tokens = 100
        await pilot.press("ctrl+g")
        await wait_for(pilot, held.reached.is_set)
        await pilot.press("ctrl+z")
        held.release.set()
        assert not pane.running and pane.doc.text == with_generation and in_step(pane)
        await pilot.pause(0.2)
        assert pane.doc.text == with_generation and in_step(pane)


async def test_stray_typing_never_changes_settings_seed_or_tree(checkpoint_dir, ready_pane, type_text):
    sentence = ("Once upon a great time, r g p c y [0] {1} (2) <3> -=+ ~!@#$%^&*_|\\;:'\",./? 456789 "
                "she said: \"Quit? No.\" Greedy rivers run; yes!")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        before = (pane.settings.to_dict(), app.preferences.to_dict())
        await type_text(pilot, sentence)
        assert pane.editor.text == sentence == pane.doc.text
        assert (pane.settings.to_dict(), app.preferences.to_dict()) == before and pane.settings.seed is None
        assert [node.kind for _, node in pane.doc.walk()] == [WRITTEN] and not pane.running
        assert isinstance(app.focused, DeskEditor)


async def test_stop_strings_and_banned_words_reach_the_generation(checkpoint_dir, wait_for, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=60)
        pane.settings.top_k = 0
        await pilot.press("tab", *["right"] * (FIELDS.index("stop") - 1), "enter")  # temp is selected first
        assert isinstance(app.screen, ListDialog)
        await pilot.press("e", "enter", *"\\n\\n", "ctrl+s")  # two stops: a letter, and a written line break pair
        assert app.preferences.stop == ["e", "\n\n"] and "stop e,¶" in str(app.query_one(SamplerBar).render())
        await pilot.press("right", "enter", *"sun", "ctrl+s", "tab")
        assert app.preferences.banned == ["sun"]
        await pilot.press(*"The sun")
        node = await generate(pilot, pane)
        g = node.generation
        assert g.stop == ["e", "\n\n"] and g.banned == ["sun"]
        assert "e" not in node.text and (g.ended == "stop" or len(node.pieces) == 60)
        await pilot.press("tab", "backspace", "left", "backspace", "tab")  # ban off, stop off
        assert app.preferences.stop == [] and app.preferences.banned == []


async def test_max_new_tokens_is_typed_in_the_settings_bar(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press("tab", *["right"] * (FIELDS.index("max") - 1), "enter", "backspace", "backspace", "7",
                          "enter", "tab")
        assert pane.settings.max_new_tokens == 7
        node = await generate(pilot, pane)
        assert len(node.pieces) == 7 and node.generation.settings["max_new_tokens"] == 7


async def test_colours_by_probability(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=10)
        await pilot.press(*"The sun")
        node = await generate(pilot, pane)
        plain = pane.editor.get_line(0)
        assert not plain.spans
        await pilot.press("f4")
        line = pane.editor.get_line(0)
        piece = next(p for p in node.pieces if p.text and "\n" not in p.text)
        assert any(span.style == band(piece.prob) for span in line.spans)
        assert all(span.start >= len("The sun") for span in line.spans)  # the writer's words are not coloured


async def test_overlap_marks_stretches_of_the_training_text(checkpoint_dir, tmp_path, monkeypatch, wait_for,
                                                           ready_pane):
    import lzma

    import core.catalog

    passage = "We walked down the road in the rain and it was cold and the river ran fast."
    for folder, name in (("hemingway", "train.txt.xz"), ("anna", "train.txt.xz"), ("en-fr", "train.tsv.xz")):
        (tmp_path / "assets" / folder).mkdir(parents=True)
        (tmp_path / "assets" / folder / name).write_bytes(lzma.compress(f"Before. {passage} After.".encode()))
    monkeypatch.setattr(core.catalog, "ASSETS", tmp_path / "assets")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        pane.editor.insert("He said: " + passage + " Then he slept.")
        await pilot.press("f5")
        await wait_for(pilot, lambda: pane.editor.overlaps)
        assert pane.editor.overlaps == [(8, 8 + len(passage) + 2)]  # the spaces around it are in the training text too
        assert any(span.style == OVERLAP for span in pane.editor.get_line(0).spans)
        await pilot.press("ctrl+home", "delete")  # the marks follow the text
        await wait_for(pilot, lambda: pane.editor.overlaps == [(7, 7 + len(passage) + 2)])
        await pilot.press("f5")
        assert pane.editor.overlaps == [] and not any(s.style == OVERLAP for s in pane.editor.get_line(0).spans)


async def test_tree_view_lists_branches_and_browsing_shows_them(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=6)
        await pilot.press(*"The sun")
        one = await generate(pilot, pane)
        two = await generate(pilot, pane, "ctrl+r")
        await pilot.press("f2")
        tree = app.query_one(TreeView)
        assert tree.display and app.focused is tree
        assert [run[0] for run in tree.runs] == [one.parent, one, two] and tree.highlighted == 2
        assert "2/2" in str(tree.get_option_at_index(2).prompt) and "▶" in str(tree.get_option_at_index(2).prompt)
        await pilot.press("up")
        assert pane.doc.current is one and pane.doc.text == "The sun" + one.text and in_step(pane)
        await pilot.press("enter")
        assert isinstance(app.focused, DeskEditor) and pane.doc.current is one
        await pilot.press("f2")
        assert not tree.display


async def test_the_view_follows_the_stream_unless_the_writer_moved_away(checkpoint_dir, wait_for, ready_pane, gate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=400)
        pane.editor.insert("Line.\n" * 30)
        held = gate(hold_at=200)
        await pilot.press("ctrl+g")
        await wait_for(pilot, held.reached.is_set)
        await wait_for(pilot, lambda: len(pane.doc.current.pieces) >= 200)
        editor = pane.editor
        await wait_for(pilot, lambda: editor.scroll_y == editor.max_scroll_y > 0, timeout=2)  # the last lines painted
        assert editor.offset == len(editor.text)
        await pilot.resize_terminal(60, 20)
        await wait_for(pilot, lambda: editor.scroll_y == editor.max_scroll_y, timeout=2)  # still following
        await pilot.press("ctrl+home")  # the writer goes to read the start
        held.release.set()
        await wait_for(pilot, lambda: len(pane.doc.current.pieces) > 210 or not pane.running)
        assert editor.scroll_y == 0 and editor.offset == 0
        await pilot.press("escape")


async def test_keys_in_a_burst_act_in_the_order_they_were_pressed(checkpoint_dir, ready_pane, wait_for):
    from textual import events

    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=5)
        burst = [("T", "T"), ("h", "h"), ("e", "e"), ("backspace", None), ("y", "y"), ("left", None),
                 ("r", "r"), ("end", None), ("ctrl+g", None), ("tab", None), ("right_square_bracket", "]")]
        for key, char in burst:  # queued at once, as keys batched over SSH arrive
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)
        await wait_for(pilot, lambda: pane.doc.current.kind == GENERATED and not pane.running)
        assert pane.doc.current.parent.text == "Thry"  # every key where it was pressed, the generation after them
        await wait_for(pilot, lambda: pane.settings.temperature == pytest.approx(0.9))  # ] went to the settings bar
        assert isinstance(app.focused, SamplerBar)
        assert pane.doc.text.startswith("Thry") and in_step(pane)


async def test_a_value_typed_in_a_burst_reaches_the_dialog_it_opens(checkpoint_dir, ready_pane, wait_for):
    from textual import events

    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press("tab", *["right"] * (FIELDS.index("max") - 1))
        burst = [("enter", None), ("backspace", None), ("backspace", None), ("backspace", None), ("2", "2"),
                 ("0", "0"), ("0", "0"), ("0", "0"), ("enter", None)]
        for key, char in burst:  # Enter opens the dialog; the keys after it come before the dialog is up
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)
        await wait_for(pilot, lambda: pane.settings.max_new_tokens == 2000)
        assert isinstance(app.focused, SamplerBar) and len(app.screen_stack) == 1


def cursor_on_screen(editor) -> bool:
    """The cursor's line is one of the lines the editor shows."""
    row = editor.wrapped_document.location_to_offset(editor.cursor_location).y
    return editor.scroll_y <= row < editor.scroll_y + editor.scrollable_content_region.height


async def test_a_line_typed_at_the_end_stays_on_screen_as_it_wraps(checkpoint_dir, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        editor = pane.editor
        editor.insert("Line.\n" * 30)
        await pilot.press("ctrl+end")
        wraps = 0
        for i in range(40):  # one word that grows past the end of its line, then past the width
            height = editor.wrapped_document.height
            await pilot.press(*f"q{i}z")
            wraps += editor.wrapped_document.height > height
            assert cursor_on_screen(editor), f"the cursor went below the view after typing q{i}z"
        assert wraps >= 2 and editor.text.endswith("q39z")
