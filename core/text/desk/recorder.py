"""Writes the steps of a running generation into its node: one piece per token with its probability
and alternatives, the seed and every mid-run settings change, and the end at a stop string."""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.text.desk.controls import StopStrings
from core.text.desk.document import Node, Piece

if TYPE_CHECKING:
    from core.text.generate import Step
    from core.text.sampling import SamplerSettings


class Recorder:
    """Feed it each Step of core.text.generate.stream for `node` (made by Document.start_generation),
    then call finish. The stop strings are those of the node's generation record. The settings
    object is the live one the generation reads, so a change made while it runs is recorded from
    the token at which it is first seen."""

    def __init__(self, node: Node, settings: SamplerSettings):
        if node.generation is None:
            raise ValueError("the node has no generation record")
        self.node = node
        self.settings = settings
        self.stops = StopStrings(node.generation.stop)
        self.stopped = False
        self._last: dict | None = None
        self._length = len(node.text)

    def _settings(self, seed: int, settings: dict | None) -> dict:
        settings = dict(settings) if settings is not None else self.settings.to_dict()
        settings["seed"] = seed  # the seed in use, also when the settings ask for a random one
        return settings

    def add(self, step: Step, settings: dict | None = None) -> bool:
        """Append the step's token; False once a stop string has ended the text (it is cut off).
        `settings` (SamplerSettings.to_dict()) are those the step was drawn with, for a caller that
        reads them where the generation runs and hands the steps over later, in batches; by default
        they are read from the settings object now."""
        if self.stopped:
            return False
        generation = self.node.generation
        settings = self._settings(step.seed, settings)
        if self._last is None:
            generation.settings = settings
        elif settings != self._last:
            generation.changes.append((step.index, settings))
        self._last = settings
        alternatives = tuple((c.text, c.prob) for c in step.candidates)
        self.node.pieces.append(Piece(step.text, step.prob, alternatives))
        before, self._length = self._length, self._length + len(step.text)
        cut = self.stops.find(self.node.text, before)
        if cut is not None:
            self._cut(cut)
            self.stopped = True
        return not self.stopped

    def _cut(self, length: int) -> None:
        pieces, pos = [], 0
        for piece in self.node.pieces:
            if pos >= length:
                break
            keep = piece.text[:length - pos]
            pieces.append(piece if keep == piece.text else Piece(keep, piece.prob, piece.alternatives))
            pos += len(piece.text)
        self.node.pieces = pieces
        self._length = length

    def finish(self, cancelled: bool = False) -> None:
        self.node.generation.ended = "stop" if self.stopped else "cancelled" if cancelled else "length"
