"""The Textual app driven through App.run_test() with the tiny GPT from conftest (never a shipped checkpoint):
streaming, live sampler keys, the settings bar, the footer, palette and help."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from core.catalog import ROOT
from core.files import file_sha256
from tui import keys
from tui.app import InkhornApp
from tui.help import HelpScreen, help_rows
from tui.widgets.desk_editor import DeskEditor, printable
from tui.widgets.keybar import KeyBar
from tui.widgets.probability_view import ProbabilityView
from tui.widgets.sampler_bar import TOP_K_STEPS, SamplerBar, next_top_k


def test_importing_the_app_does_not_import_torch():
    code = "import sys, tui.app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_the_app_takes_its_cpu_threads_from_inkhorn_threads(checkpoint_dir, monkeypatch, ready_pane):
    import torch

    monkeypatch.setenv("INKHORN_THREADS", "2")
    before = torch.get_num_threads()
    try:
        app = InkhornApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await ready_pane(pilot)
            seen = {}
            probe = threading.Thread(target=lambda: seen.update(threads=torch.get_num_threads()))
            probe.start()
            probe.join()
            assert seen["threads"] == 2  # the threads that generate start after the model loads
    finally:
        torch.set_num_threads(before)


async def test_continue_streams_in_place_and_records_the_span(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        assert "hemingway" in pane.status and "params" in pane.status and pane.status.startswith("cpu")
        assert isinstance(app.focused, DeskEditor)
        await pilot.press(*"The sun")
        await generate(pilot, pane)
        editor = pane.editor
        node = pane.doc.current
        assert node.kind == "generated" and len(node.pieces) == 40
        assert editor.text == printable(pane.doc.text) and editor.text.startswith("The sun")
        assert isinstance(app.focused, DeskEditor) and "tok/s" in pane.status and pane.steps_shown >= 1
        g = node.generation
        assert g.model == "hemingway" and g.model_sha256 == file_sha256(checkpoint_dir / "hemingway.safetensors")
        assert g.settings["seed"] == pane.stats.seed and g.settings["temperature"] == 0.8 and g.ended == "length"
        assert g.device == "cpu" and node.parent.text == "The sun"


async def test_text_reaches_the_screen_before_the_generation_ends(checkpoint_dir, monkeypatch, wait_for, ready_pane,
                                                                  gate):
    held = gate(hold_at=10)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press(*"The", "ctrl+g")
        await wait_for(pilot, held.reached.is_set)
        await wait_for(pilot, lambda: pane.steps_shown >= 1)  # the first piece is flushed at once
        assert pane.running and pane.doc.current.pieces and pane.editor.text == printable(pane.doc.text)
        held.release.set()
        await wait_for(pilot, lambda: not pane.running)


async def test_ui_updates_are_batched_not_per_token(checkpoint_dir, monkeypatch, ready_pane, generate):
    import tui.panes.text_pane as text_pane

    class Clock:  # 10 ms per reading, so a flush every ~50 ms of "time" is every ~5 tokens
        now = 100.0

        def monotonic(self):
            self.now += 0.01
            return self.now

    monkeypatch.setattr(text_pane, "time", Clock())
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=40)
        await generate(pilot, pane)
        assert 4 <= pane.steps_shown <= 10  # 40 tokens reached the screen in a handful of batches
        assert len(pane.doc.current.pieces) == 40


async def test_a_settings_key_changes_the_running_generation(checkpoint_dir, wait_for, ready_pane, gate):
    held = gate(hold_at=5)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press(*"The sun", "ctrl+g")
        await wait_for(pilot, held.reached.is_set)
        await pilot.press("tab", "right_square_bracket")  # to the settings bar, where ] is a key, not a letter
        assert isinstance(app.focused, SamplerBar) and pane.settings.temperature == pytest.approx(0.9)
        held.release.set()
        await wait_for(pilot, lambda: pane.stats is not None and not pane.running)
        assert held.temperatures[:5] == [0.8] * 5
        assert held.temperatures[5:] == [0.9] * 35  # the key press reached the very next token
        g = pane.doc.current.generation
        assert g.settings["temperature"] == 0.8 and g.changes == [(5, {**g.settings, "temperature": 0.9})]
        assert pane.editor.text.startswith("The sun")  # nothing was typed into the document


async def test_escape_stops_the_generation(checkpoint_dir, wait_for, ready_pane, gate):
    held = gate(hold_at=3)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=300)
        await pilot.press(*"The sun", "ctrl+g")
        await wait_for(pilot, held.reached.is_set)
        await pilot.press("escape")
        held.release.set()
        assert not pane.running
        node = pane.doc.current
        assert node.generation.ended == "cancelled" and len(node.pieces) <= 4
        assert "stopped" in pane.status
        await pilot.pause(0.2)
        assert len(node.pieces) <= 4 and pane.editor.text == printable(pane.doc.text)  # late steps are dropped


async def test_settings_bar_keys_change_the_settings_and_the_bar(checkpoint_dir, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press("tab")  # from the document to the settings bar
        bar = app.query_one(SamplerBar)
        assert app.focused is bar
        s = pane.settings
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert s.temperature == pytest.approx(0.6)
        await pilot.press("minus")
        assert s.top_k == 20
        await pilot.press("equals_sign", "equals_sign")
        assert s.top_k == 100
        await pilot.press("left_curly_bracket")
        assert s.top_p == pytest.approx(0.9)
        await pilot.press("right_parenthesis")
        assert s.min_p == pytest.approx(0.05)
        await pilot.press("greater_than_sign")
        assert s.repetition_penalty == pytest.approx(1.05)
        await pilot.press("r")
        assert s.seed is not None
        await pilot.press("g")
        assert s.temperature == 0
        shown = str(bar.render())
        assert "greedy" in shown and "top-k 100" in shown and f"seed {s.seed}" in shown and "preset custom" in shown
        await pilot.press("g")
        assert s.temperature == pytest.approx(0.6)
        # the arrows: right to top-k, up widens it; right to max new tokens, down shortens it
        await pilot.press("right", "up")
        assert s.top_k == 200
        await pilot.press("right", "right", "right", "right", "down")
        assert s.max_new_tokens == 25  # from the 40 the test set, one step down the ladder
        await pilot.press("backspace")
        assert s.max_new_tokens == 300  # the default
        await pilot.press("left", "left", "left", "left", "left", "left", "up")  # the preset: next one
        assert app.preferences.preset_of(s) == "balanced"
        s.validate()
        await pilot.press("tab")
        assert isinstance(app.focused, DeskEditor)


def test_top_k_ladder():
    assert next_top_k(40, 1) == 100 and next_top_k(40, -1) == 20
    assert next_top_k(200, 1) == 0 and next_top_k(0, 1) == 0 and next_top_k(0, -1) == 200
    assert next_top_k(1, -1) == 1 and next_top_k(7, 1) == 10 and next_top_k(7, -1) == 5
    assert TOP_K_STEPS[-1] == 0


async def test_probability_view_shows_the_token_at_the_cursor(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        view = app.query_one(ProbabilityView)
        assert not view.display
        await pilot.press(*"The sun")
        await generate(pilot, pane)
        await pilot.press("f3")
        assert view.display and isinstance(app.focused, DeskEditor)
        last = pane.doc.current.pieces[-1]
        assert view.piece is last  # the cursor is at the end: the newest token
        shown = str(view.render())
        assert f"p={last.prob:.2f}" in shown and "%" in shown and any(c in shown for c in "▏▎▍▌▋▊▉█")
        await pilot.press("ctrl+home")
        assert not view.piece.generated and "You wrote this" in str(view.render())
        assert pane.editor.mark is None
        await pilot.press(*["right"] * 7)  # past "The sun": onto the first generated token
        first = next(p for p in pane.doc.current.pieces if p.text)  # a lone byte of a character has none
        assert view.piece is first and pane.editor.mark == (7, 7 + len(first.text))
        await pilot.press("f3")
        assert not view.display and pane.editor.mark is None


async def test_export_writes_markdown_and_json_and_never_overwrites(checkpoint_dir, tmp_path, ready_pane, generate):
    import json

    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press(*"The sun")
        await generate(pilot, pane)
        await pilot.press("ctrl+s", "ctrl+s")
        await pilot.pause()
    out = tmp_path / "outputs"
    markdown, trees = sorted(out.glob("*.md")), sorted(out.glob("*.json"))
    assert len(markdown) == 2 and len(trees) == 2
    with open(markdown[0], encoding="utf-8", newline="") as f:  # as written: a CR the model wrote stays a CR
        text = f.read()
    g = pane.doc.current.generation
    assert text.startswith(pane.doc.text.rstrip("\n")) and f"seed {g.settings['seed']}" in text
    assert "temperature 0.8 · top-k 40" in text and g.model_sha256[:12] in text
    assert len(json.loads(trees[0].read_text(encoding="utf-8"))["nodes"]) == 3  # root, typed, generated


async def test_copy_and_paste_go_through_the_clipboard(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press(*"The sun")
        await generate(pilot, pane)
        await pilot.press("f7", "ctrl+c")  # select everything, copy (OSC 52)
        assert app.clipboard == pane.editor.text


async def test_prompt_notes_are_shown(checkpoint_dir, wait_for, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=3)
        pane.editor.insert("We walked down the road. " * 30)  # longer than the tiny model reads
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: pane.stats is not None and not pane.running)
        await pilot.pause()
        assert any("reads only its last" in str(n.message) for n in app._notifications)


async def test_missing_checkpoints_say_which_command_trains_them(tmp_path, monkeypatch):
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(tmp_path / "none"))
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        commands = {"hemingway": ["inkhorn train gpt"], "anna": ["inkhorn train lstm"],
                    "translate": ["inkhorn train translator"], "latent-art": ["inkhorn train vae", "inkhorn train gan"]}
        for tab, expected in commands.items():
            app.query_one("TabbedContent").active = tab
            await pilot.pause()
            shown = " ".join(str(w.render()) for w in app.query(f"#{tab} .notice"))
            assert "not landed yet" in shown
            for command in expected:
                assert command in shown
        await pilot.press("ctrl+t")  # wraps to Hemingway, still no crash
        assert app.query_one("TabbedContent").active == "hemingway"


async def test_anna_tab_loads_on_first_show(checkpoint_dir, wait_for):
    (checkpoint_dir / "anna.safetensors").write_bytes((checkpoint_dir / "hemingway.safetensors").read_bytes())
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        anna = app.query_one("AnnaPane")
        await pilot.pause()
        assert anna.state == "waiting"  # nothing loads for a tab nobody has opened
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: anna.state in ("ready", "failed"))


def _described(app) -> set[str]:
    return {description for _, description, _ in app.query_one(KeyBar).entries()}


def _label(binding) -> str:
    return binding.group.description if binding.group else binding.description


async def test_footer_palette_and_help_list_every_binding(checkpoint_dir, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready_pane(pilot)
        shown = [b for b in keys.APP + keys.TEXT_PANE if b.show]
        assert {_label(b) for b in shown} <= _described(app)
        assert len(app.query_one(KeyBar)._rows(78)) <= 2  # the document's keys fit two rows at 80 columns
        await pilot.press("tab")
        assert {_label(b) for b in keys.SAMPLER_BAR if b.show} <= _described(app)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for binding in keys.APP + keys.TEXT_PANE + keys.SAMPLER_BAR:
            assert any(binding.description in title.lower() for title in titles), binding
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        explained = {text for _, text in help_rows(app)}
        for binding in keys.APP + keys.TEXT_PANE + keys.SAMPLER_BAR + keys.DESK_EDITOR + keys.DIALOG:
            assert (binding.tooltip or binding.description) in explained
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_the_document_shows_no_plain_keys_in_the_footer(checkpoint_dir, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready_pane(pilot)
        assert isinstance(app.focused, DeskEditor)
        for key, _, _ in app.query_one(KeyBar).entries():
            assert len(key) > 1 or not key.isprintable(), key  # every key the footer offers is a modified one


async def test_command_palette_runs_pane_and_settings_actions(checkpoint_dir, wait_for, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Hemingway settings: greedy")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.settings.temperature == 0)
