"""A word-piece language model on a recurrent network (LSTM, or GRU by config).

Embedding, stacked recurrent layers with dropout between them, and an output
layer tied to the embedding. The recurrent state is carried between calls,
so generating one more token costs the same however long the text is.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

State = tuple[torch.Tensor, torch.Tensor] | torch.Tensor  # (h, c) for LSTM, h for GRU


@dataclass
class LSTMConfig:
    """The shape; the shipped model's values, and why, are in core/train/recipes.py."""
    vocab_size: int
    n_embd: int
    n_hidden: int
    n_layer: int
    bptt: int           # tokens per truncated-backprop segment; also the window the re-feeding sampler reads
    dropout: float = 0.0  # training sets it
    cell: str = "lstm"  # or "gru"

    def to_dict(self) -> dict:
        return asdict(self)


class RecurrentLM(nn.Module):
    tied_weights = ("lm_head.weight",)

    def __init__(self, config: LSTMConfig):
        super().__init__()
        if config.cell not in ("lstm", "gru"):
            raise ValueError(f"cell must be 'lstm' or 'gru', not {config.cell!r}")
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        rnn = nn.LSTM if config.cell == "lstm" else nn.GRU
        self.rnn = rnn(config.n_embd, config.n_hidden, num_layers=config.n_layer, batch_first=True,
                       dropout=config.dropout if config.n_layer > 1 else 0.0)
        # a projection lets the hidden size differ from the (tied) embedding size
        self.proj = nn.Linear(config.n_hidden, config.n_embd) if config.n_hidden != config.n_embd else nn.Identity()
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight
        nn.init.normal_(self.wte.weight, std=0.05)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def context_size(self) -> int:
        return self.config.bptt

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, state: State | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None, State]:
        x = self.drop(self.wte(idx))
        out, state = self.rnn(x, state)
        logits = self.lm_head(self.proj(self.drop(out)))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=-1)
        return logits, loss, state

    def decoder(self, device: torch.device) -> "LSTMDecoder":
        return LSTMDecoder(self, device)


def detach_state(state: State | None) -> State | None:
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class LSTMDecoder:
    """Stateful decoding: the prompt is read once, then one step per token."""

    def __init__(self, model: RecurrentLM, device: torch.device):
        self.model = model
        self.device = device
        self.state: State | None = None

    @torch.no_grad()
    def prefill(self, ids: list[int]) -> torch.Tensor:
        logits, _, self.state = self.model(torch.tensor([ids], dtype=torch.long, device=self.device))
        return logits[0, -1]

    @torch.no_grad()
    def advance(self, token: int) -> torch.Tensor:
        logits, _, self.state = self.model(torch.tensor([[token]], dtype=torch.long, device=self.device),
                                           state=self.state)
        return logits[0, -1]
