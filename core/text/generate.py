"""Streaming text generation over any language model (GPT or LSTM).

A model is wrapped in a decoder: `prefill(ids)` reads a prompt and returns the
logits after it, `advance(token)` the logits after one more token. A decoder
also runs several rows at once: `fork(n)` makes n rows of the prompt read
once, `advance_rows(tokens)` moves every row on by its own token and
`keep(rows)` drops the others. The GPT decoder keeps a KV cache and, when the
context is full, re-reads the last half-context (the prompt slides, never
fails); the LSTM decoder carries its hidden state.

At batch 1 a small model is bound by per-token overhead, not arithmetic, so
the loop does little besides the model: the sampler filters the top-k slice,
only the undelivered tail of the text is decoded, the candidates of a step
are worked out only when someone reads them, and the host reads one small
tensor per token (the drawn tokens stay on the device to feed the model).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Protocol, Sequence

import torch
import torch.nn.functional as F

from core.models.gpt import OneTokenStep
from core.safe_text import clean
from core.text.sampling import Picker, SamplerSettings, draw
from core.tokenizer import Tokenizer

TOP_CANDIDATES = 8
LONG_SLICE = 256


class Decoder(Protocol):
    def prefill(self, ids: list[int]) -> torch.Tensor: ...              # (V,) after the prompt, one row
    def advance(self, token: int) -> torch.Tensor: ...                 # (V,) after one more token
    def fork(self, n: int) -> None: ...                                # the one row becomes n rows
    def advance_rows(self, tokens: torch.Tensor) -> torch.Tensor: ...  # (rows, V) after one token per row
    def keep(self, rows: list[int]) -> None: ...                       # keep only these rows, in this order


@dataclass
class Candidate:
    text: str
    prob: float


@dataclass(eq=False)
class Step:
    text: str                   # new text to append (may be "" while a character is incomplete)
    token: int
    prob: float                 # probability the drawn token had
    index: int                  # 0-based number of the generated token
    seed: int
    # the best tokens of this step's distribution (probabilities, ids), kept as tensors
    head: tuple[torch.Tensor, torch.Tensor] = field(repr=False)
    tokenizer: Tokenizer = field(repr=False)

    @cached_property
    def candidates(self) -> list[Candidate]:
        """The best candidates of this step's distribution, most likely first."""
        probs, ids = self.head
        return [Candidate(self.tokenizer.piece(i), p) for p, i in zip(probs.tolist(), ids.tolist()) if p > 0]


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
        text_vocab = model.config.vocab_size - len(getattr(model.config, "sources", ()))
        self.head = model.lm_head.weight[:text_vocab]
        self.step = OneTokenStep(model)
        self.cache = model.new_cache()
        self.tokens: torch.Tensor | None = None  # (rows, block_size): the ids the cache holds, prefix first

    def _read(self, n: int) -> torch.Tensor:
        """Read the first n tokens afresh; only the last position's logits (the others are never used)."""
        self.cache.length = 0
        return F.linear(self.model.hidden_states(self.tokens[:, :n], self.cache)[:, -1], self.head)

    @torch.no_grad()
    def prefill(self, ids: list[int]) -> torch.Tensor:
        ids = self.prefix + list(ids[-self.context:])
        self.tokens = torch.zeros(1, self.model.config.block_size, dtype=torch.long, device=self.device)
        self.tokens[0, :len(ids)] = torch.tensor(ids)
        return self._read(len(ids))[0]

    def fork(self, n: int) -> None:
        self._select(torch.zeros(n, dtype=torch.long, device=self.device))

    def keep(self, rows: list[int]) -> None:
        self._select(torch.tensor(rows, dtype=torch.long, device=self.device))

    def _select(self, rows: torch.Tensor) -> None:
        self.tokens = self.tokens.index_select(0, rows)
        self.cache.select(rows)

    @torch.no_grad()
    def advance_rows(self, tokens: torch.Tensor) -> torch.Tensor:
        n = len(self.cache)
        if n >= self.model.config.block_size:
            # positions are absolute, so a full cache cannot shift: re-read the prefix and the last half-context
            keep, start = self.context // 2, len(self.prefix)
            window = torch.cat([self.tokens[:, n - keep + 1:n], tokens[:, None]], 1)
            self.tokens[:, start:start + keep] = window
            return self._read(start + keep)
        self.tokens[:, n] = tokens
        return F.linear(self.step(tokens, self.cache), self.head)

    def advance(self, token: int) -> torch.Tensor:
        return self.advance_rows(torch.tensor([token], device=self.device))[0]


