"""Decoding for the translator: greedy and beam search over a batch of source sentences.

Each batch runs the encoder once; the decoder then advances one token per
step with its cache (core/models/translator.py). Every row stops at its own
length limit, set by its own source length, so a sentence translates to the
same text alone or in a padded batch. Both return, per row, the tokens, the
cross-attention weights of the tokens produced (averaged over heads and
layers) and the log-probability.
"""
from __future__ import annotations

import torch

from core.models.translator import Translator, TranslatorConfig

LENGTH_PENALTY = 0.6  # GNMT's alpha: without it, beam search favours short translations


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
