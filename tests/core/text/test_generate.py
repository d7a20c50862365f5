import threading

import pytest
import torch
from hypothesis import given, settings as hyp_settings, strategies as st

from core.models.gpt import GPT, GPTConfig
from core.text.generate import (
    Detokenizer,
    GenerationStats,
    GPTDecoder,
    clean_prompt,
    generate_text,
    stream,
    stream_siblings,
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


class ScriptedIds:
    """A decoder whose model always wants the next id of a script (for exact control of the text)."""

    def __init__(self, vocab: int, script: list[int]):
        self.vocab, self.script, self.i = vocab, script, 0

    def _next(self):
        logits = torch.full((self.vocab,), -1e9)
        logits[self.script[self.i % len(self.script)]] = 0.0
        self.i += 1
        return logits

    def prefill(self, ids):
        return self._next()

    def advance_rows(self, tokens):
        return self._next()[None]


def test_incomplete_utf8_is_held_back(tiny_gpt, tiny_tokenizer):
    # a snowman is three byte tokens; a model that always picks them emits it whole or not at all
    snowman = tiny_tokenizer.encode("☃")
    pieces = [s.text for s in stream(ScriptedIds(tiny_tokenizer.vocab_size, snowman), tiny_tokenizer, "x",
                                     settings(max_new_tokens=6), context=32)]
    assert pieces == ["", "", "☃", "", "", "☃"]


@pytest.mark.parametrize("bad", [dict(temperature=-0.5), dict(top_p=0.0)])
def test_invalid_settings_fail_before_generating(tiny_gpt, tiny_tokenizer, bad):
    with pytest.raises(ValueError):
        next(stream(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "x", settings(**bad), context=32))


MIXED = "Café — naïve “quoted” 日本 ☃ 😀 the end.\n"


def byte_ids(tokenizer, text):
    """text as byte-fallback tokens, one per UTF-8 byte."""
    return [tokenizer.sp.piece_to_id(f"<0x{b:02X}>") for b in text.encode()]


def test_stream_pieces_concatenate_to_the_decode_of_every_id(tiny_tokenizer):
    script = tiny_tokenizer.encode(MIXED) + byte_ids(tiny_tokenizer, "é☃😀") + tiny_tokenizer.encode(" x")
    assert any(tiny_tokenizer.piece(i).startswith("<0x") for i in tiny_tokenizer.encode(MIXED))
    steps = list(stream(ScriptedIds(tiny_tokenizer.vocab_size, script), tiny_tokenizer, "x",
                        settings(temperature=0, max_new_tokens=len(script)), context=32))
    assert [s.token for s in steps] == script
    assert "".join(s.text for s in steps) == tiny_tokenizer.decode(script)
    assert not any(s.text.endswith("\ufffd") for s in steps)  # half characters are held back, never shown


@hyp_settings(max_examples=200, deadline=None)
@given(st.data())
def test_incremental_decoding_equals_decoding_everything(tiny_tokenizer, data):
    # any ids at all, byte tokens that never complete a character included
    ids = data.draw(st.lists(st.integers(0, tiny_tokenizer.vocab_size - 1), max_size=40))
    detok = Detokenizer(tiny_tokenizer)
    pieces = [detok.push(t, last=i == len(ids) - 1) for i, t in enumerate(ids)]
    assert "".join(pieces) == tiny_tokenizer.decode(ids)
    text = data.draw(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20))
    ids = byte_ids(tiny_tokenizer, text) if data.draw(st.booleans()) else tiny_tokenizer.encode(text)
    detok = Detokenizer(tiny_tokenizer)
    assert "".join(detok.push(t) for t in ids) == text  # every character complete: nothing left behind


def test_candidates_are_worked_out_only_when_read(tiny_gpt, tiny_tokenizer, monkeypatch):
    calls = []
    real = type(tiny_tokenizer).piece
    monkeypatch.setattr(type(tiny_tokenizer), "piece", lambda self, i: calls.append(i) or real(self, i))
    steps = list(stream(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "The sun",
                        settings(top_k=5), context=32))
    assert calls == []
    shown = steps[3].candidates
    assert 1 <= len(shown) <= 5 and len(calls) == len(shown)
    assert steps[3].candidates is shown  # worked out once
    assert shown[0].prob >= steps[3].prob  # no token is likelier than the best candidate


def sourced_gpt(tokenizer, **kw):
    torch.manual_seed(1)
    config = GPTConfig(vocab_size=tokenizer.vocab_size + 2, block_size=20, n_layer=2, n_head=2, n_embd=32,
                       dropout=0.0, sources=["hemingway", "other"], **kw)
    return GPT(config).eval()


