"""The settings bar under the document: the sampler, the length, the seed, stop strings, banned
words and presets. Focus it with Tab; ←/→ pick a setting, ↑/↓ change it, Enter types a value.

It changes the pane's one SamplerSettings object in place, which a running generation reads at
every token, and the shared Preferences (stop strings, banned words, presets); after each change it
posts Changed, so the pane saves the preferences. Its fields wrap over as many rows as the width needs.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

from rich.text import Text
from textual.message import Message
from textual.widget import Widget

from core.text.desk.preferences import SHIPPED_PRESETS, Preferences
from core.text.sampling import MAX_TEMPERATURE, REPETITION_RANGE, SamplerSettings, new_seed
from tui import keys
from tui.widgets.dialogs import ListDialog, ValueDialog
from tui.widgets.in_order import KeysInOrder
from tui.widgets.probability_view import visible

TOP_K_STEPS = (1, 2, 3, 5, 10, 20, 40, 100, 200, 0)  # 0 = off, the widest
LENGTH_STEPS = (25, 50, 100, 200, 300, 500, 1000, 2000)
STOP_CHOICES = ([], ["\n\n"], ["\n"])  # what ↑/↓ step through: none, the end of a paragraph, of a line
FIELDS = ("preset", "temp", "top-k", "top-p", "min-p", "rep", "max", "seed", "stop", "ban")
SETTING = {"temp": "temperature", "top-k": "top_k", "top-p": "top_p", "min-p": "min_p", "rep": "repetition_penalty",
           "max": "max_new_tokens", "seed": "seed"}  # the SamplerSettings field of each numeric field
DEFAULTS = SamplerSettings()


def next_top_k(current: int, direction: int) -> int:
    """The next wider (direction > 0) or narrower step of TOP_K_STEPS from `current`."""
    width = lambda k: k if k else float("inf")  # noqa: E731 (0 = off is the widest)
    if direction > 0:
        return next((k for k in TOP_K_STEPS if width(k) > width(current)), 0)
    return next((k for k in reversed(TOP_K_STEPS) if width(k) < width(current)), TOP_K_STEPS[0])


def next_step(steps: tuple[int, ...], current: int, direction: int) -> int:
    if direction > 0:
        return next((s for s in steps if s > current), steps[-1])
    return next((s for s in reversed(steps) if s < current), steps[0])


def _clamp(value: float, low: float, high: float) -> float:
    return round(min(high, max(low, value)), 2)


def stops_label(stops: list[str]) -> str:
    if not stops:
        return "off"
    return ",".join("¶" if s == "\n\n" else visible(s, 8) for s in stops)


class SamplerBar(KeysInOrder, Widget, can_focus=True):
    BINDINGS = keys.SAMPLER_BAR
    COMPONENT_CLASSES = {"sampler-bar--selected"}

    class Changed(Message):
        def __init__(self, bar: "SamplerBar") -> None:
            super().__init__()
            self.bar = bar

    def __init__(self, settings: SamplerSettings, prefs: Preferences, **kwargs):
        super().__init__(**kwargs)
        self.settings = settings
        self.prefs = prefs
        self.selected = 1  # temperature
        self.last_seed: int | None = None
        self._warmer_temperature = settings.temperature or DEFAULTS.temperature  # restored when greedy goes off

    def show(self, last_seed: int | None = None) -> None:
        if last_seed is not None:
            self.last_seed = last_seed
        self.refresh(layout=True)

    # ----- what is shown ------------------------------------------------------------------------
    def fields(self) -> list[tuple[str, str, str]]:
        """(field, text, style) in order."""
        s = self.settings
        greedy = s.temperature == 0
        filters = "dim" if greedy else ""  # greedy ignores every filter but the repetition penalty
        if s.seed is not None:
            seed = f"seed {s.seed}"
        else:
            seed = f"seed auto·{self.last_seed}" if self.last_seed is not None else "seed auto"
        banned = self.prefs.banned
        return [
            ("preset", f"preset {self.prefs.preset_of(s) or 'custom'}", ""),
            ("temp", "temp 0 greedy" if greedy else f"temp {s.temperature:.2f}", "bold"),
            ("top-k", f"top-k {s.top_k or 'off'}", filters),
            ("top-p", f"top-p {s.top_p:.2f}" if s.top_p < 1 else "top-p off", filters),
            ("min-p", f"min-p {s.min_p:.2f}" if s.min_p > 0 else "min-p off", filters),
            ("rep", f"rep {s.repetition_penalty:.2f}" if s.repetition_penalty != 1 else "rep off", ""),
            ("max", f"max {s.max_new_tokens}", ""),
            ("seed", seed, ""),
            ("stop", f"stop {stops_label(self.prefs.stop)}", ""),
            ("ban", f"ban {len(banned)}" if banned else "ban off", ""),
        ]

    def _rows(self, width: int) -> list[list[int]]:
        rows: list[list[int]] = [[]]
        used = 0
        for i, (_, text, _) in enumerate(self.fields()):
            if rows[-1] and used + 2 + len(text) > width:
                rows.append([])
                used = 0
            used += len(text) + (2 if rows[-1] else 0)
            rows[-1].append(i)
        return rows

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._rows(width))

    def render(self) -> Text:
        fields = self.fields()
        selected = self.get_component_rich_style("sampler-bar--selected")
        out = Text(no_wrap=True, overflow="crop")
        for r, row in enumerate(self._rows(self.content_region.width)):
            if r:
                out.append("\n")
            for n, i in enumerate(row):
                if n:
                    out.append("  ")
                _, text, style = fields[i]
                out.append(text, selected if self.has_focus and i == self.selected else style)
        return out

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # ----- keys ---------------------------------------------------------------------------------
    def _changed(self) -> None:
        self.refresh(layout=True)
        self.post_message(self.Changed(self))

    def action_select(self, step: int) -> None:
        self.selected = (self.selected + step) % len(FIELDS)
        self.refresh()

    def action_change(self, direction: int) -> None:
        field = FIELDS[self.selected]
        if field == "preset":
            names = self.prefs.preset_names()
            current = self.prefs.preset_of(self.settings)
            at = names.index(current) + direction if current in names else (0 if direction > 0 else -1)
            self.prefs.apply_preset(names[at % len(names)], self.settings)
        elif field == "temp":
            return self.action_temperature(0.1 * direction)
        elif field == "top-k":
            return self.action_top_k(direction)
        elif field == "top-p":
            return self.action_top_p(0.05 * direction)
        elif field == "min-p":
            return self.action_min_p(0.05 * direction)
        elif field == "rep":
            return self.action_repetition(0.05 * direction)
        elif field == "max":
            self.settings.max_new_tokens = next_step(LENGTH_STEPS, self.settings.max_new_tokens, direction)
        elif field == "seed":
            return self.action_new_seed()
        elif field == "stop":
            at = STOP_CHOICES.index(self.prefs.stop) if self.prefs.stop in STOP_CHOICES else -direction
            self.prefs.stop = list(STOP_CHOICES[(at + direction) % len(STOP_CHOICES)])
        else:
            return self.action_edit()
        self._changed()

    def action_reset(self) -> None:
        field = FIELDS[self.selected]
        s = self.settings
        if field == "preset":
            name = self.prefs.preset_of(s)
            if name is None or name in SHIPPED_PRESETS:
                self.notify("only a preset you saved can be removed", severity="warning")
                return
            self.prefs.remove_preset(name)
        elif field in ("stop", "ban"):
            setattr(self.prefs, "stop" if field == "stop" else "banned", [])
        else:
            key = SETTING[field]
            setattr(s, key, getattr(DEFAULTS, key))
        self._changed()

    def action_edit(self) -> None:
        field = FIELDS[self.selected]
        if field == "preset":
            self.app.push_screen(ValueDialog("save as a preset", "A name for the sampler settings now in use:"),
                                 self._save_preset)
        elif field == "stop":
            self.app.push_screen(ListDialog("stop strings", "The model stops writing where one of these appears.",
                                            self.prefs.stop), lambda v: self._set_list("stop", v))
        elif field == "ban":
            self.app.push_screen(ListDialog("banned words", "Words or phrases the model may never write.",
                                            self.prefs.banned), lambda v: self._set_list("banned", v))
        else:
            key = SETTING[field]
            about = "A number; empty for a new random seed at each generation." if key == "seed" else "A number:"
            value = getattr(self.settings, key)
            self.app.push_screen(ValueDialog(field, about, "" if value is None else str(value)),
                                 lambda v: self._set_number(key, v))

    def _save_preset(self, name: str | None) -> None:
        if name is None:
            return
        try:
            self.prefs.save_preset(name, self.settings)
        except ValueError as e:
            self.notify(str(e), severity="error")
            return
        self.notify(f"saved preset '{name.strip()}'")
        self._changed()

    def _set_list(self, key: str, values: list[str] | None) -> None:
        if values is not None:
            setattr(self.prefs, key, values)
            self._changed()

    def _set_number(self, key: str, value: str | None) -> None:
        if value is None:
            return
        kind: Callable = float if key in ("temperature", "top_p", "min_p", "repetition_penalty") else int
        try:
            number = None if key == "seed" and not value.strip() else kind(value)
            replace(self.settings, **{key: number}).validate()
        except ValueError as e:
            self.notify(f"{key.replace('_', ' ')}: {e}", severity="error")
            return
        setattr(self.settings, key, number)
        self._changed()

    def action_temperature(self, delta: float) -> None:
        self.settings.temperature = _clamp(self.settings.temperature + delta, 0.0, MAX_TEMPERATURE)
        self._changed()

    def action_greedy(self) -> None:
        if self.settings.temperature > 0:
            self._warmer_temperature = self.settings.temperature
            self.settings.temperature = 0.0
        else:
            self.settings.temperature = self._warmer_temperature
        self._changed()

    def action_top_k(self, direction: int) -> None:
        self.settings.top_k = next_top_k(self.settings.top_k, direction)
        self._changed()

    def action_top_p(self, delta: float) -> None:
        self.settings.top_p = _clamp(self.settings.top_p + delta, 0.05, 1.0)
        self._changed()

    def action_min_p(self, delta: float) -> None:
        self.settings.min_p = _clamp(self.settings.min_p + delta, 0.0, 0.9)
        self._changed()

    def action_repetition(self, delta: float) -> None:
        self.settings.repetition_penalty = _clamp(self.settings.repetition_penalty + delta, *REPETITION_RANGE)
        self._changed()

    def action_new_seed(self) -> None:
        self.settings.seed = new_seed()
        self._changed()
