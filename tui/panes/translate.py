"""Translate tab: an English line in, its French translation out, and where the model looked.

The translator loads the first time the tab is shown (tui/panes/base.py); each
translation runs in a thread worker and reaches the screen with call_from_thread. A result
that arrives after a newer request has started is dropped. Enter translates,
up and down walk the sentences translated before, Ctrl+G switches between beam
search and greedy decoding.
"""
from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from tui import keys
from tui.panes.base import ModelPane, ModelState
from tui.widgets.attention_view import AttentionView

BEAM = 4
HINT = "Type an English sentence above and press Enter."


class TranslatePane(ModelPane):
    MODELS = ("en-fr",)
    BINDINGS = keys.TRANSLATE_PANE

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.beam = BEAM
        self.history: list[str] = []
        self.history_pos = 0
        self.request = 0              # id of the newest translation asked for; older results are dropped
        self.pending: str | None = None  # asked for while the model was still loading
        self.result = None            # core.translate.translator.Translation on show

    @property
    def translator(self):
        """The loaded core.translate.translator.EnFrTranslator, or None."""
        return self.models.get(self.MODELS[0])

    # ----- layout -------------------------------------------------------------------------------
    def compose_pane(self):
        yield Input(placeholder="English sentence (Enter translates, ↑↓ history)", id="source")
        yield Static(Text(HINT, style="dim"), id="translation")
        with VerticalScroll(id="attention-box"):
            yield AttentionView(id="attention")

    def on_mount(self) -> None:
        if self.landed:
            self.query_one("#translation").border_title = "French"
            self.query_one("#attention-box").border_title = "Cross-attention"

    def focus_prompt(self) -> None:
        if self.landed:
            self.query_one("#source", Input).focus()

    def on_show(self) -> None:
        if self.landed:
            self.load(self.MODELS[0])

    def _model_status(self, extra: str = "") -> str:
        mode = f"beam {self.beam}" if self.beam > 1 else "greedy"
        return self.model_status(f"en→fr · {mode}", self.translator.num_params(), extra)

    # ----- loading ------------------------------------------------------------------------------
    def build(self, name: str, device):
        from core.translate.translator import load_translator

        return load_translator(name, device)

    def model_loading(self, name: str) -> None:
        self.query_one("#translation").loading = True

    def model_ready(self, name: str) -> None:
        self.query_one("#translation").loading = False
        self.set_status(self._model_status())
        if self.pending is not None:
            sentence, self.pending = self.pending, None
            self._start(sentence)

    def model_failed(self, name: str) -> None:
        translation = self.query_one("#translation", Static)
        translation.loading = False
        translation.update(Text(f"Could not load the translator.\n\n{self.errors[name]}", style="bold red"))
        self.set_status("translator: not loaded")

    # ----- translating --------------------------------------------------------------------------
    @on(Input.Submitted, "#source")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_translate()

    def action_translate(self) -> None:
        sentence = self.query_one("#source", Input).value
        if not sentence.strip():
            self.notify("type an English sentence first", severity="warning")
            return
        if not self.history or self.history[-1] != sentence:
            self.history.append(sentence)
        self.history_pos = len(self.history)
        if self.state is ModelState.LOADING:
            self.pending = sentence
            self.notify("the translator is still loading; it translates this once it is ready")
            return
        if self.state is not ModelState.READY:
            self.notify(self.status, severity="warning")
            return
        self._start(sentence)

    def _start(self, sentence: str) -> None:
        self.request += 1
        self.set_status(self._model_status("translating…"))
        self.run_translation(self.request, sentence, self.beam)

    @work(thread=True, exclusive=True, group="translate")
    def run_translation(self, request: int, sentence: str, beam: int) -> None:
        start = time.perf_counter()
        try:
            [result] = self.translator.translate([sentence], beam=beam)
        except Exception as e:  # report it, keep the app
            self.from_worker(self._translation_failed, request, f"{type(e).__name__}: {e}")
        else:
            self.from_worker(self._translated, request, result, time.perf_counter() - start)

    def _translated(self, request: int, result, seconds: float) -> None:
        if request != self.request:
            return
        self.result = result
        self.query_one("#translation", Static).update(Text(result.text or "(nothing)"))
        self.query_one(AttentionView).show(result)
        self.set_status(self._model_status(f"{seconds:.2f} s"))
        for note in result.notes:
            self.notify(note, title="input")

    def _translation_failed(self, request: int, message: str) -> None:
        if request == self.request:
            self.set_status(self._model_status("failed"))
            self.notify(message, title="translation failed", severity="error")

    # ----- keys ---------------------------------------------------------------------------------
    def action_history(self, direction: int) -> None:
        if not self.history:
            return
        self.history_pos = min(len(self.history), max(0, self.history_pos + direction))
        source = self.query_one("#source", Input)
        source.value = self.history[self.history_pos] if self.history_pos < len(self.history) else ""
        source.cursor_position = len(source.value)

    def action_toggle_beam(self) -> None:
        self.beam = 1 if self.beam > 1 else BEAM
        if self.state is not ModelState.READY:
            return
        self.set_status(self._model_status())
        if self.result is not None and self.result.source.strip():
            self._start(self.result.source)

    def action_copy(self) -> None:
        if self.result is None or not self.result.text:
            self.notify("nothing to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(self.result.text)
        self.notify(f"copied {len(self.result.text)} characters (OSC 52)")
