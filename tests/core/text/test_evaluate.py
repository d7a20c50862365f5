import math

import pytest
import torch
import torch.nn.functional as F

from core.text.evaluate import copy_rate, gpt_bits_per_char, score_windows


@pytest.mark.parametrize("n,ctx,stride", [(1000, 64, 32), (65, 64, 32), (10, 64, 32), (300, 16, 16), (301, 16, 5)])
def test_windows_score_every_token_once_within_the_context(n, ctx, stride):
    scored = []
    for start, first, end in score_windows(n, 1, ctx, stride):
        assert end - 1 - start <= ctx  # input fits the model
        assert start <= first - 1  # each target's input position is inside the window
        scored.extend(range(first, end))
    assert scored == list(range(1, n))


def test_bits_per_char_equals_a_direct_computation(tiny_gpt, tiny_tokenizer):
    text = "We walked down the road."  # shorter than the context: one window
    got = gpt_bits_per_char(tiny_gpt, tiny_tokenizer, text, torch.device("cpu"))
    ids = torch.tensor([tiny_tokenizer.encode("\n") + tiny_tokenizer.encode(text)])
    logits, _ = tiny_gpt(ids[:, :-1])
    nll = F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item()
    assert got["bits_per_char"] == pytest.approx(nll / len(text) / math.log(2), rel=1e-5)
    assert got["chars"] == len(text) and got["tokens"] == ids.size(1) - 1


def test_long_text_is_scored_whole(tiny_gpt, tiny_tokenizer):
    text = "The old man and the sea. " * 40
    got = gpt_bits_per_char(tiny_gpt, tiny_tokenizer, text, torch.device("cpu"))
    assert got["tokens"] == len(tiny_tokenizer.encode(text)) > 3 * tiny_gpt.config.block_size
    assert 0 < got["bits_per_char"] < 30


def test_empty_text_is_refused(tiny_gpt, tiny_tokenizer):
    with pytest.raises(ValueError):
        gpt_bits_per_char(tiny_gpt, tiny_tokenizer, "", torch.device("cpu"))


def test_copy_rate_counts_verbatim_spans():
    train = "abcdefghij" * 3
    assert copy_rate(["abcdefgh"], train, span=4) == 1.0
    assert copy_rate(["zzzzzzzz"], train, span=4) == 0.0
    assert copy_rate(["abcdzzzz"], train, span=4) == pytest.approx(1 / 5)
    with pytest.raises(ValueError):
        copy_rate(["ab"], train, span=4)