class Detokenizer:
    """The text of a growing list of ids, piece by piece. Each call decodes only the ids not yet
    delivered (decoding the whole text at every token costs more the longer it gets) and holds them
    back while they end in half a UTF-8 character, so the pieces concatenate to the decode of all ids."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.pending: list[int] = []

    def push(self, token: int, last: bool = False) -> str:
        self.pending.append(token)
        text = self.tokenizer.decode(self.pending)
        if not last and text.endswith("\ufffd"):
            return ""
        self.pending = []
        return text


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


def _prompt_ids(tokenizer: Tokenizer, prompt: str, settings: SamplerSettings, stats: GenerationStats,
                context: int) -> list[int]:
    settings.validate()
    prompt, notes = clean_prompt(prompt, max_chars=context * 16)
    stats.notes.extend(notes)
    ids = tokenizer.encode(prompt) if prompt else []
    return ids or tokenizer.encode("\n")  # an empty prompt starts a new paragraph


def _rows(decoder: Decoder, tokenizer: Tokenizer, ids: list[int], settings: SamplerSettings,
          pickers: list[Picker], cancel: threading.Event | None, stats: GenerationStats, context: int,
          stop: Sequence[str] = ()) -> Iterator[tuple[int, Step]]:
    """(row, Step) for every token of every row, rows in step. A row ends at max_new_tokens (read every
    step), once its text holds one of `stop`, or on cancel; the decoder drops the rows that end."""
    start = time.perf_counter()
    logits = decoder.prefill(ids)[None]
    if len(pickers) > 1:  # every row continues the one reading of the prompt
        decoder.fork(len(pickers))
        logits = logits.expand(len(pickers), -1)
    alive = list(range(len(pickers)))  # the decoder's rows, as numbers of the rows asked for
    histories = [list(ids) for _ in pickers]
    detokenizers = [Detokenizer(tokenizer) for _ in pickers]
    texts = ["" for _ in pickers]
    longest_stop = max((len(s) for s in stop), default=0)
    made = 0
    while made < settings.max_new_tokens:
        if cancel is not None and cancel.is_set():
            stats.cancelled = True
            break
        recent = None
        if settings.repetition_penalty != 1.0:  # every row holds as many tokens: one (rows, L) tensor
            recent = torch.tensor([histories[row][-context:] for row in alive]).to(logits.device, non_blocking=True)
        drawn = draw([pickers[row] for row in alive], logits, recent)
        made += 1
        last = made >= settings.max_new_tokens
        staying = []
        for i, row in enumerate(alive):
            token = drawn.ids[i]
            histories[row].append(token)
            piece = detokenizers[row].push(token, last)
            probs, top_ids = drawn.heads[i]
            head = (probs[:TOP_CANDIDATES], top_ids[:TOP_CANDIDATES])
            if probs.numel() > LONG_SLICE:  # top-k off: a Step kept must not keep the sorted vocabulary
                head = (head[0].clone(), head[1].clone())
            stats.tokens += 1
            stats.seconds = time.perf_counter() - start
            yield row, Step(piece, token, drawn.probs[i], made - 1, pickers[row].seed, head, tokenizer)
            if stop and piece:
                texts[row] += piece
                if any(s in texts[row][-(len(piece) + longest_stop):] for s in stop):
                    continue
            staying.append(i)
        if last or not staying:
            break
        tokens = drawn.tokens
        if len(staying) < len(alive):
            decoder.keep(staying)
            alive = [alive[i] for i in staying]
            tokens = tokens[torch.tensor(staying, device=tokens.device)]
        logits = decoder.advance_rows(tokens)
    stats.seconds = time.perf_counter() - start


def stream(decoder: Decoder, tokenizer: Tokenizer, prompt: str, settings: SamplerSettings,
           cancel: threading.Event | None = None, stats: GenerationStats | None = None,
           context: int = 256) -> Iterator[Step]:
    """Yield one Step per generated token until max_new_tokens (read every step) or cancel."""
    stats = stats if stats is not None else GenerationStats()
    ids = _prompt_ids(tokenizer, prompt, settings, stats, context)
    picker = Picker(settings)
    stats.seed = picker.seed
    for _, step in _rows(decoder, tokenizer, ids, settings, [picker], cancel, stats, context):
        stats.seed = step.seed
        yield step


def stream_siblings(decoder: Decoder, tokenizer: Tokenizer, prompt: str, settings: SamplerSettings,
                    seeds: Sequence[int], cancel: threading.Event | None = None,
                    stats: GenerationStats | None = None, context: int = 256,
                    stop: Sequence[str] = ()) -> Iterator[tuple[int, Step]]:
    """len(seeds) continuations of one prompt decoded together: the prompt is read once, row i draws
    with seeds[i] (greedy, it is the single-row stream; sampling, a sample of the same distribution).
    Yields (row, Step); a row ends at max_new_tokens or after the token that completes one of `stop`,
    every row on cancel. stats.tokens counts the tokens of all rows."""
    if not seeds:
        raise ValueError("give at least one seed")
    stats = stats if stats is not None else GenerationStats()
    ids = _prompt_ids(tokenizer, prompt, settings, stats, context)
    pickers = [Picker(settings, seed) for seed in seeds]
    yield from _rows(decoder, tokenizer, ids, settings, pickers, cancel, stats, context, stop)


def generate_text(decoder: Decoder, tokenizer: Tokenizer, prompt: str, settings: SamplerSettings,
                  context: int = 256, stats: GenerationStats | None = None) -> str:
    return "".join(step.text for step in stream(decoder, tokenizer, prompt, settings, stats=stats, context=context))
