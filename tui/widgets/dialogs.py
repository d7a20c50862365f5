"""Small keyboard dialogs of the desk: take another word, pick a model, type a value, write a list.
Each is a ModalScreen that dismisses with the answer, or None when closed with Esc."""
from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from core.safe_text import pictured
from core.text.desk.document import Piece
from tui import keys
from tui.widgets.probability_view import bar, choices, visible
from tui.widgets.in_order import TextBox

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\"}


def escape(text: str) -> str:
    """One list entry as one line: a line break written as \\n, a tab as \\t."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def unescape(line: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), line)


class Dialog(ModalScreen):
    BINDINGS = keys.DIALOG

    def __init__(self, title: str, about: str = ""):
        super().__init__()
        self.title_text, self.about = title, about

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as box:
            box.border_title = Text(self.title_text)  # not markup: it may hold a token or a name
            box.border_subtitle = "esc closes"
            if self.about:
                yield Static(self.about, classes="about")
            yield from self.body()

    def body(self) -> ComposeResult:
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)


class WordsDialog(Dialog):
    """The alternatives of a generated token: dismisses with the index of the one taken."""

    def __init__(self, piece: Piece):
        super().__init__(f"instead of {visible(piece.text, 20)}", "The text branches here and goes on from the word.")
        self.piece = piece
        self.indexes = choices(piece)

    def body(self) -> ComposeResult:
        options = []
        for i in self.indexes:
            text, prob = self.piece.alternatives[i]
            options.append(Option(Text.assemble(f"{visible(text, 16):<17}", (bar(prob), "green"), f" {prob:4.0%}")))
        yield OptionList(*options, id="words")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.indexes[event.option_index])


SOURCES = {"shipped": "shipped", "run": "your run", "gpt2": "GPT-2 folder", "hf-cache": "HF cache"}


class ModelDialog(Dialog):
    """The text models to write with (core.text.choices): dismisses with the one picked. One that
    cannot load is listed, dimmed, with the reason, and cannot be picked."""

    def __init__(self, models: list, current: str):
        super().__init__("the model that writes", "Shipped models, your runs under runs/, GPT-2 folders "
                         "(--gpt2, $INKHORN_GPT2, the Hugging Face cache). Enter loads it.")
        self.models, self.current = models, current

    def body(self) -> ComposeResult:
        options = []
        for m in self.models:
            line = Text.assemble(("▶ " if m.spec == self.current else "  "), (pictured(m.name), "bold"),
                                 f"  {SOURCES[m.source]}\n    ", (pictured(m.problem or m.detail), "dim"))
            options.append(Option(line, disabled=m.problem is not None))
        yield OptionList(*options, id="models")

    def on_mount(self) -> None:
        picks = self.query_one("#models", OptionList)
        picks.highlighted = next((i for i, m in enumerate(self.models) if m.spec == self.current), 0)
        self.set_focus(picks)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.models[event.option_index])


class ValueDialog(Dialog):
    """One line of text: dismisses with what was typed (Enter). A one-line TextBox, not an Input,
    which loses keys that reach it in one burst (see tui/widgets/in_order.py)."""

    BINDINGS = keys.VALUE_DIALOG

    def __init__(self, title: str, about: str, value: str = ""):
        super().__init__(title, about + " Enter keeps it.")
        self.value = value

    def body(self) -> ComposeResult:
        yield TextBox(self.value, id="value", soft_wrap=False)

    def on_mount(self) -> None:
        area = self.query_one("#value", TextBox)
        area.move_cursor(area.document.end)
        self.set_focus(area)

    def action_keep(self) -> None:
        self.dismiss(self.query_one("#value", TextBox).text.replace("\n", ""))


class ListDialog(Dialog):
    """Strings, one per line (a line break inside one written \\n): dismisses with the list (Ctrl+S)."""

    BINDINGS = keys.LIST_DIALOG

    def __init__(self, title: str, about: str, values: list[str]):
        super().__init__(title, about + " One per line, a line break written \\n; ctrl+s keeps them.")
        self.values = values

    def body(self) -> ComposeResult:
        yield TextBox("\n".join(escape(v) for v in self.values), id="values", soft_wrap=False)

    def action_keep(self) -> None:
        lines = self.query_one("#values", TextBox).text.split("\n")
        self.dismiss([unescape(line) for line in lines if line])
