"""Siblings written in the background while the writer reads, so that a retry is instant.

When the text on show ends in a generation and nothing runs, the pane's Pregenerator waits a
moment, then writes COUNT more continuations of the same prompt with the same settings (each with
its own seed) together, as the rows of one batch (LanguageModel.siblings), in one thread worker. A retry whose prompt and
settings match takes the oldest finished one; anything else (another prompt, other settings, a
generation the writer asks for) cancels the worker or leaves its results unused. It yields to
the writer: it never starts while a generation runs, and every generation cancels it first.

With a pinned seed or greedy decoding every continuation would be the same text, so none is made.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from core.text.desk.document import GENERATED

if TYPE_CHECKING:
    from core.text.generate import Step
    from core.text.sampling import SamplerSettings
    from tui.panes.text_pane import TextPane

COUNT = 3
DELAY_SECONDS = 1.0  # after the last generation or move: the writer has started reading


class Pregenerator:
    def __init__(self, pane: TextPane):
        self.pane = pane
        self.key: tuple | None = None     # what the finished continuations continue, and how
        self.ready_steps: list[tuple[SamplerSettings, list[Step]]] = []
        self.cancel_event: threading.Event | None = None
        self._timer = None

    def _key(self) -> tuple | None:
        """The prompt and settings a retry of the text on show would use, if it can have siblings."""
        pane = self.pane
        node, settings = pane.doc.current, pane.settings
        if node.kind != GENERATED or settings.seed is not None or settings.temperature == 0:
            return None
        style = tuple(sorted((k, v) for k, v in settings.to_dict().items() if k != "seed"))
        return pane.picked, node.parent.id, style, tuple(pane.prefs.stop), tuple(pane.prefs.banned)

    def ready(self) -> int:
        """How many siblings a retry can take at once."""
        return len(self.ready_steps) if self.key is not None and self.key == self._key() else 0

    def take(self) -> tuple[SamplerSettings, list[Step]] | None:
        """The oldest finished sibling for a retry of the text on show, or None."""
        if not self.ready():
            return None
        return self.ready_steps.pop(0)

    def schedule(self) -> None:
        """Start (again) in DELAY_SECONDS, if there is then something to do."""
        if COUNT <= 0:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.pane.set_timer(DELAY_SECONDS, self._start)

    def cancel(self) -> None:
        if self.cancel_event is not None:
            self.cancel_event.set()
            self.cancel_event = None

    def _start(self) -> None:
        self._timer = None
        pane = self.pane
        key = self._key()
        if key is None or pane.running or pane.lm is None:
            return
        if key != self.key:
            self.cancel()
            self.key, self.ready_steps = key, []
        wanted = COUNT - len(self.ready_steps)
        if wanted <= 0 or self.cancel_event is not None:
            return
        self.cancel_event = cancel = threading.Event()
        settings = replace(pane.settings, seed=None)
        prompt = pane.doc.branch_text(pane.doc.current.parent)
        banned, stop = list(pane.prefs.banned), list(pane.prefs.stop)
        pane.run_worker(lambda: self._write(key, prompt, settings, wanted, cancel, banned, stop), thread=True,
                        group="pregenerate", exclusive=True)

    def _write(self, key, prompt: str, settings: SamplerSettings, count: int, cancel: threading.Event,
               banned: list[str], stop: list[str]) -> None:
        from core.text.sampling import new_seed

        pane = self.pane
        rows: list[list[Step]] = [[] for _ in range(count)]
        try:
            for row, step in pane.lm.siblings(prompt, settings, [new_seed() for _ in range(count)], cancel,
                                              stop=stop, banned=banned):
                rows[row].append(step)
                time.sleep(0)  # hand the interpreter to the UI thread between tokens: the writer comes first
        except Exception:  # a failing model is reported by the writer's own generation, not from the background
            return
        if not cancel.is_set():
            for steps in rows:
                pane.from_worker(self._arrived, key, settings, steps)
        pane.from_worker(self._done, cancel)

    def _arrived(self, key, settings: SamplerSettings, steps: list[Step]) -> None:
        if key == self.key and steps:
            self.ready_steps.append((settings, steps))
            self.pane.show_state()

    def _done(self, cancel: threading.Event) -> None:
        if self.cancel_event is cancel:
            self.cancel_event = None
