"""Shared base of the two text panes (Hemingway, Anna): prompt, streaming output, probabilities, sampler bar.

The model loads the first time the pane is shown (tui/panes/base.py). Generation runs in a thread worker
that reads the pane's one SamplerSettings object at every token; the key
actions below mutate that object on the UI thread, so the running generation
picks a change up at its next token. Text reaches the screen in batches: the
worker buffers pieces and hands them over with call_from_thread at most every
FLUSH_SECONDS (the first piece at once), never once per token.
"""
from __future__ import annotations

import threading
import time
from typing import ClassVar

from textual import on, work
from textual.containers import Horizontal
from textual.widgets import Input

from core.text.sampling import SamplerSettings, new_seed
from core.text.session import Generation, Session
from tui import keys
from tui.panes.base import ModelPane, ModelState
from tui.widgets.output_view import OutputView
from tui.widgets.probability_view import ProbabilityView
from tui.widgets.sampler_bar import SamplerBar

FLUSH_SECONDS = 0.05
TOP_K_STEPS = (1, 2, 3, 5, 10, 20, 40, 100, 200, 0)  # 0 = off, the widest
MAX_TEMPERATURE = 2.0


def next_top_k(current: int, direction: int) -> int:
    """The next wider (direction > 0) or narrower step of TOP_K_STEPS from `current`."""
    width = lambda k: k if k else float("inf")  # noqa: E731 (0 = off is the widest)
    if direction > 0:
        return next((k for k in TOP_K_STEPS if width(k) > width(current)), 0)
    return next((k for k in reversed(TOP_K_STEPS) if width(k) < width(current)), TOP_K_STEPS[0])


def _clamp(value: float, low: float, high: float) -> float:
    return round(min(high, max(low, value)), 2)


