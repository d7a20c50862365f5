"""The always-visible row of sampler settings; the pane mutates the settings and calls show()."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from core.text.sampling import SamplerSettings


class SamplerBar(Static):
    def __init__(self, settings: SamplerSettings, **kwargs):
        super().__init__(**kwargs)
        self.settings = settings
        self.last_seed: int | None = None

    def show(self, last_seed: int | None = None) -> None:
        if last_seed is not None:
            self.last_seed = last_seed
        self.refresh()

    def render(self) -> Text:
        s = self.settings
        greedy = s.temperature == 0
        filters = "dim" if greedy else ""  # greedy ignores every filter but the repetition penalty
        if s.seed is not None:
            seed = f"seed {s.seed}"
        elif self.last_seed is not None:
            seed = f"seed auto·{self.last_seed}"
        else:
            seed = "seed auto"
        parts = [
            ("temp 0 greedy" if greedy else f"temp {s.temperature:.2f}", "bold"),
            (f"top-k {s.top_k or 'off'}", filters),
            (f"top-p {s.top_p:.2f}" if s.top_p < 1 else "top-p off", filters),
            (f"min-p {s.min_p:.2f}" if s.min_p > 0 else "min-p off", filters),
            (f"rep {s.repetition_penalty:.2f}" if s.repetition_penalty != 1 else "rep off", ""),
            (seed, ""),
        ]
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, (part, style) in enumerate(parts):
            if i:
                text.append("  ")
            text.append(part, style)
        return text
