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

    def features(self, idx: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """The top recurrent layer's output for every position of `idx` (B, T), and the state after it."""
        return self.rnn(self.drop(self.wte(idx)), state)

    def step(self, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """features(tokens[:, None], state) for one token per row, tokens (B,): top-layer output (B, H) and
        the new state. torch's LSTM (GRU) cell goes a layer at a time: for a single step the fused
        multi-layer kernel costs far more (6.6 ms against 1.0 ms a token for the Anna LSTM on the CPU).
        Inference only: no dropout between the layers."""
        lstm = self.config.cell == "lstm"
        x, hs, cs = F.embedding(tokens, self.wte.weight), [], []
        for layer, weights in enumerate(self.rnn.all_weights):
            if lstm:
                h, c = torch.lstm_cell(x, (state[0][layer], state[1][layer]), *weights)
                cs.append(c)
            else:
                h = torch.gru_cell(x, state[layer], *weights)
            hs.append(h)
            x = h
        return x, (torch.stack(hs), torch.stack(cs)) if lstm else torch.stack(hs)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.lm_head(self.proj(self.drop(features)))

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None, state: State | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None, State]:
        out, state = self.features(idx, state)
        logits = self.logits(out)
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
    """Stateful decoding: the prompt is read once, then one step per token for every row."""

    def __init__(self, model: RecurrentLM, device: torch.device):
        self.model = model
        self.device = device
        self.state: State | None = None

    @torch.no_grad()
    def prefill(self, ids: list[int]) -> torch.Tensor:
        out, self.state = self.model.features(torch.tensor([ids], dtype=torch.long, device=self.device))
        return self.model.logits(out[0, -1])  # the prompt's other positions are never used

    def fork(self, n: int) -> None:
        self._select(torch.zeros(n, dtype=torch.long, device=self.device))

    def keep(self, rows: list[int]) -> None:
        self._select(torch.tensor(rows, dtype=torch.long, device=self.device))

    def _select(self, rows: torch.Tensor) -> None:
        """Rows are the batch dimension of (layers, batch, hidden) states."""
        if isinstance(self.state, tuple):
            self.state = tuple(s.index_select(1, rows) for s in self.state)
        else:
            self.state = self.state.index_select(1, rows)

    @torch.no_grad()
    def advance_rows(self, tokens: torch.Tensor) -> torch.Tensor:
        out, self.state = self.model.step(tokens, self.state)
        return self.model.logits(out)

    def advance(self, token: int) -> torch.Tensor:
        return self.advance_rows(torch.tensor([token], device=self.device))[0]
