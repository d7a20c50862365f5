"""Several continuations of one prompt, for a writer who may ask for another: the siblings of a
generation, made in the background so that a retry is instant.

Today they are made one after another with the model's ordinary stream; the rows of a batched
decoder can replace that loop without changing what callers see.
"""
from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING, Iterator, Sequence

from core.text.desk.controls import StopStrings

if TYPE_CHECKING:
    from core.text.generate import Step
    from core.text.lm import LanguageModel
    from core.text.sampling import SamplerSettings


def continuations(lm: LanguageModel, prompt: str, settings: SamplerSettings, k: int, cancel: threading.Event,
                  banned: Sequence[str] = (), stop: Sequence[str] = ()) -> Iterator[tuple[int, Step]]:
    """(continuation number 0..k-1, step) for `k` continuations of `prompt`, each in order, each with
    its own random seed and the rest of `settings` (a copy is taken: changing the settings later does
    not change these). A continuation ends at max_new_tokens or at the token that completes one of
    the `stop` strings; all end once `cancel` is set."""
    own = replace(settings, seed=None)
    for number in range(k):
        stops = StopStrings(stop)
        text = ""
        for step in lm.stream(prompt, own, cancel, banned=banned):
            yield number, step
            before, text = len(text), text + step.text
            if stops.find(text, before) is not None:
                break
        if cancel.is_set():
            return
