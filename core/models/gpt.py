"""A decoder-only GPT written from scratch, in the shape of nanoGPT's model.py.

Token embeddings with positions either learned (GPT-2's way, kept so its
weights load) or rotary (RoPE: queries and keys are rotated by their
position, which costs no parameters and lets the context grow for free),
pre-LayerNorm blocks of causal multi-head self-attention and an MLP (GPT-2's
GELU, or SwiGLU), dropout, and an output layer tied to the token embedding.
`KVCache` lets generation feed one token at a time; its logits equal those
of a full forward pass (see tests/core/models/test_gpt.py).
Module names follow GPT-2's so Hugging Face weights map onto them
(core/models/gpt2_import.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    """The shape; the shipped model's values, and why, are in core/train/recipes.py. The options
    default to GPT-2's choices, so its imported weights and checkpoints saved before an option
    existed still build."""
    vocab_size: int
    block_size: int
    n_layer: int
    n_head: int
    n_embd: int
    dropout: float = 0.0  # training sets it; inference never uses it
    bias: bool = True
    gelu: str = "none"  # "tanh" reproduces GPT-2's approximate GELU
    layer_norm_eps: float = 1e-5
    position: str = "learned"  # "learned" (GPT-2) or "rope"
    rope_base: float = 10000.0
    mlp: str = "gelu"  # "gelu" (GPT-2) or "swiglu"
    # Source tokens: the last len(sources) ids of the vocabulary are no text but say which corpus a
    # window comes from (as CTRL's control codes); sources[0] is the model's own voice, the one it writes in.
    sources: list[str] = field(default_factory=list)

    def __post_init__(self):
        if self.position not in ("learned", "rope"):
            raise ValueError(f"position must be 'learned' or 'rope', not {self.position!r}")
        if self.mlp not in ("gelu", "swiglu"):
            raise ValueError(f"mlp must be 'gelu' or 'swiglu', not {self.mlp!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def text_vocab_size(self) -> int:
        """Ids below this are text tokens; the ids from here up are source tokens."""
        return self.vocab_size - len(self.sources)

    def source_token(self, name: str) -> int:
        return self.text_vocab_size + self.sources.index(name)


class KVCache:
    """Keys and values of every layer for the tokens seen so far."""

    def __init__(self, n_layer: int):
        self.layers: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * n_layer

    def __len__(self) -> int:
        first = self.layers[0]
        return 0 if first is None else first[0].size(2)

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        past = self.layers[layer]
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        self.layers[layer] = (k, v)
        return k, v


def rope_tables(config: GPTConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of every position's rotation angles, (block_size, head_dim / 2)."""
    head_dim = config.n_embd // config.n_head
    freqs = config.rope_base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(config.block_size, dtype=torch.float32), freqs)
    return angles.cos(), angles.sin()


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (first half, second half) of the head dimension of x (B, H, T, D) by the angles."""
    a, b = x.float().chunk(2, dim=-1)
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1).type_as(x)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0, past: int = 0,
                rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if rope is not None:  # the cache keeps rotated keys: a key's rotation depends on its position only
            q, k = rotate(q, *rope), rotate(k, *rope)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        # No dropout on the attention weights: on the CPU it forces the slow attention kernel
        # (a third of the training speed), and dropout on the residual branches regularises.
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        elif T == 1:  # one new token sees everything before it
            y = F.scaled_dot_product_attention(q, k, v)
        else:  # a chunk after a cached prefix: causal within the chunk, full over the prefix
            mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """GPT-2's GELU MLP (4x wide), or SwiGLU: silu(gate) * up, about 8/3 wide so that its three
    matrices hold no more parameters than GELU's two."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.swiglu = config.mlp == "swiglu"
        hidden = max(32, int(8 * config.n_embd / 3) // 32 * 32) if self.swiglu else 4 * config.n_embd
        self.c_fc = nn.Linear(config.n_embd, 2 * hidden if self.swiglu else hidden, bias=config.bias)
        self.gelu = nn.GELU(approximate=config.gelu)
        self.c_proj = nn.Linear(hidden, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c_fc(x)
        if self.swiglu:
            gate, up = h.chunk(2, dim=-1)
            h = F.silu(gate) * up
        else:
            h = self.gelu(h)
        return self.dropout(self.c_proj(h))


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0, past: int = 0,
                rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer, past, rope)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    tied_weights = ("lm_head.weight",)

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps, bias=config.bias),
        ))
        if config.position == "learned":
            self.transformer.wpe = nn.Embedding(config.block_size, config.n_embd)
        else:  # computed, not stored: the checkpoint holds weights only
            cos, sin = rope_tables(config)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # weight tying
        self.apply(self._init_weights)
        # GPT-2's scaled init of the residual projections
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        """Parameters, counting the tied embedding once."""
        return sum(p.numel() for p in self.parameters())

    @property
    def context_size(self) -> int:
        return self.config.block_size

    def new_cache(self) -> KVCache:
        return KVCache(self.config.n_layer)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None,
                cache: KVCache | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position of `idx` (B, T); with `cache`, `idx` continues it."""
        B, T = idx.size()
        start = len(cache) if cache is not None else 0
        if start + T > self.config.block_size:
            raise ValueError(f"sequence of {start + T} tokens exceeds the context of {self.config.block_size}")
        x = self.transformer.wte(idx)
        rope = None
        if self.config.position == "learned":
            x = x + self.transformer.wpe(torch.arange(start, start + T, dtype=torch.long, device=idx.device))
        else:
            rope = (self.rope_cos[start:start + T], self.rope_sin[start:start + T])
        x = self.transformer.drop(x)
        for i, block in enumerate(self.transformer.h):
            x = block(x, cache, i, start, rope)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=-1)
        return logits, loss
