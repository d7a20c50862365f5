"""English→French translation with the from-scratch Transformer: greedy and beam search, batched.

Each batch runs the encoder once; the decoder then advances one token per
step with its cache (core/models/translator.py). Every row stops at its own
length limit, set by its own source length, so a sentence translates to the
same text alone or in a padded batch. Each Translation carries the
cross-attention weights of the tokens it produced (averaged over heads and
layers), for the heatmaps of core/attention_plot.py.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.checkpoints import CheckpointError, load_checkpoint, load_weights
from core.device import choose_device
from core.models.translator import Translator, TranslatorConfig
from core.paths import TRANSLATOR_CHECKPOINT, checkpoint_dir
from core.tokenizer import Tokenizer


LENGTH_PENALTY = 0.6  # GNMT's alpha: without it, beam search favours short translations


@dataclass
class Translation:
    source: str                          # the sentence as given
    text: str                            # its French translation ("" for an empty line)
    source_tokens: list[str] = field(default_factory=list)  # the pieces the encoder read, </s> included
    target_tokens: list[str] = field(default_factory=list)  # the pieces produced, </s> included
    attention: np.ndarray | None = None  # (len(target_tokens), len(source_tokens)) cross-attention weights
    log_prob: float = 0.0                # of target_tokens under the model
    notes: list[str] = field(default_factory=list)  # what was done to the input, for the user


def output_limits(src: torch.Tensor, cfg: TranslatorConfig) -> torch.Tensor:
    """Most tokens (</s> included) each row may produce, from its own source length alone:
    French runs a little longer than English."""
    lengths = (src != cfg.pad_id).sum(1)
    return torch.clamp(lengths * 3 // 2 + 10, max=cfg.max_len - 1)


def _blocked(logits: torch.Tensor, config: TranslatorConfig) -> torch.Tensor:
    """Padding and <s> are never produced."""
    logits[:, config.pad_id] = float("-inf")
    logits[:, config.bos_id] = float("-inf")
    return logits


def _force_eos(logp: torch.Tensor, rows: torch.Tensor, eos: int) -> torch.Tensor:
    """Rows at their length limit may only close."""
    if rows.any():
        closing = logp[rows, eos]
        logp[rows] = float("-inf")
        logp[rows, eos] = closing
    return logp


@torch.no_grad()
def greedy_decode(model: Translator, src: torch.Tensor) -> list[tuple[list[int], torch.Tensor, float]]:
    """Per row: (tokens ending in </s>, cross-attention (T, S), log-probability)."""
    cfg = model.config
    B = src.size(0)
    limits = output_limits(src, cfg)
    memory, src_mask = model.encode(src)
    cache = model.start_cache(memory, src_mask)
    last = torch.full((B, 1), cfg.bos_id, dtype=torch.long, device=src.device)
    done = torch.zeros(B, dtype=torch.bool, device=src.device)
    steps, weights, log_probs = [], [], torch.zeros(B, device=src.device)
    for t in range(int(limits.max())):
        logits, w = model.decode(last, cache=cache, need_weights=True)
        logp = _force_eos(_blocked(logits[:, -1].float(), cfg).log_softmax(-1), limits == t + 1, cfg.eos_id)
        nxt = logp.argmax(-1)
        log_probs += torch.where(done, 0.0, logp.gather(1, nxt[:, None]).squeeze(1))
        nxt = torch.where(done, cfg.pad_id, nxt)
        steps.append(nxt)
        weights.append(w[:, -1].float())
        done |= nxt == cfg.eos_id
        if done.all():
            break
        last = nxt[:, None]
    tokens = torch.stack(steps, 1).tolist()
    attn = torch.stack(weights, 1)
    out = []
    for row in range(B):
        n = tokens[row].index(cfg.eos_id) + 1
        out.append((tokens[row][:n], attn[row, :n], float(log_probs[row])))
    return out


@torch.no_grad()
def beam_search(model: Translator, src: torch.Tensor, beam: int = 4,
                length_penalty: float = LENGTH_PENALTY) -> list[tuple[list[int], torch.Tensor, float]]:
    """Per row: the best (tokens ending in </s>, cross-attention (T, S), log-probability), ranked by
    log-probability / ((5 + length) / 6) ** length_penalty (Wu et al., 2016).

    The bookkeeping (which candidates close, which continue) runs on the CPU over the 2K best
    candidates of each row: one small copy per step instead of a GPU sync per candidate."""
    cfg = model.config
    B, K = src.size(0), beam
    limits = output_limits(src, cfg).tolist()
    memory, src_mask = model.encode(src)
    cache = model.start_cache(memory.repeat_interleave(K, 0), src_mask.repeat_interleave(K, 0))
    device = src.device
    history = torch.full((B * K, 1), cfg.bos_id, dtype=torch.long)  # on the CPU
    attn = torch.zeros(B * K, 0, src.size(1), device=device)
    scores = torch.zeros(B, K, device=device)
    scores[:, 1:] = float("-inf")  # all beams start equal: expand the first one only
    finished: list[list[tuple[float, list[int], torch.Tensor, float]]] = [[] for _ in range(B)]
    done = [False] * B
    penalty = lambda n: ((5 + n) / 6) ** length_penalty  # noqa: E731
    at_limit = torch.tensor([lim for lim in limits for _ in range(K)], device=device)
    last = history.to(device)
    for t in range(max(limits)):
        logits, w = model.decode(last, cache=cache, need_weights=True)
        logp = _force_eos(_blocked(logits[:, -1].float(), cfg).log_softmax(-1), at_limit == t + 1, cfg.eos_id)
        V = logp.size(-1)
        candidates = (scores.view(B * K, 1) + logp).view(B, K * V)
        top_scores, top = candidates.topk(2 * K, dim=1)  # at most K of them close, so K stay open
        step_attn = torch.cat([attn, w[:, -1:].float()], dim=1)
        top_scores, top = top_scores.cpu(), top.cpu()
        from_beam, token = top // V, top % V
        closing = token == cfg.eos_id
        # plain lists for the per-sentence bookkeeping: indexing a tensor element by element costs more
        scores_at, from_at, closing_at = top_scores.tolist(), from_beam.tolist(), closing.tolist()
        for b in range(B):
            if done[b]:
                continue
            for j in range(K):  # only closings that rank among the best K become hypotheses
                if closing_at[b][j] and scores_at[b][j] > float("-inf"):
                    row = b * K + from_at[b][j]
                    raw = scores_at[b][j]
                    finished[b].append((raw / penalty(t + 1), history[row, 1:].tolist() + [cfg.eos_id],
                                        step_attn[row], raw))
            finished[b] = sorted(finished[b], key=lambda h: -h[0])[:K]
            best_open = max(x for x, c in zip(scores_at[b], closing_at[b]) if not c) / penalty(t + 1)
            done[b] = t + 1 >= limits[b] or (len(finished[b]) == K and finished[b][-1][0] >= best_open)
        if all(done):
            break
        # the first K open candidates of each row continue
        keep = ~closing & ((~closing).cumsum(1) <= K)
        rows = (torch.arange(B)[:, None] * K + from_beam[keep].view(B, K)).flatten()
        history = torch.cat([history[rows], token[keep].view(B * K, 1)], dim=1)
        scores = top_scores[keep].view(B, K).to(device)
        rows = rows.to(device)
        cache.reorder(rows)
        attn = step_attn[rows]
        last = history[:, -1:].to(device)
    return [(toks, a, raw) for _, toks, a, raw in (hyps[0] for hyps in finished)]


def clean_source(text: str) -> tuple[str, list[str]]:
    """One line of plain text: control characters go, line breaks and tabs become spaces."""
    notes = []
    lines = text.splitlines()
    if sum(1 for line in lines if line.strip()) > 1:
        notes.append(f"joined {len(lines)} lines into one")
    flat = " ".join(lines).replace("\t", " ")
    cleaned = "".join(ch for ch in flat if unicodedata.category(ch) != "Cc")
    if len(cleaned) != len(flat):
        notes.append(f"removed {len(flat) - len(cleaned)} control character(s)")
    return " ".join(cleaned.split()), notes


@dataclass
class EnFrTranslator:
    """A loaded translator: model, tokenizer and device, ready to translate lists of sentences."""
    model: Translator
    tokenizer: Tokenizer
    device: torch.device
    path: Path | None = None
    training: dict = field(default_factory=dict)

    def num_params(self) -> int:
        return self.model.num_params()

    @property
    def max_source_tokens(self) -> int:
        return self.model.config.max_len - 1  # room for </s>

    def translate(self, sentences: list[str], beam: int = 4, length_penalty: float = LENGTH_PENALTY,
                  batch_size: int = 64) -> list[Translation]:
        """Translate every sentence; beam 1 is greedy. Empty lines come back empty, with a note."""
        if beam < 1:
            raise ValueError(f"beam must be 1 or more, not {beam}")
        results = [Translation(source=s, text="") for s in sentences]
        work = []
        for i, sentence in enumerate(sentences):
            cleaned, notes = clean_source(sentence)
            results[i].notes.extend(notes)
            if not cleaned:
                results[i].notes.append("empty line: nothing to translate")
                continue
            ids = self.tokenizer.encode(cleaned)
            if len(ids) > self.max_source_tokens:
                kept = self.tokenizer.decode(ids[:self.max_source_tokens])
                results[i].notes.append(f"input is {len(ids)} tokens; the model reads only the first "
                                        f"{self.max_source_tokens} (up to “…{kept[-30:]}”)")
                ids = ids[:self.max_source_tokens]
            work.append((i, ids + [self.model.config.eos_id]))
        work.sort(key=lambda item: -len(item[1]))  # similar lengths together: little padding
        self.model.eval()
        for start in range(0, len(work), batch_size):
            chunk = work[start:start + batch_size]
            src = torch.full((len(chunk), len(chunk[0][1])), self.model.config.pad_id, dtype=torch.long)
            for row, (_, ids) in enumerate(chunk):
                src[row, :len(ids)] = torch.tensor(ids)
            src = src.to(self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
                decoded = greedy_decode(self.model, src) if beam == 1 else \
                    beam_search(self.model, src, beam, length_penalty)
            for (i, ids), (out, attn, log_prob) in zip(chunk, decoded):
                r = results[i]
                r.text = self.tokenizer.decode([t for t in out if t != self.model.config.eos_id])
                r.source_tokens = [self.tokenizer.piece(t) for t in ids]
                r.target_tokens = [self.tokenizer.piece(t) for t in out]
                r.attention = attn[:, :len(ids)].cpu().numpy()
                r.log_prob = log_prob
        return results


def build_translator(config: dict) -> Translator:
    try:
        return Translator(TranslatorConfig(**config))
    except TypeError as e:
        raise CheckpointError(f"translator config this version cannot build ({e})") from e


def load_translator(path: str | Path | None = None, device: str | torch.device | None = None) -> EnFrTranslator:
    """The checkpoint at `path` (default: en-fr.safetensors in the checkpoints folder)."""
    path = Path(path) if path else checkpoint_dir() / TRANSLATOR_CHECKPOINT
    ckpt = load_checkpoint(path, "translator")
    if ckpt.tokenizer is None:
        raise CheckpointError(f"{path} carries no tokenizer")
    dev = device if isinstance(device, torch.device) else choose_device(device).device
    model = build_translator(ckpt.config)
    load_weights(model, ckpt.tensors, path)
    model.to(dev).eval()
    return EnFrTranslator(model, Tokenizer(ckpt.tokenizer), dev, path, ckpt.training)
