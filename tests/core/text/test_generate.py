import threading

import pytest
import torch

from core.text.generate import (
    GenerationStats,
    GPTDecoder,
    clean_prompt,
    generate_text,
    stream,
)
from core.text.sampling import SamplerSettings


def settings(**kw):
    base = dict(temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=20, seed=7)
    return SamplerSettings(**{**base, **kw})


def test_stream_yields_tokens_text_and_candidates(tiny_gpt, tiny_tokenizer):
    steps = list(stream(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "The sun", settings(),
                        context=32))
    assert len(steps) == 20
    assert [s.index for s in steps] == list(range(20))
    text = "".join(s.text for s in steps)
    assert text == tiny_tokenizer.decode([s.token for s in steps])
    for s in steps:
        probs = [c.prob for c in s.candidates]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
        assert 0 < s.prob <= 1


def test_fixed_seed_reproduces_text(tiny_gpt, tiny_tokenizer):
    dec = lambda: GPTDecoder(tiny_gpt, torch.device("cpu"))  # noqa: E731
    a = generate_text(dec(), tiny_tokenizer, "We walked", settings(seed=11), context=32)
    b = generate_text(dec(), tiny_tokenizer, "We walked", settings(seed=11), context=32)
    c = generate_text(dec(), tiny_tokenizer, "We walked", settings(seed=12), context=32)
    assert a == b and a != c


def test_seed_used_is_reported(tiny_gpt, tiny_tokenizer):
    stats = GenerationStats()
    generate_text(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "x", settings(seed=None), stats=stats,
                  context=32)
    again = GenerationStats()
    a = generate_text(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "x", settings(seed=stats.seed),
                      stats=again, context=32)
    assert isinstance(stats.seed, int) and again.seed == stats.seed
    assert a == generate_text(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "x",
                              settings(seed=stats.seed), context=32)


def test_generation_slides_past_the_context(tiny_gpt, tiny_tokenizer):
    # the tiny model has a 32-token context; ask for far more, from a prompt longer than the context
    prompt = "We walked down the road in the rain. " * 20
    stats = GenerationStats()
    steps = list(stream(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, prompt,
                        settings(max_new_tokens=100), stats=stats, context=32))
    assert len(steps) == 100 and stats.tokens == 100


def test_sliding_decoder_matches_a_fresh_read_of_the_window(tiny_gpt, tiny_tokenizer):
    dec = GPTDecoder(tiny_gpt, torch.device("cpu"))
    ids = tiny_tokenizer.encode("The old man and the sea. " * 10)[:32]
    dec.prefill(ids)
    logits = dec.advance(5)  # overflow: re-read the last half-context
    window = (ids + [5])[-16:]
    expected = tiny_gpt(torch.tensor([window]))[0][0, -1]
    assert torch.allclose(logits, expected, atol=1e-5)


def test_cancel_stops_the_stream(tiny_gpt, tiny_tokenizer):
    cancel, stats = threading.Event(), GenerationStats()
    got = 0
    for _ in stream(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "The", settings(max_new_tokens=200),
                    cancel, stats, context=32):
        got += 1
        if got == 5:
            cancel.set()
    assert got == 5 and stats.cancelled


def test_settings_are_read_every_step(tiny_gpt, tiny_tokenizer):
    s = settings(max_new_tokens=50)
    steps = stream(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "The", s, context=32)
    for i, step in enumerate(steps):
        if i == 3:
            s.temperature = 0  # greedy from the next token
            s.max_new_tokens = 10  # and stop sooner
        if i > 3:
            assert step.prob == 1.0
    assert i == 9


def test_empty_prompt_and_control_characters(tiny_gpt, tiny_tokenizer):
    stats = GenerationStats()
    text = generate_text(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "", settings(), stats=stats,
                         context=32)
    assert stats.tokens == 20 and isinstance(text, str)
    cleaned, notes = clean_prompt("a\x00b\x1b[31mc\td\ne", 100)
    assert cleaned == "abc\td\ne" and "control" in notes[0]  # the colour sequence goes whole
    cleaned, notes = clean_prompt("x" * 500, 100)
    assert cleaned == "x" * 100 and "last 100" in notes[0]


def test_incomplete_utf8_is_held_back(tiny_gpt, tiny_tokenizer):
    # a snowman is three byte tokens; a model that always picks them emits it whole or not at all
    snowman = tiny_tokenizer.encode("☃")

    class Scripted:
        def __init__(self):
            self.i = 0

        def _next(self):
            logits = torch.full((tiny_tokenizer.vocab_size,), -1e9)
            logits[snowman[self.i % 3]] = 0.0
            self.i += 1
            return logits

        def prefill(self, ids):
            return self._next()

        def advance(self, token):
            return self._next()

    pieces = [s.text for s in stream(Scripted(), tiny_tokenizer, "x", settings(max_new_tokens=6), context=32)]
    assert pieces == ["", "", "☃", "", "", "☃"]


@pytest.mark.parametrize("bad", [dict(temperature=-0.5), dict(top_p=0.0)])
def test_invalid_settings_fail_before_generating(tiny_gpt, tiny_tokenizer, bad):
    with pytest.raises(ValueError):
        next(stream(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "x", settings(**bad), context=32))
