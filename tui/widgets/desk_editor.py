"""The writing desk's document on screen: a TextArea whose every edit is also made to the Document
tree (core/text/desk/document.py), character for character.

The editor's text is the document's text with each character a terminal would obey shown as a
picture (one character for one, core/safe_text.py), so an offset means the same in both. What the writer types goes to the
tree through `edit`; what the tree changes by itself (a stream, an undo, a move to a sibling) comes
back through `show`, which replaces only the stretch that differs, so the cursor and the view stay
where the writer left them, and a cursor at the end of the text follows the stream.
"""
from __future__ import annotations

from bisect import bisect_right
from typing import Callable

from rich.style import Style
from rich.text import Text
from textual.document._edit import Edit

from core.safe_text import pictured, terminal_safe
from core.text.desk.document import Document
from textual.widgets import TextArea

from tui import keys
from tui.widgets.in_order import TextBox

# Python splits lines at these too: shown as a picture, never a line break the document does not have
_LINE_SEPARATORS = {0x2028: 0x2424, 0x2029: 0x2424}

# probability bands, from likely to unlikely: readable on dark and light themes in 256 colours
BANDS = ((0.5, Style(color="green")), (0.2, Style(color="yellow")), (0.05, Style(color="dark_orange")),
         (0.0, Style(color="red", bold=True)))
OVERLAP = Style(color="magenta", underline=True)
AT_CURSOR = Style(reverse=True)


def printable(text: str) -> str:
    """The document's text as the editor shows it: what a terminal would obey (a young model writes
    control characters and escapes) pictured one for one (core/safe_text.py), so offsets stay the same."""
    return pictured(text).translate(_LINE_SEPARATORS)


def typed(text: str) -> str:
    """What the writer types or pastes, as the document keeps it: line breaks as \\n (a lone CR too),
    nothing a terminal would obey (core/safe_text.py)."""
    return terminal_safe(text.replace("\r\n", "\n").replace("\r", "\n"))


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix, by halving (string comparison runs in C: a stream's
    append to a long text costs microseconds, not a loop over every character)."""
    if b.startswith(a):
        return len(a)
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def band(prob: float) -> Style:
    return next(style for floor, style in BANDS if prob >= floor)


class DeskEditor(TextBox, inherit_bindings=False):
    # undo and redo are the tree's (the pane's keys), not the TextArea's own
    BINDINGS = [b for b in TextArea.BINDINGS if b.action not in ("undo", "redo")] + keys.DESK_EDITOR

    def __init__(self, doc: Document, before_edit: Callable[[], None], after_edit: Callable[[], None], **kwargs):
        super().__init__(printable(doc.text), soft_wrap=True, tab_behavior="focus", max_checkpoints=1,
                         highlight_cursor_line=False, **kwargs)  # undo is the tree's, not the TextArea's
        self.cursor_blink = False  # a steady cursor: no repaint every half second over SSH
        self.doc = doc
        self.before_edit = before_edit
        self.after_edit = after_edit
        self.colours = False     # colour generated tokens by probability
        self.overlaps: list[tuple[int, int]] = []  # [start, end) found verbatim in the training text
        self.mark: tuple[int, int] | None = None   # the token whose alternatives are on show
        self._showing = False
        self._styles: list | None = None  # see _layers
        self._line_starts: list[int] | None = None

    # ----- the writer's edits -------------------------------------------------------------------
    def edit(self, edit: Edit) -> object:
        before = self.selection
        result = self._edit(edit)
        if self.selection != before:
            # TextArea scrolls to the moved cursor before it counts the lines the edit wrapped onto:
            # a line that grows past the bottom of the text would stay out of sight. Scroll again.
            self.scroll_cursor_visible()
        return result

    def _edit(self, edit: Edit) -> object:
        if self._showing:
            return super().edit(edit)
        edit.text = typed(edit.text)
        start = self.document.get_index_from_location(edit.top)
        end = self.document.get_index_from_location(edit.bottom)
        if start == end and not edit.text:
            return super().edit(edit)
        self.before_edit()
        result = super().edit(edit)
        self.doc.edit(start, end, edit.text)
        self.after_edit()
        return result

    # ----- changes made by the tree -------------------------------------------------------------
    def show(self, cursor: int | None = None) -> tuple[int, int]:
        """Bring the text on screen up to the document's, replacing only what differs; return where
        the new text differs, [start, stop). `cursor` moves the cursor there (an offset in the text)."""
        old, new = self.text, printable(self.doc.text)
        start = common_prefix(old, new)
        end = common_prefix(old[start:][::-1], new[start:][::-1])
        if old != new:
            doc = self.document
            self._showing = True
            try:
                self.edit(Edit(new[start:len(new) - end], doc.get_location_from_index(start),
                               doc.get_location_from_index(len(old) - end), True))
            finally:
                self._showing = False
        if cursor is not None:
            self.move_cursor(self.document.get_location_from_index(min(cursor, len(new))))
        return start, len(new) - end

    @property
    def offset(self) -> int:
        """The cursor as an offset in the text."""
        return self.document.get_index_from_location(self.cursor_location)

    def action_document_start(self) -> None:
        self.move_cursor((0, 0))

    def action_document_end(self) -> None:
        self.move_cursor(self.document.end)

    def on_resize(self) -> None:
        self.call_after_refresh(self.scroll_cursor_visible)

    # ----- colours ------------------------------------------------------------------------------
    def restyle(self) -> None:
        """Colours, overlaps or the marked token changed: draw the visible lines again."""
        self._styles = None
        self._line_cache.clear()
        self.refresh()

    def _build_highlight_map(self) -> None:
        super()._build_highlight_map()
        self._styles = None
        self._line_starts = None

    def _layers(self) -> list[tuple[list[int], list[tuple[int, int, Style]]]]:
        """Each layer's ranges, disjoint and in order, with their starts; later layers draw over earlier ones."""
        if self._styles is None:
            layers = []
            if self.colours:
                layers.append([(pos, pos + len(piece.text), band(piece.prob)) for pos, _, _, piece in self.doc.spans()
                               if piece.generated and piece.text])
            layers.append([(start, end, OVERLAP) for start, end in self.overlaps])
            if self.mark is not None:
                layers.append([(*self.mark, AT_CURSOR)])
            self._styles = [([r[0] for r in ranges], ranges) for ranges in layers if ranges]
        return self._styles

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        layers = self._layers()
        if not layers:
            return line
        if self._line_starts is None:
            starts, pos = [], 0
            for text in self.document.lines:
                starts.append(pos)
                pos += len(text) + 1
            self._line_starts = starts
        start = self._line_starts[line_index]
        end = start + len(line.plain)
        for starts, ranges in layers:
            for lo, hi, style in ranges[max(0, bisect_right(starts, start) - 1):]:
                if lo >= end:
                    break
                if hi > start:
                    line.stylize(style, max(lo, start) - start, min(hi, end) - start)
        return line
