import copy
import errno
import json

import pytest
import torch
from safetensors.torch import save_file

from core.catalog import ROOT
from core.checkpoints import (
    Checkpoint,
    CheckpointError,
    average_checkpoints,
    load_checkpoint,
    load_weights,
    save_checkpoint,
    state_tensors,
)
from core.cli.main import main
from core.models.gpt import GPT, GPTConfig
from core.text.lm import load_language_model


def _save(path, model, tok, **kw):
    return save_checkpoint(path, Checkpoint("gpt", model.config.to_dict(), state_tensors(model),
                                            tokenizer=tok.model_bytes, training={"best_valid": 1.5}), **kw)


def test_round_trip_keeps_weights_config_tokenizer(tmp_path, tiny_gpt, tiny_tokenizer):
    path = _save(tmp_path / "m.safetensors", tiny_gpt, tiny_tokenizer, dtype=None)
    ckpt = load_checkpoint(path, "gpt")
    assert ckpt.config == tiny_gpt.config.to_dict()
    assert ckpt.tokenizer == tiny_tokenizer.model_bytes
    assert ckpt.training == {"best_valid": 1.5}
    assert "lm_head.weight" not in ckpt.tensors  # tied: stored once
    model = GPT(GPTConfig(**ckpt.config))
    load_weights(model, ckpt.tensors, path)
    x = torch.randint(0, tiny_gpt.config.vocab_size, (1, 16))
    assert torch.equal(model.eval()(x)[0], tiny_gpt(x)[0])
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()


def test_half_precision_storage_is_close_and_small(tmp_path, tiny_gpt, tiny_tokenizer):
    full = _save(tmp_path / "a.safetensors", tiny_gpt, tiny_tokenizer, dtype=None)
    half = _save(tmp_path / "b.safetensors", tiny_gpt, tiny_tokenizer)
    assert half.stat().st_size < full.stat().st_size
    assert all(t.dtype == torch.float16 for t in load_checkpoint(half).tensors.values())
    lm = load_language_model(str(half), "cpu")
    x = torch.randint(0, tiny_gpt.config.vocab_size, (1, 16))
    assert torch.allclose(lm.model(x)[0], tiny_gpt(x)[0], atol=1e-2)


def test_missing_file_names_the_training_command(tmp_path):
    with pytest.raises(CheckpointError, match="inkhorn train gpt"):
        load_checkpoint(tmp_path / "nope.safetensors", "gpt")


def test_truncated_file_is_reported(tmp_path, tiny_gpt, tiny_tokenizer):
    path = _save(tmp_path / "m.safetensors", tiny_gpt, tiny_tokenizer)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(path, "gpt")


def test_garbage_file_is_reported(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"\x00\x01not a checkpoint at all")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(path)


def test_wrong_kind_is_reported(tmp_path, tiny_gpt, tiny_tokenizer):
    path = _save(tmp_path / "m.safetensors", tiny_gpt, tiny_tokenizer)
    with pytest.raises(CheckpointError, match="holds a 'gpt' model, not a 'lstm'"):
        load_checkpoint(path, "lstm")


def test_foreign_safetensors_is_reported(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="not an Inkhorn checkpoint"):
        load_checkpoint(path)


def test_shape_mismatch_is_reported(tmp_path, tiny_gpt, tiny_tokenizer):
    path = _save(tmp_path / "m.safetensors", tiny_gpt, tiny_tokenizer)
    ckpt = load_checkpoint(path)
    bigger = GPT(GPTConfig(**{**ckpt.config, "n_embd": 64}))
    with pytest.raises(CheckpointError, match="wrong shapes"):
        load_weights(bigger, ckpt.tensors, path)


def test_no_pickle_in_the_file(tmp_path, tiny_gpt, tiny_tokenizer):
    path = _save(tmp_path / "m.safetensors", tiny_gpt, tiny_tokenizer)
    header_len = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8:8 + header_len])
    assert header["__metadata__"]["kind"] == "gpt"


def test_write_is_atomic(tmp_path, tiny_gpt, tiny_tokenizer, monkeypatch):
    path = _save(tmp_path / "m.safetensors", tiny_gpt, tiny_tokenizer)
    before = path.read_bytes()

    def full_disk(fd):  # where a full disk shows: the data cannot be flushed
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("core.files.os.fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        _save(path, tiny_gpt, tiny_tokenizer)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_average_is_the_mean_of_the_weights_and_refuses_other_models(tmp_path, tiny_gpt, tiny_tokenizer, capsys,
                                                                    monkeypatch):
    a = _save(tmp_path / "a.safetensors", tiny_gpt, tiny_tokenizer, dtype=None)
    moved = copy.deepcopy(tiny_gpt)  # the fixture is shared by the whole session: leave it as it is
    with torch.no_grad():
        for p in moved.parameters():
            p.add_(1.0)
    b = _save(tmp_path / "b.safetensors", moved, tiny_tokenizer, dtype=None)
    out = tmp_path / "avg.safetensors"
    assert main(["average", str(a), str(b), "--out", str(out)]) == 0
    avg, first, second = (load_checkpoint(p).tensors for p in (out, a, b))
    name = "transformer.wte.weight"
    assert torch.allclose(avg[name].float(), (first[name] + second[name]) / 2, atol=1e-2)  # stored fp16
    training = load_checkpoint(out).training
    assert training["averaged"] == ["a.safetensors", "b.safetensors"]
    assert "best_valid" not in training  # the last snapshot's score is not the mean's
    capsys.readouterr()
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(tmp_path))
    assert main(["info"]) == 0
    info = capsys.readouterr().out
    assert "avg.safetensors" in info and "mean of 2 checkpoints" in info
    assert main(["average", str(a), str(b), "--out", str(out)]) == 2  # never overwrites without --force
    other = GPT(GPTConfig(**{**tiny_gpt.config.to_dict(), "n_embd": tiny_gpt.config.n_embd * 2}))
    c = save_checkpoint(tmp_path / "c.safetensors", Checkpoint("gpt", other.config.to_dict(), state_tensors(other),
                                                                tokenizer=tiny_tokenizer.model_bytes))
    with pytest.raises(CheckpointError, match="not the same model"):
        average_checkpoints([a, c])
    with pytest.raises(ValueError, match="at least two"):
        average_checkpoints([a])


SHIPPED = ROOT / "checkpoints"


def test_shipped_checkpoints_fit_the_size_budget():
    files = sorted(SHIPPED.glob("*.safetensors"))
    assert files, "no checkpoint is shipped"
    for f in files:
        assert f.stat().st_size <= 12 * 2**20, f"{f.name} is over 12 MiB"
        assert load_checkpoint(f).tensors, f"{f.name} holds no weights"
    assert sum(f.stat().st_size for f in files) <= 32 * 2**20, "shipped checkpoints are over 32 MiB together"
