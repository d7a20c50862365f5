"""A studio session saved as Markdown: prompts, outputs, sampler settings and seeds.

No UI and no torch here: the app records each generation as it ends and
writes the whole session on request. A save never overwrites an earlier one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core.catalog import output_dir
from core.files import write_new

SETTING_LABELS = {
    "temperature": "temperature",
    "top_k": "top-k",
    "top_p": "top-p",
    "min_p": "min-p",
    "repetition_penalty": "repetition penalty",
    "max_new_tokens": "max new tokens",
}


@dataclass
class Generation:
    model: str
    prompt: str                 # what the model was asked to go on from
    output: str                 # the new text only
    continued: bool             # True: the prompt is the whole text so far, not a typed prompt
    settings: dict              # SamplerSettings.to_dict() when the generation started
    settings_after: dict        # ... and when it ended (keys can change them mid-run)
    seeds: list[int]            # every seed used, in order (a key press can re-seed mid-run)
    tokens: int = 0
    tokens_per_second: float = 0.0
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)


MAX_GENERATIONS = 100  # kept in memory: a continued text repeats the whole text so far in its prompt


@dataclass
class Session:
    started: datetime = field(default_factory=datetime.now)
    generations: list[Generation] = field(default_factory=list)  # the latest MAX_GENERATIONS
    dropped: int = 0            # earlier generations let go, so that a long session stays small

    def add(self, generation: Generation) -> None:
        self.generations.append(generation)
        if len(self.generations) > MAX_GENERATIONS:
            self.dropped += len(self.generations) - MAX_GENERATIONS
            del self.generations[:-MAX_GENERATIONS]


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _block(text: str) -> str:
    fence = _fence(text)
    return f"{fence}text\n{text}\n{fence}"


def _settings_line(settings: dict) -> str:
    parts = []
    for key, label in SETTING_LABELS.items():
        value = settings.get(key)
        if key == "temperature" and value == 0:
            parts.append("temperature 0 (greedy)")
        else:
            parts.append(f"{label} {value:g}" if isinstance(value, float) else f"{label} {value}")
    return " · ".join(parts)


def _changes(before: dict, after: dict) -> str:
    changed = [f"{SETTING_LABELS.get(k, k)} {before[k]} → {after[k]}" for k in SETTING_LABELS
               if before.get(k) != after.get(k)]
    return ", ".join(changed)


def to_markdown(session: Session) -> str:
    lines = [f"# Inkhorn session {session.started:%Y-%m-%d %H:%M}", ""]
    if session.dropped:
        lines += [f"The {session.dropped} earliest generations are not kept: a session holds the latest "
                  f"{MAX_GENERATIONS}.", ""]
    for number, g in enumerate(session.generations, session.dropped + 1):
        how = "continued" if g.continued else "new"
        lines += [f"## {number}. {g.model} — {how}", ""]
        seeds = ", ".join(str(s) for s in g.seeds) or "none"
        lines.append(f"- seed{'s' if len(g.seeds) > 1 else ''}: {seeds}")
        lines.append(f"- settings: {_settings_line(g.settings)}")
        if changes := _changes(g.settings, g.settings_after):
            lines.append(f"- changed while generating: {changes}")
        stopped = " (stopped early)" if g.cancelled else ""
        lines.append(f"- {g.tokens} tokens at {g.tokens_per_second:.1f} tokens/s{stopped}")
        lines += [f"- note: {note}" for note in g.notes]
        lines += ["", "**Prompt**", "", _block(g.prompt), "", "**Output**", "", _block(g.output), ""]
    return "\n".join(lines)


def save_session(session: Session, folder: Path | None = None) -> Path:
    """Write `session` as Markdown into `folder` (default: output_dir()) under a new name; return the path."""
    folder = folder if folder is not None else output_dir()
    return write_new(folder, f"session-{datetime.now():%Y%m%d-%H%M%S}", ".md", to_markdown(session))
