"""Soak: a thousand generations in one process must not grow its memory.

Marked slow, so the default run leaves it out; run it with `python -m pytest -m slow` (README: Tests).
"""
from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
import torch

from core.text.lm import LanguageModel
from core.text.sampling import SamplerSettings

pytestmark = pytest.mark.slow

PROMPTS = ["The sun", "We walked down", "", "“Have a drink,” said", "x\x1b]2;TITLE\x07y", "\u202eevil\u202c",
           "It was cold " * 40, "caf\udcff naïve"]


def test_a_thousand_generations_in_one_process(tiny_gpt, tiny_lstm, tiny_tokenizer, memory):
    cpu = torch.device("cpu")
    models = [LanguageModel("gpt", "gpt", tiny_gpt, tiny_tokenizer, cpu, Path("gpt")),
              LanguageModel("lstm", "lstm", tiny_lstm, tiny_tokenizer, cpu, Path("lstm"))]
    rng = random.Random(0)
    warm = 0.0
    for i in range(1000):
        settings = SamplerSettings(temperature=rng.choice([0, 0.7, 1.2]), top_k=rng.choice([0, 5, 40]),
                                   repetition_penalty=rng.choice([1.0, 1.3]), max_new_tokens=40, seed=i)
        steps = 0
        for step in models[i % 2].stream(rng.choice(PROMPTS), settings, threading.Event()):
            steps += 1
            if steps == 20:
                settings.temperature = 0.9  # a change mid-run, as a key press makes it
        assert steps == 40
        if i == 99:
            warm = memory.now()
    assert memory.growth("core", warm, 100, 1000) < memory.GROWTH_BAR
