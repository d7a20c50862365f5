"""Load a shipped or user-trained language model (GPT or LSTM) ready to stream text."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import torch

from core.checkpoints import CheckpointError, load_checkpoint, load_weights
from core.device import choose_device, decoding_layout
from core.generate import Decoder, GenerationStats, GPTDecoder, Step, stream, stream_siblings
from core.paths import TEXT_MODELS, checkpoint_dir
from core.sampling import SamplerSettings
from core.tokenizer import Tokenizer


def resolve(name_or_path: str) -> tuple[Path, str | None]:
    """A model name (hemingway, anna) or a path to a checkpoint -> (path, expected kind)."""
    if name_or_path in TEXT_MODELS:
        kind, filename, _ = TEXT_MODELS[name_or_path]
        return checkpoint_dir() / filename, kind
    path = Path(name_or_path)
    if path.suffix == ".safetensors" or path.exists():
        return path, None
    names = ", ".join(TEXT_MODELS)
    raise CheckpointError(f"unknown model '{name_or_path}': use one of {names} or a path to a .safetensors file")


@dataclass
class LanguageModel:
    name: str
    kind: str
    model: torch.nn.Module
    tokenizer: Tokenizer
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

    def siblings(self, prompt: str, settings: SamplerSettings, seeds: Sequence[int],
                 cancel: threading.Event | None = None, stats: GenerationStats | None = None,
                 stop: Sequence[str] = ()) -> Iterator[tuple[int, Step]]:
        """len(seeds) continuations of `prompt` decoded together, as (row, Step): see generate.stream_siblings."""
        return stream_siblings(self.decoder(), self.tokenizer, prompt, settings, seeds, cancel, stats,
                               context=self.context, stop=stop)


def build_model(kind: str, config: dict) -> torch.nn.Module:
    if kind == "gpt":
        from core.models.gpt import GPT, GPTConfig

        return GPT(GPTConfig(**config))
    if kind == "lstm":
        from core.models.lstm import LSTMConfig, RecurrentLM

        return RecurrentLM(LSTMConfig(**config))
    raise CheckpointError(f"'{kind}' is not a text model")


def load_language_model(name_or_path: str, device: str | torch.device | None = None,
                        decoding: bool = True) -> LanguageModel:
    """`decoding`: lay the weights out for decoding a row at a time on the CPU (core.device.decoding_layout);
    scoring whole texts is faster without."""
    path, expected = resolve(name_or_path)
    ckpt = load_checkpoint(path, expected)
    if ckpt.kind not in ("gpt", "lstm"):
        raise CheckpointError(f"{path} holds a '{ckpt.kind}' model, not a text model")
    if ckpt.tokenizer is None:
        raise CheckpointError(f"{path} carries no tokenizer")
    dev = device if isinstance(device, torch.device) else choose_device(device).device
    try:
        model = build_model(ckpt.kind, ckpt.config)
    except TypeError as e:
        raise CheckpointError(f"{path} has a config this version cannot build ({e})") from e
    load_weights(model, ckpt.tensors, path)
    model.to(dev).eval()
    if decoding and dev.type == "cpu":
        decoding_layout(model)
    name = name_or_path if name_or_path in TEXT_MODELS else path.stem
    return LanguageModel(name, ckpt.kind, model, Tokenizer(ckpt.tokenizer), dev, path, ckpt.training)
