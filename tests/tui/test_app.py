"""The Textual app driven through App.run_test() with the tiny GPT from conftest (never a shipped checkpoint)."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from textual.widgets import Input

import core.text.sampling
from core.catalog import ROOT
from tui import keys
from tui.app import InkhornApp
from tui.help import HelpScreen, help_rows
from tui.panes.text_pane import TOP_K_STEPS, next_top_k
from tui.widgets.keybar import KeyBar
from tui.widgets.output_view import OutputView
from tui.widgets.probability_view import ProbabilityView


@pytest.fixture
def ready_pane(wait_for):
    async def ready_pane(pilot, max_new_tokens: int = 40):
        pane = pilot.app.query_one("HemingwayPane")
        await wait_for(pilot, lambda: pane.state == "ready")
        pane.settings.max_new_tokens = max_new_tokens
        return pane

    return ready_pane


@pytest.fixture
def generate(wait_for):
    async def generate(pilot, pane, prompt: str = "The sun") -> None:
        await pilot.press(*prompt, "enter")
        await wait_for(pilot, lambda: pane.session.generations and not pane.running)

    return generate


class Gate:
    """Spies on core.text.sampling.filtered_top: records settings.temperature per call, holds call `hold_at`."""

    def __init__(self, monkeypatch, hold_at: int):
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


async def test_prompt_streams_text_and_reports_speed(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        assert "hemingway" in pane.status and "params" in pane.status and pane.status.startswith("cpu")
        assert isinstance(app.focused, Input)
        await generate(pilot, pane)
        output = app.query_one(OutputView)
        assert output.text.startswith("The sun") and len(output.generated) > 0
        assert isinstance(app.focused, OutputView)  # so the sampler keys work while text streams
        assert "tok/s" in pane.status
        assert pane.steps_shown >= 1
        record = pane.session.generations[-1]
        assert record.tokens == 40 and record.seeds and not record.cancelled


async def test_text_reaches_the_screen_before_the_generation_ends(checkpoint_dir, monkeypatch, wait_for, ready_pane):
    gate = Gate(monkeypatch, hold_at=10)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press(*"The", "enter")
        await wait_for(pilot, gate.reached.is_set)
        await wait_for(pilot, lambda: pane.steps_shown >= 1)  # the first piece is flushed at once
        assert pane.running
        gate.release.set()
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
        assert len(app.query_one(OutputView).generated) > 0


async def test_temperature_key_changes_the_running_generation(checkpoint_dir, monkeypatch, wait_for, ready_pane):
    gate = Gate(monkeypatch, hold_at=5)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press(*"The sun", "enter")
        await wait_for(pilot, gate.reached.is_set)
        await pilot.press("right_square_bracket")
        assert pane.settings.temperature == pytest.approx(0.9)
        gate.release.set()
        await wait_for(pilot, lambda: pane.session.generations and not pane.running)
        assert gate.temperatures[:5] == [0.8] * 5
        assert gate.temperatures[5:] == [0.9] * 35  # the key press reached the very next token
        record = pane.session.generations[-1]
        assert record.settings["temperature"] == 0.8 and record.settings_after["temperature"] == pytest.approx(0.9)


async def test_escape_stops_the_generation(checkpoint_dir, monkeypatch, wait_for, ready_pane):
    gate = Gate(monkeypatch, hold_at=3)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=300)
        await pilot.press(*"The sun", "enter")
        await wait_for(pilot, gate.reached.is_set)
        await pilot.press("escape")
        gate.release.set()
        await wait_for(pilot, lambda: pane.session.generations and not pane.running)
        record = pane.session.generations[-1]
        assert record.cancelled and record.tokens <= 4
        assert "stopped" in pane.status


async def test_continue_appends_and_enter_starts_afresh(checkpoint_dir, wait_for, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot, max_new_tokens=20)
        await generate(pilot, pane)
        output = app.query_one(OutputView)
        first = output.text
        await pilot.press("c")
        await wait_for(pilot, lambda: len(pane.session.generations) == 2 and not pane.running)
        assert output.text.startswith(first) and len(output.text) > len(first)
        second = pane.session.generations[1]
        assert second.continued and second.prompt == first
        await pilot.press("enter")  # focus is on the output: a new generation from the prompt
        await wait_for(pilot, lambda: len(pane.session.generations) == 3 and not pane.running)
        assert output.prompt == "The sun" and not pane.session.generations[2].continued


async def test_sampler_keys_change_the_settings_and_the_bar(checkpoint_dir, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press("tab")  # from the prompt to the output
        assert isinstance(app.focused, OutputView)
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
        bar = str(app.query_one("#sampler").render())
        assert "greedy" in bar and "top-k 100" in bar and f"seed {s.seed}" in bar
        await pilot.press("g")
        assert s.temperature == pytest.approx(0.6)
        s.validate()


def test_top_k_ladder():
    assert next_top_k(40, 1) == 100 and next_top_k(40, -1) == 20
    assert next_top_k(200, 1) == 0 and next_top_k(0, 1) == 0 and next_top_k(0, -1) == 200
    assert next_top_k(1, -1) == 1 and next_top_k(7, 1) == 10 and next_top_k(7, -1) == 5
    assert TOP_K_STEPS[-1] == 0


async def test_typing_in_the_prompt_does_not_trigger_keys(checkpoint_dir, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press(*"[rg]")
        assert app.query_one("#prompt", Input).value == "[rg]"
        assert pane.settings.temperature == 0.8 and pane.settings.seed is None


async def test_probability_view_toggles_and_shows_candidates(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        view = app.query_one(ProbabilityView)
        assert not view.display
        await generate(pilot, pane)
        await pilot.press("p")
        assert view.display
        shown = str(view.render())
        assert "token 40" in shown and "%" in shown and any(c in shown for c in "▏▎▍▌▋▊▉█")
        await pilot.press("p")
        assert not view.display


async def test_save_writes_markdown_and_never_overwrites(checkpoint_dir, tmp_path, monkeypatch, ready_pane, generate):
    out = tmp_path / "outputs"
    monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(out))
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await generate(pilot, pane)
        await pilot.press("ctrl+s", "ctrl+s")
        await pilot.pause()
    files = sorted(out.glob("*.md"))
    assert len(files) == 2
    with open(files[0], encoding="utf-8", newline="") as f:  # the output is saved as generated, \r included
        text = f.read()
    record = pane.session.generations[0]
    assert "The sun" in text and f"seed: {record.seeds[0]}" in text and "temperature 0.8" in text
    assert record.output in text


async def test_copy_uses_the_clipboard(checkpoint_dir, ready_pane, generate):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await generate(pilot, pane)
        await pilot.press("y")
        assert app.clipboard == app.query_one(OutputView).text


async def test_prompt_notes_are_shown(checkpoint_dir, wait_for, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        app.query_one("#prompt", Input).value = "The\x07 sun"
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.session.generations and not pane.running)
        await pilot.pause()
        assert any("control character" in str(n.message) for n in app._notifications)
        assert pane.session.generations[0].notes


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


async def test_footer_palette_and_help_list_every_binding(checkpoint_dir, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready_pane(pilot)
        await pilot.press("tab")
        entries = app.query_one(KeyBar).entries()
        described = {description for _, description, _ in entries}
        for binding in keys.APP + keys.TEXT_PANE:
            assert (binding.group.description if binding.group else binding.description) in described
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for binding in keys.APP + keys.TEXT_PANE:
            assert any(binding.description in title.lower() for title in titles), binding
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        explained = {text for _, text in help_rows(app)}
        for binding in keys.APP + keys.TEXT_PANE:
            assert (binding.tooltip or binding.description) in explained
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_footer_hides_single_keys_while_typing(checkpoint_dir, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready_pane(pilot)
        described = {d for _, d, _ in app.query_one(KeyBar).entries()}
        assert "temp" not in described and "top-k" not in described and "save" in described


async def test_command_palette_runs_pane_actions(checkpoint_dir, wait_for, ready_pane):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready_pane(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"Hemingway: greedy")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.settings.temperature == 0)
