"""Translate tab: an English line in, its French translation out, and where the model looked.

The translator loads in a thread worker the first time the tab is shown (torch
is imported there only, so the app paints at once); each translation runs in
another thread worker and reaches the screen with call_from_thread. A result
that arrives after a newer request has started is dropped. Enter translates,
up and down walk the sentences translated before, Ctrl+G switches between beam
search and greedy decoding.
"""
from __future__ import annotations

import time

from rich.text import Text
from textual import on, work
from textual.containers import Center, Middle, Vertical, VerticalScroll
from textual.widgets import Input, Static

from core.paths import TRANSLATOR_CHECKPOINT, checkpoint_dir
from tui import keys
from tui.panes.not_landed import NotLanded
from tui.panes.text_pane import TextPane
from tui.panes.worker_calls import WorkerCalls
from tui.widgets.attention_view import AttentionView

BEAM = 4
HINT = "Type an English sentence above and press Enter."


class TranslatePane(WorkerCalls, Vertical):
    TITLE = "Translate"
    TRAIN_COMMAND = "inkhorn train translator"
    BINDINGS = keys.TRANSLATE_PANE
    DEFAULT_CSS = """
    TranslatePane { height: 1fr; }
    TranslatePane #source { height: 3; }
    TranslatePane #translation { height: auto; min-height: 3; padding: 0 1; border: round $panel; }
    TranslatePane #attention-box { height: 1fr; padding: 0 1; border: round $panel; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.landed = (checkpoint_dir() / TRANSLATOR_CHECKPOINT).exists()
        self.state = "waiting" if self.landed else "missing"  # then loading, ready or failed
        self.status = "translator: no checkpoint" if not self.landed else ""
        self.translator = None        # core.translate.EnFrTranslator once loaded
        self.device_label = ""
        self.beam = BEAM
        self.history: list[str] = []
        self.history_pos = 0
        self.request = 0              # id of the newest translation asked for; older results are dropped
        self.pending: str | None = None  # asked for while the model was still loading
        self.result = None            # core.translate.Translation on show

    # ----- layout -------------------------------------------------------------------------------
    def compose(self):
        if not self.landed:
            with Middle(), Center():
                yield NotLanded(self.TITLE, [TRANSLATOR_CHECKPOINT], [self.TRAIN_COMMAND], classes="notice")
            return
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
        if self.state == "waiting":
            self.state = "loading"
            self._set_status("loading the translator…")
            self.query_one("#translation").loading = True
            self.call_after_refresh(self.load_model)

    def _set_status(self, status: str) -> None:
        self.status = status
        self.post_message(TextPane.StatusChanged(self))  # the app's status line shows any pane's status

    def _model_status(self, extra: str = "") -> str:
        params = self.translator.num_params()
        size = f"{params / 1e6:.1f}M" if params >= 1e5 else f"{params / 1e3:.0f}k"
        mode = f"beam {self.beam}" if self.beam > 1 else "greedy"
        status = f"{self.device_label} · en→fr · {size} params · {mode}"
        return f"{status} · {extra}" if extra else status

    # ----- loading ------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load")
    def load_model(self) -> None:
        from core.translate import load_translator

        self._load_in_worker(lambda device: load_translator(checkpoint_dir() / TRANSLATOR_CHECKPOINT, device),
                             self._loaded, self._load_failed)

    def _loaded(self, translator, device_label: str) -> None:
        self.translator, self.device_label, self.state = translator, device_label, "ready"
        self.query_one("#translation").loading = False
        self._set_status(self._model_status())
        if self.pending is not None:
            sentence, self.pending = self.pending, None
            self._start(sentence)

    def _load_failed(self, message: str) -> None:
        self.state = "failed"
        translation = self.query_one("#translation", Static)
        translation.loading = False
        translation.update(Text(f"Could not load the translator.\n\n{message}", style="bold red"))
        self._set_status("translator: not loaded")

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
        if self.state == "loading":
            self.pending = sentence
            self.notify("the translator is still loading; it translates this once it is ready")
            return
        if self.state != "ready":
            self.notify(self.status, severity="warning")
            return
        self._start(sentence)

    def _start(self, sentence: str) -> None:
        self.request += 1
        self._set_status(self._model_status("translating…"))
        self.run_translation(self.request, sentence, self.beam)

    @work(thread=True, exclusive=True, group="translate")
    def run_translation(self, request: int, sentence: str, beam: int) -> None:
        start = time.perf_counter()
        try:
            [result] = self.translator.translate([sentence], beam=beam)
        except Exception as e:  # report it, keep the app
            self._from_worker(self._translation_failed, request, f"{type(e).__name__}: {e}")
        else:
            self._from_worker(self._translated, request, result, time.perf_counter() - start)

    def _translated(self, request: int, result, seconds: float) -> None:
        if request != self.request:
            return
        self.result = result
        self.query_one("#translation", Static).update(Text(result.text or "(nothing)"))
        self.query_one(AttentionView).show(result)
        self._set_status(self._model_status(f"{seconds:.2f} s"))
        for note in result.notes:
            self.notify(note, title="input")

    def _translation_failed(self, request: int, message: str) -> None:
        if request == self.request:
            self._set_status(self._model_status("failed"))
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
        if self.state != "ready":
            return
        self._set_status(self._model_status())
        if self.result is not None and self.result.source.strip():
            self._start(self.result.source)

    def action_copy(self) -> None:
        if self.result is None or not self.result.text:
            self.notify("nothing to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(self.result.text)
        self.notify(f"copied {len(self.result.text)} characters (OSC 52)")
