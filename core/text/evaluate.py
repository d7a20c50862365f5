"""Quality metrics. Language models: bits per character over every character of a text."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from core.tokenizer import Tokenizer


def score_windows(n: int, first: int, ctx: int, stride: int) -> list[tuple[int, int, int]]:
    """(input start, first scored target, end) triples: the model reads ids[start:end-1]
    and targets ids[first:end] are scored; together they score ids[first:n] once each."""
    windows = []
    pos = first
    while pos < n:
        end = min(pos + (ctx if not windows else stride), n)
        windows.append((max(0, end - 1 - ctx), pos, end))
        pos = end
    return windows


@torch.no_grad()
def gpt_bits_per_char(model, tokenizer: Tokenizer, text: str, device: torch.device,
                      stride: int | None = None, batch_size: int = 16, prefix: list[int] = ()) -> dict:
    """Sliding windows of the full context; each token is scored once, with at least
    `context - stride` tokens of context once the first window is past. A leading
    newline stands in for "start of text", so the first character is scored too.
    `prefix` (a source token) opens every window, as it opens every training window."""
    if not text:
        raise ValueError("cannot score an empty text")
    prefix = torch.tensor(list(prefix), dtype=torch.long)
    ctx = model.config.block_size - prefix.numel()
    stride = stride or ctx // 2
    lead = tokenizer.encode("\n")
    ids = torch.tensor(lead + tokenizer.encode(text), dtype=torch.long)
    windows = score_windows(ids.numel(), len(lead), ctx, stride)
    nll = 0.0
    model.eval()
    for i in range(0, len(windows), batch_size):
        chunk = windows[i:i + batch_size]
        width = max(end - 1 - s for s, _, end in chunk)
        p = prefix.numel()
        x = torch.zeros(len(chunk), p + width, dtype=torch.long)
        y = torch.full((len(chunk), p + width), -1, dtype=torch.long)
        for row, (s, first, end) in enumerate(chunk):
            x[row, :p] = prefix
            x[row, p:p + end - 1 - s] = ids[s:end - 1]
            y[row, p + first - 1 - s:p + end - 1 - s] = ids[first:end]
        logits, _ = model(x.to(device))
        logits = logits[..., :model.config.vocab_size - len(getattr(model.config, "sources", ()))]
        nll += F.cross_entropy(logits.float().flatten(0, 1), y.to(device).flatten(), ignore_index=-1,
                               reduction="sum").item()
    n_pred = ids.numel() - len(lead)
    return {
        "bits_per_char": nll / len(text) / math.log(2),
        "chars": len(text),
        "tokens": n_pred,
    }


@torch.no_grad()
def recurrent_bits_per_char(model, tokenizer: Tokenizer, text: str, device: torch.device,
                            segments: int = 8, burn_in: int = 256) -> dict:
    """Stateful scoring: the text is cut into `segments` pieces run side by side;
    each piece first reads (without scoring) up to `burn_in` tokens before it, so
    every token is scored once with at least that much history."""
    if not text:
        raise ValueError("cannot score an empty text")
    lead = tokenizer.encode("\n")
    ids = torch.tensor(lead + tokenizer.encode(text), dtype=torch.long)
    n = ids.numel()
    bounds = torch.linspace(len(lead), n, segments + 1).long().tolist()
    rows = [(max(0, a - burn_in), a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    width = max(b - s for s, _, b in rows) - 1
    x = torch.zeros(len(rows), width, dtype=torch.long)
    y = torch.full((len(rows), width), -1, dtype=torch.long)
    for r, (s, a, b) in enumerate(rows):
        x[r, :b - 1 - s] = ids[s:b - 1]
        y[r, a - 1 - s:b - 1 - s] = ids[a:b]
    model.eval()
    nll, state = 0.0, None
    for t in range(0, width, 512):  # chunks bound the memory of the logits
        logits, _, state = model(x[:, t:t + 512].to(device), state=state)
        nll += F.cross_entropy(logits.float().flatten(0, 1), y[:, t:t + 512].to(device).flatten(),
                               ignore_index=-1, reduction="sum").item()
    n_pred = n - len(lead)
    return {
        "bits_per_char": nll / len(text) / math.log(2),
        "chars": len(text),
        "tokens": n_pred,
    }


def bits_per_char(lm, text: str, stride: int | None = None) -> dict:
    """Bits per character of a loaded language model (core.text.lm.LanguageModel) over all of `text`,
    conditioned on its voice's source token where it has one."""
    if lm.kind == "gpt":
        return gpt_bits_per_char(lm.model, lm.tokenizer, text, lm.device, stride=stride, prefix=lm.prefix())
    return recurrent_bits_per_char(lm.model, lm.tokenizer, text, lm.device)


def copy_rate(samples: list[str], train_text: str, span: int = 50) -> float:
    """Share of the `span`-character windows of the samples (every offset) that
    occur verbatim in the training text: how much the model recites."""
    windows = [s[i:i + span] for s in samples for i in range(len(s) - span + 1)]
    if not windows:
        raise ValueError(f"samples are shorter than {span} characters")
    return sum(w in train_text for w in windows) / len(windows)


def lm_samples(lm, n: int = 20, chars: int = 500, temperature: float = 0.8) -> list[str]:
    """`n` unprompted samples of `chars` characters, seeds 0..n-1."""
    from core.text.sampling import SamplerSettings

    out = []
    for seed in range(n):
        settings = SamplerSettings(temperature=temperature, max_new_tokens=4 * chars, seed=seed)
        text = ""
        for step in lm.stream("", settings):
            text += step.text
            if len(text) >= chars:
                break
        out.append(text[:chars])
    return out
