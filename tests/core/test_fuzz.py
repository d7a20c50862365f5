"""Property-based fuzzing of every edge where input comes in: sampler settings, prompts (any Unicode, control
characters, escape sequences, invalid bytes), art expressions and checkpoint metadata. Whatever the input,
nothing may raise but Inkhorn's own errors: CheckpointError, ValueError (plain messages) and FileNotFoundError.

150 examples a target by default; `--hypothesis-profile=fuzz` runs 2,000 (tests/conftest.py).
"""
from __future__ import annotations

import base64
import json
import re
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from safetensors.torch import save_file

from core.art.arithmetic import GROUPS
from core.checkpoints import FORMAT, CheckpointError, describe_training, load_model, read_metadata, state_tensors
from core.safe_text import TerminalFilter, decode_input, terminal_safe
from core.text.lm import LanguageModel
from core.text.sampling import Picker, SamplerSettings, filtered_probs

OURS = (CheckpointError, ValueError, FileNotFoundError)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

ANY_CHAR = st.characters(codec=None, categories=None)  # every code point, surrogates and controls included
SNIPPETS = st.sampled_from(["\x1b]2;TITLE\x07", "\x1b[31m", "\x1b[", "\x1b]52;c;", "\x1b\\", "\x9b2J", "\x9d0;x",
                            "\u202e", "\u2066", "\r", "\r\n", "\x00", "\x7f", "\ufffd", "\n\n", "\t", "[/]"])
BAD_BYTES = st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape"))
TEXT = st.lists(st.one_of(st.text(ANY_CHAR, max_size=12), SNIPPETS, BAD_BYTES), max_size=12).map("".join)
ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=6))


@given(TEXT, st.lists(st.integers(1, 8), min_size=1, max_size=8))
def test_sanitised_text_is_terminal_safe_whole_or_in_pieces(text, cuts):
    safe = terminal_safe(text)
    assert not UNSAFE.search(safe)
    stream, pieces, at = TerminalFilter(), [], 0
    for cut in cuts * (len(text) // max(1, sum(cuts)) + 1):
        pieces.append(stream.feed(text[at:at + cut]))
        at += cut
    assert "".join(pieces) + stream.close() == safe


@given(st.binary(max_size=64))
def test_any_input_bytes_decode(data):
    text, notes = decode_input(data)
    assert isinstance(text, str) and not re.search("[\ud800-\udfff]", text)
    assert bool(notes) == (text.count("\ufffd") > data.count("\ufffd".encode()))


@given(st.fixed_dictionaries({name: ANY_VALUE for name in ("temperature", "top_k", "top_p", "min_p",
                                                             "repetition_penalty", "max_new_tokens", "seed")}),
       st.integers(0, 2**32 - 1))
def test_sampler_settings_are_refused_plainly_or_sample(values, logit_seed):
    settings = SamplerSettings(**values)
    try:
        settings.validate()
    except ValueError as e:
        assert str(e) and "\n" not in str(e)
        return
    logits = torch.randn(50, generator=torch.Generator().manual_seed(logit_seed)) * 20
    probs = filtered_probs(logits, settings, torch.randint(0, 50, (10,)))
    assert torch.isfinite(probs).all() and abs(float(probs.sum()) - 1) < 1e-4
    token, _ = Picker(settings)(logits, torch.randint(0, 50, (10,)))
    assert 0 <= token < 50


@pytest.fixture(scope="module")
def language_models(tiny_gpt, tiny_lstm, tiny_tokenizer):
    cpu = torch.device("cpu")
    return [LanguageModel("gpt", "gpt", tiny_gpt, tiny_tokenizer, cpu, Path("gpt")),
            LanguageModel("lstm", "lstm", tiny_lstm, tiny_tokenizer, cpu, Path("lstm"))]


@given(TEXT)
def test_any_prompt_generates(language_models, prompt):
    for lm in language_models:
        steps = list(lm.stream(prompt, SamplerSettings(max_new_tokens=2, seed=0)))
        assert len(steps) == 2


@given(TEXT, st.sampled_from([1, 2]))
def test_any_text_translates(tiny_translator, text, beam):
    [result] = tiny_translator.translate([text], beam=beam)
    assert isinstance(result.text, str) and not UNSAFE.search("".join(s.source for s in result.sentences))


@pytest.fixture(scope="module")
def vae_artist(tmp_path_factory, write_vae_checkpoint):
    from core.art.artists import load_artist

    return load_artist("vae", write_vae_checkpoint(tmp_path_factory.mktemp("vae")), "cpu")


TERMS = st.one_of(st.sampled_from([*GROUPS, "+", "-", " ", "+-", "- -", "x.png", "/", "."]), TEXT)


@given(st.lists(TERMS, max_size=10).map(" ".join), st.one_of(st.floats(), st.integers(-100, 100)))
def test_any_art_expression_draws_or_is_refused_plainly(vae_artist, expression, strength):
    try:
        terms, _, pictures = vae_artist.arithmetic(expression, strength)
    except OURS:
        return
    assert len(pictures) == len(terms) + 1 and torch.isfinite(pictures).all()


JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=8)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner,
                                                                                         max_size=3)), max_leaves=6)


def _metadata(gpt, tokenizer):
    config = gpt.config.to_dict()
    changed = st.dictionaries(st.sampled_from([*config, "n_experts"]), JSON, max_size=3).map(lambda c: {**config, **c})
    as_text = st.one_of(changed.map(json.dumps), JSON.map(json.dumps), st.text(max_size=10))
    tok = st.one_of(st.just(base64.b64encode(tokenizer.model_bytes).decode()),
                    st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()), st.text(max_size=10))
    return st.fixed_dictionaries(
        {"config": as_text},
        optional={"format": st.one_of(st.just(FORMAT), st.text(max_size=8)),
                  "kind": st.sampled_from(["gpt", "lstm", "translator", "vae", "gan", "x"]),
                  "tokenizer": tok, "training": st.one_of(JSON.map(json.dumps), st.text(max_size=10)),
                  "extra": st.one_of(JSON.map(json.dumps), st.text(max_size=10))})


@given(st.data())
def test_any_checkpoint_metadata_loads_or_is_refused_plainly(tiny_gpt, tiny_tokenizer, data):
    meta = {"format": FORMAT, "kind": "gpt", **data.draw(_metadata(tiny_gpt, tiny_tokenizer))}
    tensors = {k: v.contiguous() for k, v in state_tensors(tiny_gpt).items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.safetensors"
        save_file(tensors, str(path), metadata=meta)
        assert isinstance(describe_training(read_metadata(path)), str)  # what `inkhorn info` shows
        try:
            loaded = load_model(path, None, "cpu")
        except OURS:
            return
    assert loaded.model.num_params() == tiny_gpt.num_params()
