"""Shared fixtures: a tiny GPT checkpoint built in seconds, never a shipped one."""
from __future__ import annotations

import pytest
import torch

from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.models.gpt import GPT, GPTConfig
from core.models.lstm import LSTMConfig, RecurrentLM
from core.tokenizer import Tokenizer

TINY_TEXT = (
    "The sun also rises. The old man and the sea.\n\n"
    "“Have a drink,” said Bill. “It is good wine.”\n\n"
    "We walked down the road in the rain and it was cold and the river ran fast.\n\n"
) * 20


@pytest.fixture(scope="session")
def tiny_tokenizer() -> Tokenizer:
    return Tokenizer.train([TINY_TEXT], vocab_size=300)


@pytest.fixture(scope="session")
def tiny_gpt(tiny_tokenizer) -> GPT:
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=tiny_tokenizer.vocab_size, block_size=32, n_layer=2, n_head=2, n_embd=32,
                       dropout=0.0)
    return GPT(config).eval()


@pytest.fixture(scope="session")
def tiny_lstm(tiny_tokenizer) -> RecurrentLM:
    torch.manual_seed(0)
    config = LSTMConfig(vocab_size=tiny_tokenizer.vocab_size, n_embd=24, n_hidden=32, n_layer=2, dropout=0.0,
                        bptt=16)
    return RecurrentLM(config).eval()


@pytest.fixture()
def checkpoint_dir(tmp_path, monkeypatch, tiny_gpt, tiny_tokenizer):
    """A checkpoints folder holding a tiny 'hemingway' GPT, set as $INKHORN_CHECKPOINTS."""
    folder = tmp_path / "checkpoints"
    save_checkpoint(folder / "hemingway.safetensors",
                    Checkpoint("gpt", tiny_gpt.config.to_dict(), state_tensors(tiny_gpt),
                               tokenizer=tiny_tokenizer.model_bytes, training={"best_valid": 9.9}),
                    dtype=None)
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(folder))
    monkeypatch.setenv("INKHORN_DEVICE", "cpu")
    return folder


@pytest.fixture()
def anna_checkpoint(checkpoint_dir, tiny_lstm, tiny_tokenizer):
    """Adds a tiny 'anna' LSTM to the checkpoint folder."""
    save_checkpoint(checkpoint_dir / "anna.safetensors",
                    Checkpoint("lstm", tiny_lstm.config.to_dict(), state_tensors(tiny_lstm),
                               tokenizer=tiny_tokenizer.model_bytes, training={"best_valid": 9.9}),
                    dtype=None)
    return checkpoint_dir
