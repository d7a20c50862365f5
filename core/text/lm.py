"""A language model loaded and ready to stream text: a shipped or user-trained GPT or LSTM checkpoint, or a
local GPT-2-family folder (Hugging Face weights and tokenizer files, read into our GPT)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Iterator, Sequence

import torch

from core.catalog import MODELS
from core.checkpoints import TEXT_KINDS, CheckpointError, load_model
from core.device import choose_device, decoding_layout
from core.files import file_sha256
from core.models.gpt2_import import load_gpt2, weights_file
from core.text.desk.controls import BannedPhrases, Banning
from core.text.generate import Decoder, GenerationStats, GPTDecoder, Step, stream, stream_siblings
from core.text.gpt2_tokenizer import GPT2Tokenizer
from core.text.sampling import SamplerSettings
from core.tokenizer import Tokenizer


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

    @cached_property
    def sha256(self) -> str:
        """Of the checkpoint file (a GPT-2 folder's weights file): which weights wrote a text, so it can be
        replayed exactly."""
        return file_sha256(weights_file(self.path) if self.path.is_dir() else self.path)

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
               stats: GenerationStats | None = None, banned: Sequence[str] = ()) -> Iterator[Step]:
        """Steps of one generation; `banned` words and phrases are never completed."""
        return stream(self._banning(banned), self.tokenizer, prompt, settings, cancel, stats, context=self.context)

    def siblings(self, prompt: str, settings: SamplerSettings, seeds: Sequence[int],
                 cancel: threading.Event | None = None, stats: GenerationStats | None = None,
                 stop: Sequence[str] = (), banned: Sequence[str] = ()) -> Iterator[tuple[int, Step]]:
        """len(seeds) continuations of `prompt` decoded together, as (row, Step): row i draws with
        seeds[i]; see core.text.generate.stream_siblings."""
        return stream_siblings(self._banning(banned), self.tokenizer, prompt, settings, seeds, cancel, stats,
                               context=self.context, stop=stop)

    def _banning(self, banned: Sequence[str]) -> Decoder:
        decoder = self.decoder()
        return Banning(decoder, BannedPhrases(self.tokenizer, banned)) if banned else decoder


def load_gpt2_folder(folder: Path, device: torch.device) -> LanguageModel:
    from core.text.choices import gpt2_name

    tokenizer = GPT2Tokenizer.from_folder(folder)
    model = load_gpt2(folder)
    if tokenizer.vocab_size != model.config.vocab_size:
        raise CheckpointError(f"{folder}: the tokenizer has {tokenizer.vocab_size} tokens, the model "
                              f"{model.config.vocab_size}; they are not one model's")
    return LanguageModel(gpt2_name(folder), "gpt", model.to(device), tokenizer, device, folder)


def load_language_model(name_or_path: str | Path, device: str | torch.device | None = None,
                        decoding: bool = True) -> LanguageModel:
    """A shipped model's name, a text-model checkpoint, or a local GPT-2-family folder. `decoding`: lay the
    weights out for decoding a row at a time on the CPU (core.device.decoding_layout); scoring whole texts
    is faster without."""
    lm = _load(name_or_path, device)
    if decoding and lm.device.type == "cpu":
        decoding_layout(lm.model)
    return lm


def _load(name_or_path: str | Path, device: str | torch.device | None) -> LanguageModel:
    path = Path(name_or_path)
    if path.name.endswith(".resume.safetensors"):
        raise CheckpointError(f"{path} is a resume file (a run's optimizer state); generate from the checkpoint "
                              f"beside it, {path.name.replace('.resume.', '.')}")
    if str(name_or_path) not in MODELS and path.is_dir():
        return load_gpt2_folder(path, device if isinstance(device, torch.device) else choose_device(device).device)
    loaded = load_model(name_or_path, TEXT_KINDS, device)
    ckpt = loaded.checkpoint
    # a checkpoint of a run is named by its folder too: runs/voice/hemingway.safetensors is not the shipped one
    name = str(name_or_path) if str(name_or_path) in MODELS else f"{loaded.path.parent.name}/{loaded.path.stem}"
    return LanguageModel(name, ckpt.kind, loaded.model, loaded.tokenizer, loaded.device, loaded.path, ckpt.training)
