"""Banned words and phrases in a model's stream and in its sibling continuations."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.text.lm import LanguageModel
from core.text.sampling import SamplerSettings


@pytest.fixture()
def lm(tiny_gpt, tiny_tokenizer):
    return LanguageModel("hemingway", "gpt", tiny_gpt, tiny_tokenizer, torch.device("cpu"), Path("tiny.safetensors"))


@pytest.fixture()
def greedy_first_word(lm, tiny_tokenizer):
    greedy = SamplerSettings(temperature=0.0, max_new_tokens=8)
    first = next(iter(lm.stream("The sun", greedy)))
    word = tiny_tokenizer.piece(first.token)
    assert word.strip()  # the greedy first token is a word the test can ban
    return first.token, word


def test_a_banned_word_is_never_written(lm, greedy_first_word):
    token, word = greedy_first_word
    banned = list(lm.stream("The sun", SamplerSettings(temperature=0.0, max_new_tokens=8), banned=[word.strip()]))
    assert banned[0].token != token
    assert all(c.text != word for c in banned[0].candidates)  # probability 0: not even an alternative


def test_no_sibling_row_writes_a_banned_word(lm, greedy_first_word):
    token, word = greedy_first_word
    settings = SamplerSettings(temperature=0.0, max_new_tokens=6)
    free = [step for row, step in lm.siblings("The sun", settings, seeds=[1, 2, 3]) if step.index == 0]
    assert [step.token for step in free] == [token] * 3  # greedy rows all take the word when it is allowed
    firsts = [step for row, step in lm.siblings("The sun", settings, seeds=[1, 2, 3], banned=[word.strip()])
              if step.index == 0]
    assert len(firsts) == 3 and all(step.token != token for step in firsts)
