"""Train the Hemingway GPT.

The tokenizer is trained on the training text (and the optional pre-training
text); batches are random windows of the token stream. For the first
`pretrain_frac` of the steps, half of each batch comes from the pre-training
text (by default Anna Karenina: more English prose to learn from); the last
steps, at the lowest learning rates, are Hemingway alone. The mixing also
regularises: on Hemingway alone, valid bits per character start rising within
a few hundred steps (a run mixing for 60% of 6000 steps was best 150 steps
after the mixing stopped).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.corpus import asset, read_text
from core.evaluate import gpt_bits_per_char
from core.generate import GPTDecoder, generate_text
from core.models.gpt import GPT, GPTConfig
from core.sampling import SamplerSettings
from core.tokenizer import Tokenizer
from core.train.loop import TrainConfig


@dataclass
class GPTData:
    train: str = str(asset("hemingway", "train.txt.xz"))
    valid: str = str(asset("hemingway", "valid.txt.xz"))
    pretrain: str | None = str(asset("anna", "train.txt.xz"))
    pretrain_frac: float = 0.95
    vocab_size: int = 4096
    batch_size: int = 16


class GPTTask:
    unit = "tok"

    def __init__(self, config: GPTConfig, data: GPTData, train_cfg: TrainConfig, device: torch.device,
                 tokenizer: Tokenizer | None = None):
        self.device = device
        self.data = data
        self.train_cfg = train_cfg
        train_text = read_text(data.train)
        self.valid_text = read_text(data.valid)
        pre_text = read_text(data.pretrain) if data.pretrain else ""
        self.tokenizer = tokenizer or Tokenizer.train([t for t in (train_text, pre_text) if t], data.vocab_size)
        config.vocab_size = self.tokenizer.vocab_size
        self.config = config
        self.model = GPT(config).to(device)
        self.train_ids = torch.tensor(self.tokenizer.encode(train_text), dtype=torch.long)
        self.pre_ids = torch.tensor(self.tokenizer.encode(pre_text), dtype=torch.long) if pre_text else None
        for name, ids in (("training", self.train_ids), ("pre-training", self.pre_ids)):
            if ids is not None and ids.numel() <= config.block_size + 1:
                raise ValueError(f"the {name} text is too short for a context of {config.block_size} tokens")

    def _windows(self, ids: torch.Tensor, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        T = self.config.block_size
        starts = torch.randint(ids.numel() - T - 1, (n,), generator=gen)
        x = torch.stack([ids[s:s + T] for s in starts])
        y = torch.stack([ids[s + 1:s + T + 1] for s in starts])
        return x, y

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        # seeded by step, so a resumed run sees the same batches
        gen = torch.Generator().manual_seed(self.train_cfg.seed * 1_000_003 + step)
        B = self.data.batch_size
        n_pre = B // 2 if self.pre_ids is not None and step < self.data.pretrain_frac * self.train_cfg.max_steps else 0
        xs, ys = self._windows(self.train_ids, B - n_pre, gen)
        if n_pre:
            px, py = self._windows(self.pre_ids, n_pre, gen)
            xs, ys = torch.cat([xs, px]), torch.cat([ys, py])
        return xs.to(self.device), ys.to(self.device)

    def loss(self, step: int) -> tuple[torch.Tensor, int]:
        x, y = self.batch(step)
        _, loss = self.model(x, y)
        return loss, x.numel()

    def evaluate(self) -> dict[str, float]:
        r = gpt_bits_per_char(self.model, self.tokenizer, self.valid_text, self.device)
        return {"metric": r["bits_per_char"], "bits_per_char": r["bits_per_char"]}

    def sample(self) -> str:
        settings = SamplerSettings(temperature=0.8, max_new_tokens=60, seed=0)
        return generate_text(GPTDecoder(self.model, self.device), self.tokenizer, "The sun", settings,
                             context=self.config.block_size)

    def save(self, path: Path, summary: dict) -> None:
        summary = {**summary, "data": {"train": Path(self.data.train).name, "valid": Path(self.data.valid).name,
                                       "pretrain": Path(self.data.pretrain).name if self.data.pretrain else None}}
        save_checkpoint(path, Checkpoint("gpt", self.config.to_dict(), state_tensors(self.model),
                                         tokenizer=self.tokenizer.model_bytes, training=summary))
