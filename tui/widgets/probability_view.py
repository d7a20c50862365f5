"""The token at the cursor (or the newest one while text streams): its probability and the other
tokens the model considered at that step, with probability bars (after the sampler's filters)."""
from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Static

from core.safe_text import pictured
from core.text.desk.document import Piece

BAR_WIDTH = 11
LABEL_WIDTH = 9
_EIGHTHS = " ▏▎▍▌▋▊▉█"
_VISIBLE = str.maketrans({" ": "·", "\n": "⏎", "\t": "⇥"})
_BYTE = re.compile(r"<0x[0-9A-F]{2}>")


def bar(prob: float, width: int = BAR_WIDTH) -> str:
    eighths = round(max(0.0, min(1.0, prob)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


def visible(piece: str, width: int = LABEL_WIDTH) -> str:
    """A token piece with its whitespace made visible, cut to `width`."""
    label = pictured(piece).translate(_VISIBLE) or "∅"
    return label if len(label) <= width else label[: width - 1] + "…"


def choices(piece: Piece) -> list[int]:
    """Indexes of the alternatives a writer may take instead of `piece`: not the token already
    there, not a lone byte of a character (<0xE2>), which is no text of its own."""
    return [i for i, (text, _) in enumerate(piece.alternatives) if text != piece.text and not _BYTE.fullmatch(text)]


class ProbabilityView(Static):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.piece: Piece | None = None

    def on_mount(self) -> None:
        self.border_title = "token at the cursor"

    def show_piece(self, piece: Piece | None) -> None:
        """`piece`: the token at the cursor, or None when the cursor is on no text."""
        if piece is not self.piece:
            self.piece = piece
            self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        piece = self.piece
        if piece is None:
            text.append("Put the cursor on text\nthe model wrote to see\nthe words it weighed.", "dim")
            return text
        if not piece.generated:
            text.append("You wrote this:\nthe model weighed no\nother words here.", "dim")
            return text
        text.append(f"{visible(piece.text, 16)}  p={piece.prob:.2f}\n", "bold")
        offered = {piece.alternatives[i][0] for i in choices(piece)}
        for candidate, prob in piece.alternatives:
            style = "bold" if candidate == piece.text else "" if candidate in offered else "dim"  # a lone byte: dim
            text.append(f"{visible(candidate):<{LABEL_WIDTH}} ", style)
            text.append(bar(prob), "green")
            text.append(f" {prob:4.0%}\n")
        text.append("\n^o takes another" if choices(piece) else "\nno other word to take", "dim")
        return text
