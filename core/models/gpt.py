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
    """Keys and values of every layer for the tokens seen so far, for a batch of rows.

    Each layer's buffer holds the whole context and is allocated at the first write: a new token
    is written in place instead of copying every past key and value (torch.cat) at every token,
    and re-reading a window after the context slides reuses the same buffers."""

    def __init__(self, n_layer: int, capacity: int):
        self.n_layer = n_layer
        self.capacity = capacity
        self.keys: list[torch.Tensor] = []    # per layer (B, H, capacity, D)
        self.values: list[torch.Tensor] = []
        self.length = 0                       # positions filled, the same in every layer

    def __len__(self) -> int:
        return self.length

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write k, v (B, H, T, D) after the filled positions; return the keys and values of all of them.
        The caller moves `length` on once every layer has written (GPT.hidden_states)."""
        if not self.keys or self.keys[0].shape[0] != k.size(0) or self.keys[0].dtype != k.dtype:
            shape = (k.size(0), k.size(1), self.capacity, k.size(3))
            self.keys = [k.new_empty(shape) for _ in range(self.n_layer)]
            self.values = [v.new_empty(shape) for _ in range(self.n_layer)]
        start, end = self.length, self.length + k.size(2)
        keys, values = self.keys[layer], self.values[layer]
        keys.narrow(2, start, end - start).copy_(k)
        values.narrow(2, start, end - start).copy_(v)
        return keys.narrow(2, 0, end), values.narrow(2, 0, end)

    def select(self, rows: torch.Tensor) -> None:
        """Keep the batch rows at `rows` (repeated indices copy a row: one prompt read, many continuations)."""
        rows = rows.to(self.keys[0].device)
        self.keys = [k.index_select(0, rows) for k in self.keys]
        self.values = [v.index_select(0, rows) for v in self.values]


def rope_tables(config: GPTConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Per position (block_size, head_dim): the cosines of the rotation angles, and their sines with the
    first half negated, so that a rotation is two products and a sum (see `rotate`)."""
    head_dim = config.n_embd // config.n_head
    freqs = config.rope_base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(config.block_size, dtype=torch.float32), freqs)
    return torch.cat([angles.cos(), angles.cos()], -1), torch.cat([-angles.sin(), angles.sin()], -1)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (first half, second half) of the last dimension of x (..., T, D) by the angles:
    (a, b) -> (a cos - b sin, b cos + a sin). Computed in float32 (the tables' type), returned as x's."""
    rotated = torch.addcmul(x * cos, x.roll(x.size(-1) // 2, -1), sin)
    return rotated if rotated.dtype == x.dtype else rotated.to(x.dtype)


def linear(x: torch.Tensor, layer: nn.Linear) -> torch.Tensor:
    return F.linear(x, layer.weight, layer.bias)


def layer_norm(x: torch.Tensor, norm: nn.LayerNorm) -> torch.Tensor:
    return torch.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)


def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    return F.dropout(x, p) if training and p > 0 else x


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = config.dropout
        self.n_head = config.n_head

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0, past: int = 0,
                rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        B, T, C = x.size()
        qkv = linear(x, self.c_attn).view(B, T, 3, self.n_head, C // self.n_head).permute(2, 0, 3, 1, 4)
        if rope is not None:  # the cache keeps rotated keys: a key's rotation depends on its position only
            (q, k), v = rotate(qkv[:2], *rope), qkv[2]
        else:
            q, k, v = qkv  # each (B, H, T, D)
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
        y = y.transpose(1, 2).reshape(B, T, C)
        return dropout(linear(y, self.c_proj), self.dropout, self.training)


class MLP(nn.Module):
    """GPT-2's GELU MLP (4x wide), or SwiGLU: silu(gate) * up, about 8/3 wide so that its three
    matrices hold no more parameters than GELU's two."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.swiglu = config.mlp == "swiglu"
        hidden = max(32, int(8 * config.n_embd / 3) // 32 * 32) if self.swiglu else 4 * config.n_embd
        self.c_fc = nn.Linear(config.n_embd, 2 * hidden if self.swiglu else hidden, bias=config.bias)
        self.c_proj = nn.Linear(hidden, config.n_embd, bias=config.bias)
        self.approximate = config.gelu
        self.dropout = config.dropout

    def activate(self, h: torch.Tensor) -> torch.Tensor:
        """What lies between the two matrices."""
        if self.swiglu:
            gate, up = h.chunk(2, dim=-1)
            return F.silu(gate) * up
        return F.gelu(h, approximate=self.approximate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(linear(self.activate(linear(x, self.c_fc)), self.c_proj), self.dropout, self.training)


class Block(nn.Module):
    """The blocks apply their layers' weights through torch.nn.functional instead of calling the
    layers: at batch 1 a module call costs more than this model's arithmetic (about 12 us each on a
    2-core CPU, 11 of them per block and token)."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0, past: int = 0,
                rope: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        x = x + self.attn.forward(layer_norm(x, self.ln_1), cache, layer, past, rope)
        return x + self.mlp.forward(layer_norm(x, self.ln_2))


class GPT(nn.Module):
    tied_weights = ("lm_head.weight",)

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
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
        return KVCache(self.config.n_layer, self.config.block_size)

    def hidden_states(self, idx: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """The final LayerNorm's output for every position of `idx` (B, T); with `cache`, `idx` continues it."""
        B, T = idx.size()
        start = len(cache) if cache is not None else 0
        if start + T > self.config.block_size:
            raise ValueError(f"sequence of {start + T} tokens exceeds the context of {self.config.block_size}")
        x = F.embedding(idx, self.transformer.wte.weight)
        rope = None
        if self.config.position == "learned":
            x = x + self.transformer.wpe.weight[start:start + T]
        else:
            rope = (self.rope_cos[start:start + T], self.rope_sin[start:start + T])
        x = dropout(x, self.config.dropout, self.training)
        for i, block in enumerate(self.transformer.h):
            x = block.forward(x, cache, i, start, rope)
        if cache is not None:
            cache.length += T
        return layer_norm(x, self.transformer.ln_f)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None,
                cache: KVCache | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position of `idx` (B, T); with `cache`, `idx` continues it."""
        logits = self.lm_head(self.hidden_states(idx, cache))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=-1)
        return logits, loss


class OneTokenStep:
    """GPT.hidden_states(tokens[:, None], cache)[:, 0] for one new token per row, tokens (B,), written
    for decoding speed. At batch 1 this model spends more time in Python than in arithmetic, so the
    step holds the model's tensors in plain tuples (a module attribute costs a lookup through
    nn.Module, some 130 of them a token: a tenth of the step), keeps rows (B, C), splits the heads
    with one view and needs no causal mask. It holds the model's own parameters, so weights loaded or
    trained in place show through; make a new one after moving the model (its buffers move)."""

    def __init__(self, model: GPT):
        c = model.config
        self.block_size, self.n_head = c.block_size, c.n_head
        self.wte = model.transformer.wte.weight
        self.wpe = model.transformer.wpe.weight if c.position == "learned" else None
        self.rope = (model.rope_cos, model.rope_sin) if c.position == "rope" else None
        norm = lambda n: (n.normalized_shape, n.weight, n.bias, n.eps)  # noqa: E731
        self.layers = [(norm(b.ln_1), b.attn.c_attn.weight, b.attn.c_attn.bias, b.attn.c_proj.weight,
                        b.attn.c_proj.bias, norm(b.ln_2), b.mlp.c_fc.weight, b.mlp.c_fc.bias, b.mlp.activate,
                        b.mlp.c_proj.weight, b.mlp.c_proj.bias) for b in model.transformer.h]
        self.ln_f = norm(model.transformer.ln_f)

    def __call__(self, tokens: torch.Tensor, cache: KVCache) -> torch.Tensor:
        pos, (B,) = len(cache), tokens.shape
        if pos >= self.block_size:
            raise ValueError(f"sequence of {pos + 1} tokens exceeds the context of {self.block_size}")
        x = F.embedding(tokens, self.wte)
        if self.wpe is not None:
            x = x + self.wpe[pos]
        for layer, (ln_1, w_qkv, b_qkv, w_out, b_out, ln_2, w_fc, b_fc, activate, w_proj, b_proj) in \
                enumerate(self.layers):
            qkv = F.linear(torch.layer_norm(x, *ln_1), w_qkv, b_qkv).view(B, 3, self.n_head, 1, -1)  # 3 x (B, H, 1, D)
            if self.rope is not None:
                (q, k), v = rotate(qkv[:, :2], self.rope[0][pos], self.rope[1][pos]).unbind(1), qkv[:, 2]
            else:
                q, k, v = qkv.unbind(1)
            k, v = cache.update(layer, k, v)
            x = x + F.linear(F.scaled_dot_product_attention(q, k, v).view(B, -1), w_out, b_out)
            x = x + F.linear(activate(F.linear(torch.layer_norm(x, *ln_2), w_fc, b_fc)), w_proj, b_proj)
        cache.length += 1
        return torch.layer_norm(x, *self.ln_f)
