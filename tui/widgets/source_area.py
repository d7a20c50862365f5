"""The Translate pane's input: a TextArea of several lines where Enter sends the text.

Shift+Enter (where the terminal tells it from Enter) or Ctrl+J starts a new
line; pasted text keeps every line. (Up on the first line and Down on the last
walk through the texts translated before: the pane's history keys.)
"""
from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = ("shift+enter", "ctrl+j")


class SourceArea(TextArea):
    class Submitted(Message):
        def __init__(self, area: "SourceArea") -> None:
            super().__init__()
            self.area, self.text = area, area.text

        @property
        def control(self) -> "SourceArea":
            return self.area


    def __init__(self, **kwargs):
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)

    @property
    def on_edge(self) -> tuple[bool, bool]:
        """(the cursor is on the first line, the cursor is on the last line)."""
        row = self.cursor_location[0]
        return row == 0, row == self.document.line_count - 1

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            self.post_message(self.Submitted(self))
        elif event.key in NEWLINE_KEYS:
            self.insert("\n")
        else:
            await super()._on_key(event)
            return
        event.stop()
        event.prevent_default()

    def show(self, text: str) -> None:
        """Replace the text, cursor at its end."""
        self.load_text(text)
        self.move_cursor(self.document.end)
