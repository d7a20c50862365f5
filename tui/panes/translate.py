"""Translate tab: English text in (a sentence, a paragraph, several lines), French out, and where the model looked.

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
from textual.widgets import Static

from core.safe_text import terminal_safe
from tui import keys
from tui.panes.base import ModelPane, ModelState
from tui.widgets.attention_view import AttentionView
from tui.widgets.source_area import SourceArea

BEAM = 4
MAX_HISTORY = 200  # texts the arrows walk back through; older ones go, so a long session stays small
HINT = "Type or paste English above and press Enter (Ctrl+J for a new line)."


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
        self.warned: str | None = None   # the text last warned about as not English: Enter again translates it
        self.result = None            # core.translate.translator.Translation on show

    @property
    def translator(self):
        """The loaded core.translate.translator.EnFrTranslator, or None."""
        return self.models.get(self.MODELS[0])

    # ----- layout -------------------------------------------------------------------------------
    def compose_pane(self):
        yield SourceArea(id="source")
        yield Static(Text(HINT, style="dim"), id="translation")
        with VerticalScroll(id="attention-box"):
            yield AttentionView(id="attention")

    def on_mount(self) -> None:
        if self.landed:
            self.query_one("#translation").border_title = "French"
            self.query_one("#attention-box").border_title = "Cross-attention"

    def focus_prompt(self) -> None:
        if self.landed:
            self.query_one("#source", SourceArea).focus()

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
    @on(SourceArea.Submitted, "#source")
    def _submitted(self, event: SourceArea.Submitted) -> None:
        event.stop()
        self.action_translate()

    def action_newline(self) -> None:
        self.query_one("#source", SourceArea).insert("\n")

    def action_translate(self) -> None:
        sentence = self.query_one("#source", SourceArea).text
        if not sentence.strip():
            self.notify("type some English first", severity="warning")
            return
        if not self.history or self.history[-1] != sentence:
            self.history.append(sentence)
            del self.history[:-MAX_HISTORY]
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
        check = sentence != self.warned  # Enter again on the text warned about: translate it anyway
        self.warned = None
        self.run_translation(self.request, sentence, self.beam, check)

    @work(thread=True, exclusive=True, group="translate")
    def run_translation(self, request: int, sentence: str, beam: int, check_language: bool) -> None:
        from core.translate.language import language_warning

        start = time.perf_counter()
        try:
            warning = language_warning(sentence) if check_language else None
            if warning is not None:
                self.from_worker(self._not_english, request, sentence, warning)
                return
            [result] = self.translator.translate([sentence], beam=beam)
        except Exception as e:  # report it, keep the app
            self.from_worker(self._translation_failed, request, f"{type(e).__name__}: {e}")
        else:
            self.from_worker(self._translated, request, result, time.perf_counter() - start)

    def _not_english(self, request: int, sentence: str, warning: str) -> None:
        if request != self.request:
            return
        self.warned = sentence
        message = f"{warning[:1].upper()}{warning[1:]}. Press Enter again to translate it anyway."
        self.query_one("#translation", Static).update(Text(terminal_safe(message), style="bold yellow"))
        self.set_status(self._model_status("not English?"))
        self.notify(message, title="input", severity="warning")

    def _translated(self, request: int, result, seconds: float) -> None:
        if request != self.request:
            return
        self.result = result
        self.query_one("#translation", Static).update(Text(terminal_safe(result.text) or "(nothing)"))
        self.query_one(AttentionView).show(result)
        self.set_status(self._model_status(f"{seconds:.2f} s"))
        for note in result.notes:
            self.notify(note, title="input")

    def _translation_failed(self, request: int, message: str) -> None:
        if request == self.request:
            self.set_status(self._model_status("failed"))
            self.notify(message, title="translation failed", severity="error")

    # ----- keys ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "history":  # the arrows belong to whatever else has focus
            return self.landed and self.query_one("#source", SourceArea).has_focus
        return True

    def action_history(self, direction: int) -> None:
        source = self.query_one("#source", SourceArea)
        first, last = source.on_edge
        if not (first if direction < 0 else last):  # inside the text: the arrow moves the cursor
            source.action_cursor_up() if direction < 0 else source.action_cursor_down()
            return
        if not self.history:
            return
        self.history_pos = min(len(self.history), max(0, self.history_pos + direction))
        source.show(self.history[self.history_pos] if self.history_pos < len(self.history) else "")

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
