"""Train the Anna LSTM with truncated backpropagation through time.

The token stream is cut into `batch_size` contiguous streams; step s reads the
next `bptt` tokens of each, and the recurrent state is carried from one step
to the next (detached), so the network learns from context longer than one
segment. Each pass over the data starts at a different offset so segment
boundaries move. Under torchrun each process reads its own streams and carries
their state.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.corpus import read_text
from core.models.lstm import LSTMConfig, RecurrentLM, detach_state
from core.text.evaluate import recurrent_bits_per_char
from core.text.generate import generate_text
from core.text.sampling import SamplerSettings
from core.tokenizer import Tokenizer
from core.train.distributed import current_shard, from_main
from core.train.loop import TrainConfig


@dataclass
class LSTMData:
    train: str
    valid: str
    vocab_size: int
    batch_size: int   # contiguous streams read side by side


class LSTMTask:
    unit = "tok"

    def __init__(self, config: LSTMConfig, data: LSTMData, train_cfg: TrainConfig, device: torch.device,
                 tokenizer: Tokenizer | None = None):
        self.device = device
        self.data = data
        self.shard = current_shard()
        self.shard.rows(data.batch_size)  # refuse a batch the processes cannot share before any work
        train_text = read_text(data.train)
        self.valid_text = read_text(data.valid)
        self.tokenizer = tokenizer or Tokenizer(from_main(
            lambda: Tokenizer.train([train_text], data.vocab_size).model_bytes))
        config = replace(config, vocab_size=self.tokenizer.vocab_size)
        self.config = config
        self.model = RecurrentLM(config).to(device)
        self.net = self.model
        ids = torch.tensor(self.tokenizer.encode(train_text), dtype=torch.long)
        self.stream_len = (ids.numel() - 1) // data.batch_size
        if self.stream_len < 2 * config.bptt:
            raise ValueError(f"the training text is too short for {data.batch_size} streams of {config.bptt} tokens")
        self.ids = ids
        self.steps_per_pass = (self.stream_len - config.bptt) // config.bptt
        self.state = None

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        T, B = self.config.bptt, self.data.batch_size
        epoch, k = divmod(step, self.steps_per_pass)
        if k == 0:
            self.state = None  # a new pass starts from a fresh state
        offset = (epoch * 37) % T  # shift segment boundaries from pass to pass
        starts = (torch.arange(B) * self.stream_len + offset + k * T)[self.shard.rows(B)]
        x = torch.stack([self.ids[s:s + T] for s in starts])
        y = torch.stack([self.ids[s + 1:s + T + 1] for s in starts])
        return x.to(self.device), y.to(self.device)

    def loss(self, step: int) -> tuple[torch.Tensor, int]:
        x, y = self.batch(step)
        _, loss, state = self.net(x, y, detach_state(self.state))
        self.state = detach_state(state)
        return loss, x.numel()

    def evaluate(self) -> dict[str, float]:
        r = recurrent_bits_per_char(self.model, self.tokenizer, self.valid_text, self.device)
        return {"metric": r["bits_per_char"], "bits_per_char": r["bits_per_char"]}

    def sample(self) -> str:
        settings = SamplerSettings(temperature=0.8, max_new_tokens=60, seed=0)
        return generate_text(self.model.decoder(self.device), self.tokenizer, "Anna", settings,
                             context=self.config.bptt)

    def save(self, path: Path, summary: dict) -> None:
        summary = {**summary, "data": {"train": Path(self.data.train).name, "valid": Path(self.data.valid).name}}
        save_checkpoint(path, Checkpoint("lstm", self.config.to_dict(), state_tensors(self.model),
                                         tokenizer=self.tokenizer.model_bytes, training=summary))
