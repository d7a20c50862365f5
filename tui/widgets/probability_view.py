"""Top candidates of the latest step with probability bars (the distribution after the sampler's filters)."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

BAR_WIDTH = 11
LABEL_WIDTH = 9
_EIGHTHS = " ▏▎▍▌▋▊▉█"
_VISIBLE = str.maketrans({" ": "·", "\n": "⏎", "\t": "⇥"})


def bar(prob: float, width: int = BAR_WIDTH) -> str:
    eighths = round(max(0.0, min(1.0, prob)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


def visible(piece: str, width: int = LABEL_WIDTH) -> str:
    """A token piece with its whitespace made visible, cut to `width`."""
    label = piece.translate(_VISIBLE) or "∅"
    return label if len(label) <= width else label[: width - 1] + "…"


class ProbabilityView(Static):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.step = None

    def on_mount(self) -> None:
        self.border_title = "next token"

    def show_step(self, step) -> None:
        """`step`: a core.generate.Step, or None to clear."""
        self.step = step
        self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.step is None:
            text.append("next-token candidates\nappear here while\ntext is generated", "dim")
            return text
        step = self.step
        text.append(f"token {step.index + 1}\n", "bold")
        for candidate in step.candidates:
            text.append(f"{visible(candidate.text):<{LABEL_WIDTH}} ")
            text.append(bar(candidate.prob), "green")
            text.append(f" {candidate.prob:4.0%}\n")
        drew = visible(step.text, 16) if step.text else "part of a character"
        text.append(f"\ndrew {drew}  p={step.prob:.2f}", "dim")
        return text
