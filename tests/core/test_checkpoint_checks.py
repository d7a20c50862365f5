"""Hostile checkpoints, built here from the tiny models: each is refused with a message naming the file and the
fix, before a model is built on a real device (so never a big allocation) and never with a traceback."""
import copy
import math

import pytest
import torch

from core.checkpoints import Checkpoint, CheckpointError, load_model, save_checkpoint, state_tensors
from core.cli.main import main
from core.models.gpt import GPT


@pytest.fixture
def builds(monkeypatch):
    """The device type of every GPT built while the test runs: 'meta' costs nothing, 'cpu' allocates."""
    seen = []
    real = GPT.__init__

    def spy(self, config):
        seen.append(torch.empty(0).device.type)
        real(self, config)

    monkeypatch.setattr(GPT, "__init__", spy)
    return seen


def _gpt_file(path, gpt, tokenizer, config=None, tensors=None, tok=None):
    ckpt = Checkpoint("gpt", config if config is not None else gpt.config.to_dict(),
                      tensors if tensors is not None else state_tensors(gpt),
                      tokenizer=tok if tok is not None else tokenizer.model_bytes)
    return save_checkpoint(path, ckpt, dtype=None)


def _with(config, **changes):
    return {**copy.deepcopy(config), **changes}


def _poisoned(gpt, value):
    tensors = {k: v.clone() for k, v in state_tensors(gpt).items()}
    tensors["transformer.h.0.attn.c_attn.weight"][0, 0] = value
    return tensors


CONFIGS = [  # (what, config changes, words the message must hold)
    ("heads not dividing the width", dict(n_head=3), "n_head divides n_embd"),
    ("zero heads", dict(n_head=0), "n_head = 0 is outside 1..256"),
    ("10,000 layers", dict(n_layer=10_000), "n_layer = 10000 is outside 1..256"),
    ("200 layers of 2 stored", dict(n_layer=200), "its config implies"),
    ("a huge block size", dict(block_size=10**9), "block_size = 1000000000 is outside"),
    ("a huge vocabulary", dict(vocab_size=10**8), "vocab_size = 100000000 is outside"),
    ("a string for a number", dict(n_layer="2"), "n_layer = '2' is not a whole number"),
    ("true for a number", dict(n_embd=True), "is not a whole number"),
    ("NaN for a rate", dict(dropout=math.nan), "dropout = nan is not a finite number"),
    ("an odd rotary head width", dict(position="rope", n_embd=30, n_head=2), "even head width"),
    ("an unknown setting", dict(n_experts=8), "unknown settings ['n_experts']"),
    ("a vocabulary smaller than the tokenizer's", dict(vocab_size=100), "its tokenizer has 300 tokens"),
    ("one more layer than stored", dict(n_layer=3), "its config implies"),
]


@pytest.mark.parametrize("what, changes, message", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_a_crafted_config_is_refused_before_anything_is_allocated(tmp_path, tiny_gpt, tiny_tokenizer, builds,
                                                                   what, changes, message):
    path = _gpt_file(tmp_path / "bad.safetensors", tiny_gpt, tiny_tokenizer, _with(tiny_gpt.config.to_dict(),
                                                                                  **changes))
    with pytest.raises(CheckpointError) as e:
        load_model(path, "gpt", "cpu")
    assert message in str(e.value) and str(path) in str(e.value)
    assert "cpu" not in builds  # refused before a model was built for real


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_nan_or_infinite_weights_are_refused(tmp_path, tiny_gpt, tiny_tokenizer, builds, value):
    path = _gpt_file(tmp_path / "nan.safetensors", tiny_gpt, tiny_tokenizer, tensors=_poisoned(tiny_gpt, value))
    with pytest.raises(CheckpointError, match="c_attn.weight holds NaN or infinite values"):
        load_model(path, "gpt", "cpu")
    assert "cpu" not in builds


def test_a_missing_tensor_and_a_config_that_is_no_table_are_refused(tmp_path, tiny_gpt, tiny_tokenizer):
    tensors = dict(state_tensors(tiny_gpt))
    del tensors["transformer.ln_f.weight"]
    path = _gpt_file(tmp_path / "less.safetensors", tiny_gpt, tiny_tokenizer, tensors=tensors)
    with pytest.raises(CheckpointError, match=r"missing \['transformer.ln_f.weight'\]"):
        load_model(path, "gpt", "cpu")
    path = _gpt_file(tmp_path / "list.safetensors", tiny_gpt, tiny_tokenizer, config=[1, 2])
    with pytest.raises(CheckpointError, match="not a table of settings"):
        load_model(path, "gpt", "cpu")


@pytest.mark.parametrize("tok, message", [(b"garbage", "tokenizer that cannot be read"), (b"", "0 tokens")])
def test_a_garbage_tokenizer_is_refused(tmp_path, tiny_gpt, tiny_tokenizer, tok, message):
    path = _gpt_file(tmp_path / "tok.safetensors", tiny_gpt, tiny_tokenizer, tok=tok)
    with pytest.raises(CheckpointError, match=message):
        load_model(path, "gpt", "cpu")


def test_the_command_line_names_the_file_and_the_fix_without_a_traceback(tmp_path, tiny_gpt, tiny_tokenizer, capsys):
    path = _gpt_file(tmp_path / "huge.safetensors", tiny_gpt, tiny_tokenizer,
                     _with(tiny_gpt.config.to_dict(), n_layer=10_000))
    assert main(["generate", "--model", str(path), "hi", "-n", "2", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}") and "use the checkpoint as its training run wrote it" in err
    assert "inkhorn train gpt" in err and len(err.strip().splitlines()) == 1


def test_picture_and_translator_configs_are_checked_too(tmp_path, tiny_vae, write_vae_checkpoint,
                                                        save_translator):
    from core.art.artists import load_artist
    from core.checkpoints import load_checkpoint

    vae = write_vae_checkpoint(tmp_path / "vae")
    ckpt = load_checkpoint(vae)
    save_checkpoint(vae, Checkpoint("vae", {**ckpt.config, "image_size": 12}, ckpt.tensors, training=ckpt.training,
                                    extra=ckpt.extra))
    with pytest.raises(CheckpointError, match="image_size a power of two"):
        load_artist("vae", vae, "cpu")
    translator = save_translator(tmp_path / "en-fr.safetensors")
    ckpt = load_checkpoint(translator)
    for changes, message in ((dict(n_head=3), "n_head divides d_model"),
                             (dict(eos_id=10**5), "eos ids inside the vocabulary")):
        save_checkpoint(translator, Checkpoint("translator", {**ckpt.config, **changes}, ckpt.tensors,
                                               ckpt.tokenizer), dtype=None)
        with pytest.raises(CheckpointError, match=message):
            load_model(translator, "translator", "cpu")


def test_nan_weights_in_a_picture_model_never_make_a_black_png(tmp_path, tiny_vae, write_vae_checkpoint, capsys):
    model = tiny_vae()
    with torch.no_grad():
        next(model.parameters()).fill_(math.nan)
    path = write_vae_checkpoint(tmp_path / "ckpt", model)
    out = tmp_path / "outputs"
    assert main(["art", "vae", "sample", "-n", "2", "--checkpoint", str(path), "--out", str(out),
                 "--device", "cpu"]) == 2
    assert "NaN or infinite" in capsys.readouterr().err and not out.exists()