class TextPane(ModelPane):
    PLACEHOLDER: ClassVar[str] = "Prompt (Enter generates)"

    BINDINGS = keys.TEXT_PANE

    def __init__(self, session: Session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.settings = SamplerSettings()
        self.generation = 0           # id of the generation on screen; stale workers are ignored
        self.cancel: threading.Event | None = None
        self.steps_shown = 0          # batches that reached the screen (tests use it)
        self._warmer_temperature = self.settings.temperature  # restored when greedy goes off

    @property
    def lm(self):
        """The loaded core.text.lm.LanguageModel, or None."""
        return self.models.get(self.MODELS[0])

    # ----- layout -------------------------------------------------------------------------------
    def compose_pane(self):
        yield Input(placeholder=self.PLACEHOLDER, id="prompt")
        with Horizontal(id="body"):
            yield OutputView(id="output")
            yield ProbabilityView(id="probs")
        yield SamplerBar(self.settings, id="sampler")

    @property
    def output(self) -> OutputView:
        return self.query_one(OutputView)

    @property
    def running(self) -> bool:
        return self.cancel is not None and not self.cancel.is_set()

    def focus_prompt(self) -> None:
        if self.landed:
            self.query_one("#prompt", Input).focus()

    def on_show(self) -> None:
        if self.landed:
            self.load(self.MODELS[0])

    def on_unmount(self) -> None:
        if self.cancel is not None:
            self.cancel.set()

    # ----- loading ------------------------------------------------------------------------------
    def build(self, name: str, device):
        from core.text.lm import load_language_model

        return load_language_model(name, device)

    def model_loading(self, name: str) -> None:
        self.output.loading = True

    def model_ready(self, name: str) -> None:
        self.output.loading = False
        self.set_status(self._model_status())

    def model_failed(self, name: str) -> None:
        self.output.loading = False
        self.output.show_message(f"Could not load {name}.\n\n{self.errors[name]}", "bold red")
        self.set_status(f"{name}: not loaded")

    def _model_status(self, extra: str = "") -> str:
        return self.model_status(self.lm.name, self.lm.num_params(), extra)

    # ----- generation ---------------------------------------------------------------------------
    @on(Input.Submitted, "#prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_generate()

    def action_generate(self) -> None:
        self._start(continued=False)

    def action_continue_text(self) -> None:
        self._start(continued=bool(self.output.generated))

    def _start(self, continued: bool) -> None:
        if self.state is not ModelState.READY:
            self.notify(f"{self.MODELS[0]} is not loaded yet" if self.state is ModelState.LOADING else self.status,
                        severity="warning")
            return
        if self.cancel is not None:
            self.cancel.set()
        self.generation += 1
        self.cancel = threading.Event()
        output = self.output
        if continued:
            prompt = output.text
        else:
            prompt = self.query_one("#prompt", Input).value
            output.start(prompt)
        self.query_one(ProbabilityView).show_step(None)
        output.focus()
        self.set_status(self._model_status("generating…"))
        self.run_generation(self.generation, prompt, continued, self.cancel, self.settings.to_dict())

    @work(thread=True, exclusive=True, group="generate")
    def run_generation(self, generation: int, prompt: str, continued: bool, cancel: threading.Event,
                       settings_before: dict) -> None:
        from core.text.generate import GenerationStats

        stats = GenerationStats()
        pending: list[str] = []
        produced: list[str] = []
        seeds: list[int] = []
        step = None
        flushed_at = 0.0
        error = None
        try:
            for step in self.lm.stream(prompt, self.settings, cancel, stats):
                pending.append(step.text)
                produced.append(step.text)
                if not seeds or seeds[-1] != step.seed:
                    seeds.append(step.seed)
                if time.monotonic() - flushed_at >= FLUSH_SECONDS:
                    self.from_worker(self._show, generation, "".join(pending), step, stats.tokens_per_second)
                    pending.clear()
                    flushed_at = time.monotonic()
        except Exception as e:  # e.g. a model that fails mid-run: report it, keep the app
            error = f"{type(e).__name__}: {e}"
        record = Generation(self.MODELS[0], prompt, "".join(produced), continued, settings_before,
                            self.settings.to_dict(), seeds, stats.tokens, stats.tokens_per_second,
                            stats.cancelled, list(stats.notes))
        self.from_worker(self._finish, generation, "".join(pending), step, record, error)

    def _show(self, generation: int, text: str, step, tokens_per_second: float) -> None:
        if generation != self.generation:
            return
        self.output.append(text)
        self.query_one(ProbabilityView).show_step(step)
        self.steps_shown += 1
        self.set_status(self._model_status(f"generating · {tokens_per_second:.1f} tok/s"))

    def _finish(self, generation: int, text: str, step, record: Generation, error: str | None) -> None:
        self.session.add(record)
        if generation != self.generation:
            return
        self.cancel = None
        self.output.append(text)
        if step is not None:
            self.query_one(ProbabilityView).show_step(step)
            self.steps_shown += 1
        self.query_one(SamplerBar).show(record.seeds[-1] if record.seeds else None)
        stopped = " · stopped" if record.cancelled else ""
        self.set_status(self._model_status(f"{record.tokens} tokens · {record.tokens_per_second:.1f} tok/s{stopped}"))
        for note in record.notes:
            self.notify(note, title="prompt")
        if error:
            self.notify(error, title="generation failed", severity="error")

    # ----- keys ---------------------------------------------------------------------------------
    def action_stop(self) -> None:
        if self.running:
            self.cancel.set()
        elif self.query_one("#prompt", Input).has_focus:
            self.output.focus()
        else:
            self.focus_prompt()

    def action_toggle_probs(self) -> None:
        self.query_one(ProbabilityView).toggle_class("shown")

    def action_copy(self) -> None:
        text = self.output.text
        if not text:
            self.notify("nothing to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {len(text)} characters (OSC 52)")

    def _settings_changed(self) -> None:
        self.query_one(SamplerBar).show()

    def action_temperature(self, delta: float) -> None:
        self.settings.temperature = _clamp(self.settings.temperature + delta, 0.0, MAX_TEMPERATURE)
        self._settings_changed()

    def action_greedy(self) -> None:
        if self.settings.temperature > 0:
            self._warmer_temperature = self.settings.temperature
            self.settings.temperature = 0.0
        else:
            self.settings.temperature = self._warmer_temperature or 0.8
        self._settings_changed()

    def action_top_k(self, direction: int) -> None:
        self.settings.top_k = next_top_k(self.settings.top_k, direction)
        self._settings_changed()

    def action_top_p(self, delta: float) -> None:
        self.settings.top_p = _clamp(self.settings.top_p + delta, 0.05, 1.0)
        self._settings_changed()

    def action_min_p(self, delta: float) -> None:
        self.settings.min_p = _clamp(self.settings.min_p + delta, 0.0, 0.9)
        self._settings_changed()

    def action_repetition(self, delta: float) -> None:
        self.settings.repetition_penalty = _clamp(self.settings.repetition_penalty + delta, 1.0, 2.0)
        self._settings_changed()

    def action_new_seed(self) -> None:
        self.settings.seed = new_seed()
        self._settings_changed()