@pytest.mark.parametrize("shape", [{}, {"position": "rope", "mlp": "swiglu"}])
@pytest.mark.parametrize("prefix", [[], ["other"]])
def test_decoder_equals_a_fresh_read_of_its_window_at_every_token(tiny_tokenizer, shape, prefix):
    # the preallocated cache, written in place, through two slides of the context
    model = sourced_gpt(tiny_tokenizer, **shape)
    prefix = [model.config.source_token(p) for p in prefix]
    dec = GPTDecoder(model, torch.device("cpu"), prefix)
    context = model.config.block_size - len(prefix)
    ids = torch.randint(0, model.config.text_vocab_size, (6,)).tolist()
    window = list(ids)
    logits = dec.prefill(ids)
    for t in torch.randint(0, model.config.text_vocab_size, (40,)).tolist():
        expected = model(torch.tensor([prefix + window]))[0][0, -1, :model.config.text_vocab_size]
        assert logits.shape == expected.shape and torch.allclose(logits, expected, atol=1e-5)
        window.append(t)
        if len(prefix) + len(window) > model.config.block_size:
            window = window[-(context // 2):]
        logits = dec.advance(t)


def test_source_tokens_are_never_drawn(tiny_tokenizer):
    model = sourced_gpt(tiny_tokenizer)
    with torch.no_grad():  # make the source tokens by far the likeliest
        model.transformer.wte.weight[-2:] = model.transformer.ln_f.bias[None] + 10 * model.transformer.ln_f.weight[None]
    dec = GPTDecoder(model, torch.device("cpu"), [model.config.source_token("hemingway")])
    steps = list(stream(dec, tiny_tokenizer, "The", settings(max_new_tokens=30), context=20))
    assert all(s.token < model.config.text_vocab_size for s in steps)


def test_greedy_siblings_equal_the_single_row_stream(tiny_gpt, tiny_tokenizer):
    s = settings(temperature=0, max_new_tokens=40)  # 40 tokens: the 32-token context slides
    alone = [step.token for step in stream(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "The sun",
                                           s, context=32)]
    rows = {}
    for row, step in stream_siblings(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "The sun", s,
                                     seeds=[1, 2, 3], context=32):
        rows.setdefault(row, []).append(step.token)
    assert rows == {0: alone, 1: alone, 2: alone}


@pytest.mark.parametrize("model", ["tiny_gpt", "tiny_lstm"])
def test_sampled_siblings_are_their_seeds_samples(model, tiny_tokenizer, request):
    net = request.getfixturevalue(model)
    decoder = (lambda: GPTDecoder(net, torch.device("cpu"))) if model == "tiny_gpt" else \
        (lambda: net.decoder(torch.device("cpu")))
    s = settings(temperature=1.0, top_k=20, top_p=0.9, max_new_tokens=12, repetition_penalty=1.2)
    rows = {}
    for row, step in stream_siblings(decoder(), tiny_tokenizer, "We walked", s, seeds=[5, 6, 7, 5], context=32):
        rows.setdefault(row, []).append(step)
    assert sorted(rows) == [0, 1, 2, 3] and all(len(r) == 12 for r in rows.values())
    for steps in rows.values():
        assert all(0 < st_.prob <= 1 and st_.seed in (5, 6, 7) for st_ in steps)
    tokens = {row: [st_.token for st_ in steps] for row, steps in rows.items()}
    assert tokens[0] == tokens[3] and len({tuple(t) for t in tokens.values()}) == 3
    for row, seed in enumerate([5, 6, 7]):  # each row is the single-row sample of its seed
        alone = [st_.token for st_ in stream(decoder(), tiny_tokenizer, "We walked", settings(
            temperature=1.0, top_k=20, top_p=0.9, max_new_tokens=12, repetition_penalty=1.2, seed=seed), context=32)]
        assert alone == tokens[row]


def test_sibling_rows_stop_on_their_own_and_all_on_cancel(tiny_gpt, tiny_tokenizer):
    seeds = list(range(6))
    steps = {}
    for row, step in stream_siblings(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "The", settings(
            temperature=1.0, max_new_tokens=30), seeds=seeds, context=32, stop=["e", "a"]):
        steps.setdefault(row, []).append(step)
    assert sorted(steps) == seeds and len({len(s) for s in steps.values()}) > 1  # rows end at different lengths
    for row in seeds:
        before = "".join(s.text for s in steps[row][:-1])
        assert "e" not in before and "a" not in before  # no row runs past its stop
        last = steps[row][-1].text
        assert len(steps[row]) == 30 or "e" in last or "a" in last
    cancel, seen = threading.Event(), 0
    for _ in stream_siblings(GPTDecoder(tiny_gpt, torch.device("cpu")), tiny_tokenizer, "The",
                             settings(max_new_tokens=100), seeds=[1, 2], cancel=cancel, context=32):
        seen += 1
        if seen == 4:
            cancel.set()
    assert seen == 4


def test_a_loaded_model_streams_siblings(checkpoint_dir):
    from core.text.lm import load_language_model

    lm = load_language_model("hemingway")
    s = settings(temperature=0, max_new_tokens=8)
    alone = [step.token for step in lm.stream("The sun", s)]
    rows = {}
    for row, step in lm.siblings("The sun", s, seeds=[1, 2]):
        rows.setdefault(row, []).append(step.token)
    assert rows == {0: alone, 1: alone}
