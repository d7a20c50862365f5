"""Stop strings and banned phrases, alone and in a real generation with the tiny GPT."""
from __future__ import annotations

import torch

from core.text.desk.controls import BannedPhrases, Banning, StopStrings
from core.text.generate import GPTDecoder, stream, stream_siblings
from core.text.sampling import SamplerSettings


def test_stop_strings_find_the_earliest_and_only_look_at_new_text():
    stops = StopStrings(["\n\n", "THE END", ""])
    assert stops.stops == ["\n\n", "THE END"]
    assert stops.find("one\ntwo") is None
    assert stops.find("one\n\ntwo THE END") == 3
    assert stops.find("a THE END b\n\n") == 2
    assert stops.find("one\n", 4) is None
    assert stops.find("one\n\n", 4) == 3  # a stop string that straddles the last check is found
    assert stops.find("x\n\nyz", 5) is None  # ... one that ended before it is not looked for again
    assert StopStrings([]).find("anything") is None


def test_a_multi_token_phrase_blocks_only_its_last_token_and_only_after_the_rest(tiny_tokenizer):
    banned = BannedPhrases(tiny_tokenizer, ["the sea", "  ", "rain"])
    spellings = {tuple(tiny_tokenizer.encode(s)) for s in ("the sea", " the sea", "rain", " rain")}
    assert set(banned.sequences) == spellings  # a blank phrase bans nothing
    for seq in banned.sequences:
        before = list(tiny_tokenizer.encode("We walked")) + list(seq[:-1])
        assert seq[-1] in banned.blocked(before)
    inner = tuple(tiny_tokenizer.encode(" the sea"))
    assert inner[-1] not in banned.blocked(list(inner[:-2]))  # the phrase is not under way yet
    assert banned.blocked([]) == set()  # no one-token phrase here

    single = tiny_tokenizer.encode("W")
    assert len(single) == 1
    assert BannedPhrases(tiny_tokenizer, ["W"]).blocked([]) >= set(single)  # one token: blocked always

    logits = torch.zeros(tiny_tokenizer.vocab_size)
    history = list(inner[:-1])
    banned.apply(logits, history)
    assert logits[inner[-1]] == float("-inf") and torch.isfinite(logits).sum() == logits.numel() - len(
        banned.blocked(history))


def occurrences(ids: list[int], sequences, start: int) -> int:
    """How many times a sequence occurs ending at or after position `start` of `ids`."""
    return sum(tuple(ids[end - len(s) + 1:end + 1]) == s for s in sequences
               for end in range(max(start, len(s) - 1), len(ids)))


def test_a_banned_phrase_never_completes_in_a_real_generation(tiny_gpt, tiny_tokenizer, steps):
    prompt = "The old man"
    settings = SamplerSettings(temperature=0, max_new_tokens=40)
    plain = list(stream(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, prompt, settings))
    text = "".join(s.text for s in plain)
    phrase = text[:4]  # what the untrained model says first, greedily
    banned = BannedPhrases(tiny_tokenizer, [phrase])
    prompt_ids = tiny_tokenizer.encode(prompt)
    assert occurrences(prompt_ids + [s.token for s in plain], banned.sequences, len(prompt_ids)) > 0

    decoder = Banning(GPTDecoder(tiny_gpt, torch.device("cpu")), banned)
    steps = list(stream(decoder, tiny_tokenizer, prompt, settings))
    ids = prompt_ids + [s.token for s in steps]
    assert len(steps) == 40 and occurrences(ids, banned.sequences, len(prompt_ids)) == 0
    assert decoder.history == ids[:-1]  # the decoder saw every token but the last drawn
    for step in steps:  # a blocked token has probability 0, so it is never offered as an alternative
        history = ids[:len(prompt_ids) + step.index]
        offered = {tiny_tokenizer.piece(t) for t in banned.blocked(history)}
        assert not offered & {c.text for c in step.candidates}


def test_a_banned_phrase_never_completes_in_any_sibling_row(tiny_gpt, tiny_tokenizer):
    prompt, seeds = "The old man", [1, 2, 3]
    settings = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=30)

    def rows(decoder) -> dict[int, list]:
        out = {}
        for row, step in stream_siblings(decoder, tiny_tokenizer, prompt, settings, seeds):
            out.setdefault(row, []).append(step)
        return out

    def spelled_pair(tokens: list[int]) -> str:
        """Two tokens a row wrote, as text that encodes back to them."""
        return next(text for i in range(len(tokens) - 1) if (text := tiny_tokenizer.decode(tokens[i:i + 2])).strip()
                    and tiny_tokenizer.encode(text) == tokens[i:i + 2])

    plain = rows(GPTDecoder(tiny_gpt, torch.device("cpu")))
    banned = BannedPhrases(tiny_tokenizer, [spelled_pair([s.token for s in steps]) for steps in plain.values()])
    prompt_ids = tiny_tokenizer.encode(prompt)
    for steps in plain.values():  # each row, left alone, writes a banned phrase
        assert occurrences(prompt_ids + [s.token for s in steps], banned.sequences, len(prompt_ids)) > 0
    decoder = Banning(GPTDecoder(tiny_gpt, torch.device("cpu")), banned)
    banning = rows(decoder)
    assert sorted(banning) == [0, 1, 2] and len(decoder.histories) == 3
    for row, steps in banning.items():
        ids = prompt_ids + [s.token for s in steps]
        assert len(steps) == 30 and occurrences(ids, banned.sequences, len(prompt_ids)) == 0
        assert decoder.histories[row] == ids[:-1]
