"""Train the Hemingway GPT.

Hemingway alone is too little text: on it, valid bits per character start
rising within a few hundred steps. So half of each batch comes from other
English prose, shared evenly between the pre-training texts (by default Anna
Karenina and the English side of the Tatoeba pairs, whose short spoken
sentences are close to Hemingway's dialogue); `pretrain_frac` < 1 ends the
run on Hemingway alone (on our corpora that did not help, hence the default
of mixing to the end). Batches are random windows of the token streams. The
tokenizer learns from the training text and an equal share of each
pre-training text, so its vocabulary stays Hemingway's.

Every window opens with a source token that names its corpus (`source_tokens`,
as CTRL's control codes): the model learns from all the prose but knows which
voice each window is in, and generation is always conditioned on the training
text's own token, so the other prose regularises without lending its voice.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.corpus import read_prose, read_text
from core.models.gpt import GPT, GPTConfig
from core.text.evaluate import gpt_bits_per_char
from core.text.generate import GPTDecoder, generate_text
from core.text.sampling import SamplerSettings
from core.tokenizer import Tokenizer
from core.train.distributed import current_shard, from_main
from core.train.loop import TrainConfig


@dataclass
class GPTData:
    train: str                  # the model's own text
    valid: str
    vocab_size: int
    batch_size: int             # windows per step, half of them from `pretrain` while mixing
    pretrain: list[str] = field(default_factory=list)  # other prose mixed into every batch
    pretrain_frac: float = 1.0  # share of steps that mix; the steps after it read `train` alone
    source_tokens: bool = True  # open every window with its corpus's token


def source_name(path: str) -> str:
    """A corpus's name for its source token: its folder for a split file (hemingway/train.txt.xz), else its stem."""
    p = Path(path)
    return p.parent.name if p.name.split(".")[0] in ("train", "valid") else p.name.split(".")[0]


def widen_vocabulary(tensors: dict[str, torch.Tensor], config: GPTConfig) -> dict[str, torch.Tensor]:
    """Weights of a checkpoint trained without source tokens, with rows for them appended to the
    (tied) embedding, each the mean text embedding: a start for fine-tuning with source tokens."""
    wte = tensors["transformer.wte.weight"]
    missing = config.vocab_size - wte.size(0)
    if missing <= 0:
        return tensors
    rows = wte.float().mean(0, keepdim=True).expand(missing, -1).to(wte.dtype)
    return {**tensors, "transformer.wte.weight": torch.cat([wte, rows])}


class GPTTask:
    unit = "tok"

    def __init__(self, config: GPTConfig, data: GPTData, train_cfg: TrainConfig, device: torch.device,
                 tokenizer: Tokenizer | None = None):
        self.device = device
        self.data = data
        self.train_cfg = train_cfg
        self.shard = current_shard()
        self.shard.rows(data.batch_size)  # refuse a batch the processes cannot share before any work
        train_text = read_text(data.train)
        self.valid_text = read_text(data.valid)
        pre_texts = [read_prose(path) for path in data.pretrain]
        self.tokenizer = tokenizer or Tokenizer(from_main(lambda: Tokenizer.train(
            [train_text] + [t[:len(train_text)] for t in pre_texts], data.vocab_size).model_bytes))
        sources = [source_name(p) for p in [data.train] + data.pretrain] if data.source_tokens else []
        config = replace(config, sources=sources, vocab_size=self.tokenizer.vocab_size + len(sources))
        self.config = config
        self.prefix = [config.source_token(config.sources[0])] if config.sources else []
        self.model = GPT(config).to(device)
        self.net = self.model
        self.train_ids = torch.tensor(self.tokenizer.encode(train_text), dtype=torch.long)
        self.pre_ids = [torch.tensor(self.tokenizer.encode(t), dtype=torch.long) for t in pre_texts]
        for name, ids in [(data.train, self.train_ids)] + list(zip(data.pretrain, self.pre_ids)):
            if ids.numel() <= config.block_size + 1:
                raise ValueError(f"{name} is too short for a context of {config.block_size} tokens")

    def tune_sources_only(self) -> None:
        """Train only the source tokens' rows of the (tied) embedding: every other weight keeps its value,
        so a trained checkpoint learns to take its voice from its source token without losing what it knows."""
        for p in self.model.parameters():
            p.requires_grad_(False)
        wte = self.model.transformer.wte.weight
        wte.requires_grad_(True)
        rows = torch.zeros(wte.size(0), 1, device=wte.device)
        rows[self.config.text_vocab_size:] = 1.0
        wte.register_hook(lambda grad: grad * rows)

    def _windows(self, ids: torch.Tensor, n: int, gen: torch.Generator, source: int
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """n random windows of `ids`; with source tokens, each opens with the token of source number
        `source`, and its first text token is a target too."""
        tagged = bool(self.config.sources)
        T = self.config.block_size - tagged
        starts = torch.randint(ids.numel() - T - 1, (n,), generator=gen)
        x = torch.stack([ids[s:s + T] for s in starts])
        if not tagged:
            return x, torch.stack([ids[s + 1:s + T + 1] for s in starts])
        tag = torch.full((n, 1), self.config.text_vocab_size + source, dtype=torch.long)
        return torch.cat([tag, x], 1), torch.stack([ids[s:s + T + 1] for s in starts])

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """This process's rows of the batch of `step`; the batch is seeded by the step, so a resumed run sees
        the same batches, whatever the number of processes."""
        gen = torch.Generator().manual_seed(self.train_cfg.seed * 1_000_003 + step)
        B = self.data.batch_size
        mixing = self.pre_ids and step < self.data.pretrain_frac * self.train_cfg.max_steps
        n_pre = B // 2 if mixing else 0
        xs, ys = self._windows(self.train_ids, B - n_pre, gen, 0)
        for i, ids in enumerate(self.pre_ids if mixing else []):
            n = n_pre // len(self.pre_ids) + (i < n_pre % len(self.pre_ids))
            if n:
                px, py = self._windows(ids, n, gen, 1 + i)
                xs, ys = torch.cat([xs, px]), torch.cat([ys, py])
        rows = self.shard.rows(B)
        return xs[rows].to(self.device), ys[rows].to(self.device)

    def loss(self, step: int) -> tuple[torch.Tensor, int]:
        x, y = self.batch(step)
        _, loss = self.net(x, y)
        return loss, x.numel()

    def evaluate(self) -> dict[str, float]:
        r = gpt_bits_per_char(self.model, self.tokenizer, self.valid_text, self.device, prefix=self.prefix)
        return {"metric": r["bits_per_char"], "bits_per_char": r["bits_per_char"]}

    def sample(self) -> str:
        settings = SamplerSettings(temperature=0.8, max_new_tokens=60, seed=0)
        return generate_text(GPTDecoder(self.model, self.device, self.prefix), self.tokenizer, "The sun", settings,
                             context=self.config.block_size)

    def save(self, path: Path, summary: dict) -> None:
        summary = {**summary, "data": {"train": Path(self.data.train).name, "valid": Path(self.data.valid).name,
                                       "pretrain": [Path(p).name for p in self.data.pretrain]}}
        save_checkpoint(path, Checkpoint("gpt", self.config.to_dict(), state_tensors(self.model),
                                         tokenizer=self.tokenizer.model_bytes, training=summary))
