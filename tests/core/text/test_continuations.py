"""Several continuations of one prompt (the desk's background siblings) and banned phrases in a model's stream."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from core.text.continuations import continuations
from core.text.desk.controls import StopStrings
from core.text.lm import LanguageModel
from core.text.sampling import SamplerSettings


@pytest.fixture()
def lm(tiny_gpt, tiny_tokenizer):
    return LanguageModel("hemingway", "gpt", tiny_gpt, tiny_tokenizer, torch.device("cpu"), Path("tiny.safetensors"))


def by_number(pairs) -> dict[int, list]:
    out: dict[int, list] = {}
    for number, step in pairs:
        out.setdefault(number, []).append(step)
    return out


def test_k_continuations_come_in_order_each_with_its_own_seed(lm):
    settings = SamplerSettings(temperature=1.0, max_new_tokens=12, seed=5)
    pairs = list(continuations(lm, "The sun", settings, 3, threading.Event()))
    assert [number for number, _ in pairs] == [0] * 12 + [1] * 12 + [2] * 12
    runs = by_number(pairs)
    seeds = [{step.seed for step in steps} for steps in runs.values()]
    assert all(len(s) == 1 for s in seeds) and len(set().union(*seeds)) == 3  # the pinned 5 is not reused
    assert settings.seed == 5  # the caller's settings are left as they were


def test_a_continuation_ends_at_its_stop_string(lm):
    settings = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=60)
    runs = by_number(continuations(lm, "The sun", settings, 4, threading.Event(), stop=["e"]))
    assert len(runs) == 4
    stops = StopStrings(["e"])
    for steps in runs.values():
        text = "".join(step.text for step in steps)
        before = "".join(step.text for step in steps[:-1])
        assert stops.find(before) is None  # nothing was generated past the stop string
        assert "e" in text or len(steps) == 60


def test_cancel_ends_every_continuation(lm):
    cancel = threading.Event()
    got = []
    for number, step in continuations(lm, "The", SamplerSettings(max_new_tokens=50), 3, cancel):
        got.append(number)
        if len(got) == 5:
            cancel.set()
    assert got == [0] * 5


def test_a_banned_word_is_never_written(lm, tiny_tokenizer):
    greedy = SamplerSettings(temperature=0.0, max_new_tokens=8)
    first = next(iter(lm.stream("The sun", greedy)))
    word = tiny_tokenizer.piece(first.token)
    assert word.strip()  # the greedy first token is a word the test can ban
    banned = list(lm.stream("The sun", greedy, banned=[word.strip()]))
    assert banned[0].token != first.token
    assert all(c.text != word for c in banned[0].candidates)  # probability 0: not even an alternative
