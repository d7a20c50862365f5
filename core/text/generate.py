"""Streaming text generation over any language model (GPT or LSTM).

A model is wrapped in a decoder with two calls: `prefill(ids)` returns the
logits after a prompt and `advance(token)` the logits after one more token.
The GPT decoder keeps a KV cache and, when the context is full, re-reads the
last half-context (the prompt slides, never fails); the LSTM decoder carries
its hidden state.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Iterator, Protocol

import torch

from core.safe_text import clean
from core.text.sampling import Picker, SamplerSettings
from core.tokenizer import Tokenizer

TOP_CANDIDATES = 8


class Decoder(Protocol):
    def prefill(self, ids: list[int]) -> torch.Tensor: ...
    def advance(self, token: int) -> torch.Tensor: ...


@dataclass
class Candidate:
    text: str
    prob: float


@dataclass
class Step:
    text: str                   # new text to append (may be "" while a character is incomplete)
    token: int
    prob: float                 # probability the drawn token had
    candidates: list[Candidate]  # the best candidates of this step's distribution
    index: int                  # 0-based number of the generated token
    seed: int


@dataclass
class GenerationStats:
    tokens: int = 0
    seconds: float = 0.0
    seed: int | None = None
    cancelled: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


class GPTDecoder:
    """`prefix` (a source token) stays in front of the text however far the context slides;
    the logits returned cover text tokens only, so a source token is never drawn."""

    def __init__(self, model, device: torch.device, prefix: list[int] | tuple[int, ...] = ()):
        self.model = model
        self.device = device
        self.prefix = list(prefix)
        self.context = model.config.block_size - len(self.prefix)
        self.text_vocab = model.config.vocab_size - len(getattr(model.config, "sources", ()))
        self.ids: list[int] = []
        self.cache = None

    @torch.no_grad()
    def _read(self, ids: list[int]) -> torch.Tensor:
        self.cache = self.model.new_cache()
        x = torch.tensor([self.prefix + ids], dtype=torch.long, device=self.device)
        logits, _ = self.model(x, cache=self.cache)
        return logits[0, -1, :self.text_vocab]

    def prefill(self, ids: list[int]) -> torch.Tensor:
        self.ids = list(ids[-self.context:])
        return self._read(self.ids)

    @torch.no_grad()
    def advance(self, token: int) -> torch.Tensor:
        self.ids.append(token)
        if len(self.cache) >= self.model.config.block_size:
            # positions are absolute, so a full cache cannot shift: re-read the last half-context
            self.ids = self.ids[-(self.context // 2):]
            return self._read(self.ids)
        x = torch.tensor([[token]], dtype=torch.long, device=self.device)
        logits, _ = self.model(x, cache=self.cache)
        return logits[0, -1, :self.text_vocab]


def clean_prompt(text: str, max_chars: int) -> tuple[str, list[str]]:
    """Drop control characters, escape sequences and bidi controls (core/safe_text.py) and keep the tail
    of a huge prompt; say what was done."""
    notes = []
    cleaned, removed = clean(text)
    if removed:
        notes.append(f"removed {removed} control character(s) from the prompt")
    if len(cleaned) > max_chars:
        notes.append(f"prompt is {len(cleaned)} characters; the model reads only its last {max_chars}")
        cleaned = cleaned[-max_chars:]
    return cleaned, notes


def stream(decoder: Decoder, tokenizer: Tokenizer, prompt: str, settings: SamplerSettings,
           cancel: threading.Event | None = None, stats: GenerationStats | None = None,
           context: int = 256) -> Iterator[Step]:
    """Yield one Step per generated token until max_new_tokens (read every step) or cancel."""
    settings.validate()
    stats = stats if stats is not None else GenerationStats()
    prompt, notes = clean_prompt(prompt, max_chars=context * 16)
    stats.notes.extend(notes)
    ids = tokenizer.encode(prompt) if prompt else []
    if not ids:  # an empty prompt starts a new paragraph
        ids = tokenizer.encode("\n")
    picker = Picker(settings)
    stats.seed = picker.seed
    start = time.perf_counter()
    logits = decoder.prefill(ids)
    history = list(ids)
    generated: list[int] = []
    emitted = ""
    while len(generated) < settings.max_new_tokens:
        if cancel is not None and cancel.is_set():
            stats.cancelled = True
            break
        recent = torch.tensor(history[-context:], dtype=torch.long)
        token, probs = picker(logits, recent)
        generated.append(token)
        history.append(token)
        text = tokenizer.decode(generated)
        piece = ""
        last = len(generated) >= settings.max_new_tokens
        if last or not text.endswith("\ufffd"):  # hold back half a UTF-8 character until the end
            piece, emitted = text[len(emitted):], text
        top = torch.topk(probs, min(TOP_CANDIDATES, probs.numel()))
        candidates = [Candidate(tokenizer.piece(int(i)), float(p)) for p, i in zip(top.values, top.indices) if p > 0]
        stats.tokens = len(generated)
        stats.seed = picker.seed
        stats.seconds = time.perf_counter() - start
        yield Step(piece, token, float(probs[token]), candidates, len(generated) - 1, picker.seed)
        if not last:
            logits = decoder.advance(token)
    stats.seconds = time.perf_counter() - start


def generate_text(decoder: Decoder, tokenizer: Tokenizer, prompt: str, settings: SamplerSettings,
                  context: int = 256, stats: GenerationStats | None = None) -> str:
    return "".join(step.text for step in stream(decoder, tokenizer, prompt, settings, stats=stats, context=context))
