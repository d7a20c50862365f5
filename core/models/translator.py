"""An encoder-decoder Transformer for English→French, written from scratch.

The shape of "Attention Is All You Need" (Vaswani et al., 2017): sinusoidal
positions, multi-head attention, an encoder stack over the source sentence and
a decoder stack with causal self-attention and cross-attention over the
encoder's output. Two departures, both for a small model trained briefly:
LayerNorm comes before each sublayer (pre-LN trains stably at a higher
learning rate with a short warmup; a final LayerNorm closes each stack), and
one embedding over a joint English+French vocabulary serves as source
embedding, target embedding and output layer (three-way tying spares a third
of the parameters).

`DecoderCache` lets decoding feed one token at a time: each layer's
self-attention keys and values gain one position per step, written in place,
and the cross-attention keys and values over the source are computed once per
batch.
Its logits equal those of a full decoder pass (tests/core/translate/test_translator.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class TranslatorConfig:
    """The shape; the shipped model's values, and why, are in core/train/recipes.py."""
    vocab_size: int
    d_model: int
    n_head: int
    n_encoder_layer: int
    n_decoder_layer: int
    d_ff: int
    max_len: int        # tokens per side, the closing </s> (and the target's <s>) included
    dropout: float = 0.0  # training sets it
    pad_id: int = 0
    bos_id: int = 2
    eos_id: int = 3

    def to_dict(self) -> dict:
        return asdict(self)


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """The paper's fixed encoding: sines and cosines of geometrically spaced wavelengths."""
    pos = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, dropout: float,
           need_weights: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """softmax(q k^T / sqrt(d)) v per head; `mask` is True where a query may look.

    The fused kernel cannot hand back the weights, so when they are wanted
    (decoding, to show the cross-attention) the same sum is written out."""
    if not need_weights:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout), None
    scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.float().softmax(dim=-1).to(q.dtype)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """Queries from one sequence, keys and values from the same one (self) or another (cross)."""

    def __init__(self, config: TranslatorConfig):
        super().__init__()
        assert config.d_model % config.n_head == 0
        self.q_proj = nn.Linear(config.d_model, config.d_model)
        self.k_proj = nn.Linear(config.d_model, config.d_model)
        self.v_proj = nn.Linear(config.d_model, config.d_model)
        self.out_proj = nn.Linear(config.d_model, config.d_model)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.dropout = config.dropout

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        return x.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, C/H)

    def keys_values(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.split_heads(self.k_proj(source)), self.split_heads(self.v_proj(source))

    def forward(self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None,
                need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, T, C = x.size()
        q = self.split_heads(self.q_proj(x))
        y, weights = attend(q, k, v, mask, self.dropout if self.training else 0.0, need_weights)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.out_proj(y)), weights


class FeedForward(nn.Module):
    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.fc = nn.Linear(config.d_model, config.d_ff)
        self.proj = nn.Linear(config.d_ff, config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(F.relu(self.fc(x))))


class EncoderLayer(nn.Module):
    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model)
        self.self_attn = MultiHeadAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model)
        self.ff = FeedForward(config)

    def forward(self, x: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        h = self.ln_1(x)
        x = x + self.self_attn(h, *self.self_attn.keys_values(h), src_mask)[0]
        return x + self.ff(self.ln_2(x))


class DecoderCache:
    """What decoding one token at a time keeps from the steps before, for a batch of rows.

    The self-attention keys and values live in buffers of the longest output, allocated at the
    first step: a step writes its position in place instead of copying the past (torch.cat)."""

    def __init__(self, cross: list[tuple[torch.Tensor, torch.Tensor]], src_mask: torch.Tensor, capacity: int):
        self.cross = cross                # per layer: keys and values over the source, computed once
        self.src_mask = src_mask          # (B, 1, 1, S)
        self.capacity = capacity
        self.keys: list[torch.Tensor] = []    # per layer (B, H, capacity, D)
        self.values: list[torch.Tensor] = []
        self.length = 0                       # positions filled; Translator.decode moves it on

    def __len__(self) -> int:
        return self.length

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.keys:
            shape = (k.size(0), k.size(1), self.capacity, k.size(3))
            self.keys = [k.new_empty(shape) for _ in self.cross]
            self.values = [v.new_empty(shape) for _ in self.cross]
        start, end = self.length, self.length + k.size(2)
        self.keys[layer].narrow(2, start, end - start).copy_(k)
        self.values[layer].narrow(2, start, end - start).copy_(v)
        return self.keys[layer].narrow(2, 0, end), self.values[layer].narrow(2, 0, end)

    def reorder(self, rows: torch.Tensor) -> None:
        """Keep the rows at `rows` (beam search moving to its new hypotheses), copying the filled
        positions only. The source side is left alone: the beams of one sentence share it, and the
        hypotheses of a sentence always come from that sentence's own beams."""
        for buffer in self.keys + self.values:
            filled = buffer.narrow(2, 0, self.length)
            filled.copy_(filled.index_select(0, rows))


class DecoderLayer(nn.Module):
    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.d_model)
        self.self_attn = MultiHeadAttention(config)
        self.ln_2 = nn.LayerNorm(config.d_model)
        self.cross_attn = MultiHeadAttention(config)
        self.ln_3 = nn.LayerNorm(config.d_model)
        self.ff = FeedForward(config)

    def forward(self, x: torch.Tensor, cross_kv: tuple[torch.Tensor, torch.Tensor], src_mask: torch.Tensor,
                cache: DecoderCache | None, layer: int, past: int,
                need_weights: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        T = x.size(1)
        h = self.ln_1(x)
        k, v = self.self_attn.keys_values(h)
        if cache is not None:
            k, v = cache.append(layer, k, v)
        # causal: position past+i sees the cached prefix and itself; a single new token sees everything
        causal = None if T == 1 else torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
        x = x + self.self_attn(h, k, v, causal)[0]
        y, weights = self.cross_attn(self.ln_2(x), *cross_kv, src_mask, need_weights)
        x = x + y
        return x + self.ff(self.ln_3(x)), weights


class Translator(nn.Module):
    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.register_buffer("positions", sinusoidal_positions(config.max_len, config.d_model), persistent=False)
        self.drop = nn.Dropout(config.dropout)
        self.encoder = nn.ModuleList([EncoderLayer(config) for _ in range(config.n_encoder_layer)])
        self.ln_enc = nn.LayerNorm(config.d_model)
        self.decoder = nn.ModuleList([DecoderLayer(config) for _ in range(config.n_decoder_layer)])
        self.ln_dec = nn.LayerNorm(config.d_model)
        # Glorot-uniform matrices as in the paper; the embedding at std d^-1/2 so that, scaled by
        # sqrt(d), it matches the positional encoding in size, and as the output layer gives unit logits
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.embed.weight, mean=0.0, std=config.d_model ** -0.5)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def _embed(self, ids: torch.Tensor, start: int = 0) -> torch.Tensor:
        T = ids.size(1)
        if start + T > self.config.max_len:
            raise ValueError(f"sequence of {start + T} tokens exceeds the model's maximum of {self.config.max_len}")
        x = self.embed(ids) * math.sqrt(self.config.d_model) + self.positions[start:start + T]
        return self.drop(x)

    def encode(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encoder output (B, S, C) and the padding mask (B, 1, 1, S) every attention over it uses."""
        src_mask = (src != self.config.pad_id)[:, None, None, :]
        x = self._embed(src)
        for layer in self.encoder:
            x = layer(x, src_mask)
        return self.ln_enc(x), src_mask

    def start_cache(self, memory: torch.Tensor, src_mask: torch.Tensor) -> DecoderCache:
        return DecoderCache([layer.cross_attn.keys_values(memory) for layer in self.decoder], src_mask,
                            self.config.max_len)

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor | None = None, src_mask: torch.Tensor | None = None,
               cache: DecoderCache | None = None,
               need_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) for target prefix `tgt`; with `cache`, `tgt` continues the tokens it has seen.

        With `need_weights`, also the cross-attention weights averaged over heads and layers (B, T, S)."""
        past = len(cache) if cache is not None else 0
        if cache is not None:
            src_mask = cache.src_mask
        x = self._embed(tgt, past)
        total = None
        for i, layer in enumerate(self.decoder):
            cross_kv = cache.cross[i] if cache is not None else layer.cross_attn.keys_values(memory)
            x, weights = layer(x, cross_kv, src_mask, cache, i, past, need_weights)
            if need_weights:
                total = weights.mean(dim=1) if total is None else total + weights.mean(dim=1)
        if cache is not None:
            cache.length += tgt.size(1)
        logits = F.linear(self.ln_dec(x), self.embed.weight)  # the output layer is the shared embedding
        return logits, (total / len(self.decoder) if need_weights else None)

    def forward(self, src: torch.Tensor, tgt_in: torch.Tensor, targets: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher forcing: logits for every target position; the loss skips padding."""
        memory, src_mask = self.encode(src)
        logits, _ = self.decode(tgt_in, memory, src_mask)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=self.config.pad_id,
                                   label_smoothing=label_smoothing)
        return logits, loss
