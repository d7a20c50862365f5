"""The text a model writes: the prompt in bold, the generated text after it; follows the end as it grows
(unless the user has scrolled up)."""
from __future__ import annotations

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

HINT = "Type a prompt above and press Enter."
# control characters (a young model writes them) shown as their Unicode pictures, never sent to the terminal
_PICTURES = {code: 0x2400 + code for code in range(32) if chr(code) not in "\n\t"} | {0x7F: 0x2421}


def printable(text: str) -> str:
    return text.translate(_PICTURES)


class OutputView(VerticalScroll, can_focus=True):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.prompt = ""
        self.generated = ""

    def compose(self):
        yield Static(Text(HINT, style="dim"), id="text")

    @property
    def text(self) -> str:
        return self.prompt + self.generated

    def start(self, prompt: str) -> None:
        self.prompt, self.generated = prompt, ""
        self._render_text()
        self.scroll_home(animate=False)

    def append(self, piece: str) -> None:
        if piece:
            following = self.scroll_y >= self.max_scroll_y  # not when the user has scrolled up to read
            self.generated += piece
            self._render_text()
            if following:
                self.call_after_refresh(self.scroll_end, animate=False)

    def show_message(self, message: str, style: str = "") -> None:
        self.query_one("#text", Static).update(Text(message, style=style))

    def _render_text(self) -> None:
        text = Text.assemble((printable(self.prompt), "bold"), printable(self.generated))
        self.query_one("#text", Static).update(text)
