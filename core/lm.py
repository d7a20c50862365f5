"""Load a language model ready to stream text: a shipped or user-trained GPT or LSTM checkpoint, or a
local GPT-2-family folder (Hugging Face weights and tokenizer files, read into our GPT)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch

from core.checkpoints import CheckpointError, load_checkpoint, load_weights
from core.device import choose_device
from core.generate import Decoder, GenerationStats, GPTDecoder, Step, stream
from core.gpt2_tokenizer import GPT2Tokenizer
from core.paths import TEXT_MODELS, checkpoint_dir
from core.sampling import SamplerSettings
from core.tokenizer import Tokenizer


def resolve(name_or_path: str) -> tuple[Path, str | None]:
    """A model name (hemingway, anna), a path to a checkpoint or a GPT-2 folder -> (path, expected kind)."""
    if name_or_path in TEXT_MODELS:
        kind, filename, _ = TEXT_MODELS[name_or_path]
        return checkpoint_dir() / filename, kind
    path = Path(name_or_path)
    if path.name.endswith(".resume.safetensors"):
        raise CheckpointError(f"{path} is a resume file (a run's optimizer state); generate from the checkpoint "
                              f"beside it, {path.name.replace('.resume.', '.')}")
    if path.suffix == ".safetensors" or path.exists():
        return path, None
    names = ", ".join(TEXT_MODELS)
    raise CheckpointError(f"unknown model '{name_or_path}': use one of {names}, a path to a .safetensors file "
                          "or a GPT-2 folder")


@dataclass
class LanguageModel:
    name: str
    kind: str
    model: torch.nn.Module
    tokenizer: Tokenizer | GPT2Tokenizer
    device: torch.device
    path: Path
    training: dict = field(default_factory=dict)

    @property
    def context(self) -> int:
        return self.model.context_size

    def num_params(self) -> int:
        return self.model.num_params()

    @property
    def voice(self) -> str | None:
        """The source token every generation is conditioned on (a GPT trained with source tokens)."""
        sources = getattr(self.model.config, "sources", None)
        return sources[0] if sources else None

    def prefix(self) -> list[int]:
        return [self.model.config.source_token(self.voice)] if self.voice else []

    def decoder(self) -> Decoder:
        if self.kind == "gpt":
            return GPTDecoder(self.model, self.device, self.prefix())
        return self.model.decoder(self.device)

    def stream(self, prompt: str, settings: SamplerSettings, cancel: threading.Event | None = None,
               stats: GenerationStats | None = None) -> Iterator[Step]:
        return stream(self.decoder(), self.tokenizer, prompt, settings, cancel, stats, context=self.context)


def build_model(kind: str, config: dict) -> torch.nn.Module:
    if kind == "gpt":
        from core.models.gpt import GPT, GPTConfig

        return GPT(GPTConfig(**config))
    if kind == "lstm":
        from core.models.lstm import LSTMConfig, RecurrentLM

        return RecurrentLM(LSTMConfig(**config))
    raise CheckpointError(f"'{kind}' is not a text model")


def load_gpt2_folder(folder: Path, device: torch.device) -> LanguageModel:
    from core.models.gpt2_import import load_gpt2
    from core.text_models import gpt2_name

    tokenizer = GPT2Tokenizer.from_folder(folder)
    model = load_gpt2(folder)
    if tokenizer.vocab_size != model.config.vocab_size:
        raise CheckpointError(f"{folder}: the tokenizer has {tokenizer.vocab_size} tokens, the model "
                              f"{model.config.vocab_size}; they are not one model's")
    return LanguageModel(gpt2_name(folder), "gpt", model.to(device), tokenizer, device, folder)


def load_language_model(name_or_path: str, device: str | torch.device | None = None) -> LanguageModel:
    path, expected = resolve(name_or_path)
    dev = device if isinstance(device, torch.device) else choose_device(device).device
    if path.is_dir():
        return load_gpt2_folder(path, dev)
    ckpt = load_checkpoint(path, expected)
    if ckpt.kind not in ("gpt", "lstm"):
        raise CheckpointError(f"{path} holds a '{ckpt.kind}' model, not a text model")
    if ckpt.tokenizer is None:
        raise CheckpointError(f"{path} carries no tokenizer")
    try:
        model = build_model(ckpt.kind, ckpt.config)
    except TypeError as e:
        raise CheckpointError(f"{path} has a config this version cannot build ({e})") from e
    load_weights(model, ckpt.tensors, path)
    model.to(dev).eval()
    name = name_or_path if name_or_path in TEXT_MODELS else path.stem
    return LanguageModel(name, ckpt.kind, model, Tokenizer(ckpt.tokenizer), dev, path, ckpt.training)
