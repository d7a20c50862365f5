"""Train the English→French Transformer.

As the paper trains it: label-smoothed cross-entropy, a warmup learning rate
(the shared loop's linear warmup and cosine decay), and batches by token
count. One SentencePiece vocabulary is trained on both sides of the training
pairs, so the one embedding serves both languages. Pairs are sorted by length
(ties in a seeded random order) and cut into batches whose padded size stays
within `tokens_per_batch`, so little of each batch is padding; each epoch
visits the batches in a new order, seeded by the epoch, so a resumed run sees
the same batches. Under torchrun each process takes a near-equal share of the
rows of every batch, and each share's loss is its token sum over the whole
batch's target tokens (times the number of processes, which DDP divides by),
so the step is the one process's step whatever the shares hold.

People do not type like Tatoeba: they leave out the final full stop and the
capital letter. So beside each training pair the data holds, for a share of
pairs, its English side as typed (`unpunctuated`: no final punctuation;
`lowercased`: a small first letter) with the French side unchanged, so the
model learns to write the French as it should be whatever the English looks
like; short pairs (greetings, "Thanks.") get every variant. A pair of several
sentences whose two sides split into as many sentences (pysbd, each side in
its language) can also be trained sentence by sentence (`sentence_pairs`):
"Hi! How are you?" gives "Hi!" on its own, which the training pairs never have.

Valid metric: negative mean sacreBLEU of greedy translations of the first
`eval_sentences` distinct English sentences of valid, as written and with their
final punctuation removed, scored against all of their references (lower is
better, as the loop wants); the teacher-forced valid loss is reported beside it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.models.translator import Translator, TranslatorConfig
from core.tokenizer import Tokenizer
from core.train.distributed import current_shard, from_main
from core.train.loop import TrainConfig
from core.translate.evaluate import evaluate_translator, read_pairs
from core.translate.sentences import sentences_of, with_small_first_letter, without_final_punctuation
from core.translate.translator import EnFrTranslator

Batch = tuple[torch.Tensor, torch.Tensor, list[int]]  # padded sources, padded targets, each row's real tokens


@dataclass
class TranslatorData:
    train: str
    valid: str
    vocab_size: int                  # one SentencePiece vocabulary for both languages
    tokens_per_batch: int            # padded tokens per side (rows × longest sentence)
    max_sentences: int               # a cap for batches of very short sentences
    eval_sentences: int              # distinct valid sources translated for the BLEU metric
    label_smoothing: float = 0.0
    unpunctuated: float = 0.0        # share of pairs also trained without the English final punctuation
    lowercased: float = 0.0          # share of pairs also trained with a small first English letter
    sentence_pairs: float = 0.0      # share of multi-sentence pairs also trained sentence by sentence


SHORT_WORDS = 2  # pairs of at most this many English words get every variant


def typing_variants(pairs: list[tuple[str, str]], unpunctuated: float, lowercased: float,
                    seed: int) -> list[tuple[str, str]]:
    """Extra pairs whose English is written as people type it; each pair is picked for each variant
    independently (seeded), short pairs always; a variant equal to its source is left out."""
    rng = random.Random(seed)
    out = []
    for en, fr in pairs:
        short = len(en.split()) <= SHORT_WORDS
        bare, small = rng.random() < unpunctuated or short, rng.random() < lowercased or short
        variants = {without_final_punctuation(en) if bare else en, with_small_first_letter(en) if small else en}
        if bare and small:
            variants.add(with_small_first_letter(without_final_punctuation(en)))
        out += [(v, fr) for v in sorted(variants) if v and v != en]
    return out


def aligned_sentences(pairs: list[tuple[str, str]], share: float, seed: int) -> list[tuple[str, str]]:
    """For a seeded `share` of the pairs of several sentences, their sentences paired one to one, where
    English and French split into as many sentences; pairs that do not split alike give nothing."""
    rng = random.Random(seed)
    out = []
    for en, fr in pairs:
        if not any(mark in en[:-1] for mark in ".!?") or rng.random() >= share:
            continue  # one sentence (pysbd is not asked: it is slow beside this test)
        english = sentences_of(en, "en")
        if len(english) < 2:
            continue
        french = sentences_of(fr, "fr")
        if len(french) == len(english):
            out += list(zip(english, french))
    return out


def length_batches(src_lens: list[int], tgt_lens: list[int], tokens_per_batch: int, max_sentences: int,
                   seed: int) -> list[list[int]]:
    """Indices of pairs, sorted by length and cut so rows × longest side <= tokens_per_batch."""
    order = list(range(len(src_lens)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda i: (src_lens[i], tgt_lens[i]))  # stable: equal lengths keep the shuffled order
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        size = max(src_lens[i], tgt_lens[i])
        if current and (max(longest, size) * (len(current) + 1) > tokens_per_batch or len(current) == max_sentences):
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, size)
    if current:
        batches.append(current)
    return batches


def padded(rows: list[list[int]], pad_id: int) -> torch.Tensor:
    out = torch.full((len(rows), max(len(r) for r in rows)), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r)
    return out


class TranslatorTask:
    unit = "tok"  # source and target tokens, padding not counted

    def __init__(self, config: TranslatorConfig, data: TranslatorData, train_cfg: TrainConfig, device: torch.device,
                 tokenizer: Tokenizer | None = None):
        self.device = device
        self.data = data
        self.shard = current_shard()
        train_pairs = read_pairs(data.train)
        self.valid_pairs = read_pairs(data.valid)
        self.tokenizer = tokenizer or Tokenizer(from_main(lambda: Tokenizer.train(
            ["\n".join(en for en, _ in train_pairs), "\n".join(fr for _, fr in train_pairs)],
            data.vocab_size).model_bytes))
        tok = self.tokenizer
        config = replace(config, vocab_size=tok.vocab_size, pad_id=tok.pad_id, bos_id=tok.bos_id, eos_id=tok.eos_id)
        self.config = config
        self.model = Translator(config).to(device)
        self.net = self.model
        self.translator = EnFrTranslator(self.model, tok, device)
        split = aligned_sentences(train_pairs, data.sentence_pairs, train_cfg.seed)
        train_pairs = train_pairs + split
        self.sentence_pairs = len(split)
        variants = typing_variants(train_pairs, data.unpunctuated, data.lowercased, train_cfg.seed)
        self.train_batches, self.skipped = self._batches(train_pairs + variants, train_cfg.seed)
        self.variant_pairs = len(variants)
        if not self.train_batches:
            raise ValueError(f"no training pair of {data.train} fits in {config.max_len} tokens")
        fewest = min(len(src) for src, _, _ in self.train_batches)
        if fewest < self.shard.world:
            raise ValueError(f"a batch of {fewest} sentences cannot give each of {self.shard.world} processes one: "
                             "raise --tokens-per-batch")
        self.valid_batches, _ = self._batches(self.valid_pairs, 0)
        self.seed = train_cfg.seed
        self._epoch_order: tuple[int, list[int]] | None = None

    def _batches(self, pairs: list[tuple[str, str]], seed: int) -> tuple[list[Batch], int]:
        """Padded (source, target, real tokens of each row) batches on the device; pairs too long for the model
        are skipped."""
        tok, cfg = self.tokenizer, self.config
        # SentencePiece encodes a whole list in one call, far faster than one call per sentence
        src = [ids + [cfg.eos_id] for ids in tok.encode([en for en, _ in pairs])]
        tgt = [[cfg.bos_id] + ids + [cfg.eos_id] for ids in tok.encode([fr for _, fr in pairs])]
        fits = [i for i in range(len(pairs)) if len(src[i]) <= cfg.max_len and len(tgt[i]) <= cfg.max_len]
        src, tgt = [src[i] for i in fits], [tgt[i] for i in fits]
        batches = []
        for rows in length_batches([len(s) for s in src], [len(t) for t in tgt], self.data.tokens_per_batch,
                                   self.data.max_sentences, seed):
            real = [len(src[i]) + len(tgt[i]) - 1 for i in rows]
            batches.append((padded([src[i] for i in rows], cfg.pad_id).to(self.device),
                            padded([tgt[i] for i in rows], cfg.pad_id).to(self.device), real))
        return batches, len(pairs) - len(fits)

    def batch(self, step: int) -> Batch:
        epoch, k = divmod(step, len(self.train_batches))
        if self._epoch_order is None or self._epoch_order[0] != epoch:
            order = list(range(len(self.train_batches)))
            random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
            self._epoch_order = (epoch, order)
        return self.train_batches[self._epoch_order[1][k]]

    def loss(self, step: int) -> tuple[torch.Tensor, int]:
        src, tgt, real = self.batch(step)
        pad, targets = self.config.pad_id, tgt[:, 1:]
        rows = self.shard.share(src.size(0))
        logits, _ = self.net(src[rows], tgt[rows, :-1])
        total = F.cross_entropy(logits.flatten(0, 1).float(), targets[rows].flatten(), ignore_index=pad,
                                label_smoothing=self.data.label_smoothing, reduction="sum")
        return total / (targets != pad).sum() * self.shard.world, sum(real[rows])

    def valid_loss(self) -> float:
        total, count = 0.0, 0
        for src, tgt, _ in self.valid_batches:
            logits, _ = self.model(src, tgt[:, :-1])
            targets = tgt[:, 1:]
            total += F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=self.config.pad_id,
                                     reduction="sum").item()
            count += int((targets != self.config.pad_id).sum())
        return total / max(count, 1)

    def evaluate(self) -> dict[str, float]:
        scores = evaluate_translator(self.translator, self.valid_pairs, beam=1, limit=self.data.eval_sentences,
                                     batch_size=256)
        bare = [(without_final_punctuation(en), fr) for en, fr in self.valid_pairs]
        unpunctuated = evaluate_translator(self.translator, bare, beam=1, limit=self.data.eval_sentences,
                                           batch_size=256)
        return {"metric": -(scores["bleu"] + unpunctuated["bleu"]) / 2, "bleu": scores["bleu"],
                "bleu_unpunctuated": unpunctuated["bleu"], "chrf": scores["chrf"], "valid_loss": self.valid_loss()}

    def sample(self) -> str:
        t = self.translator.translate(["How are you?", "I think it's going to rain tomorrow."], beam=1)
        return " | ".join(x.text for x in t)

    def save(self, path: Path, summary: dict) -> None:
        summary = {**summary, "data": {"train": Path(self.data.train).name, "valid": Path(self.data.valid).name,
                                       "train_batches": len(self.train_batches), "skipped_long_pairs": self.skipped,
                                       "tokens_per_batch": self.data.tokens_per_batch,
                                       "label_smoothing": self.data.label_smoothing,
                                       "unpunctuated": self.data.unpunctuated, "lowercased": self.data.lowercased,
                                       "variant_pairs": self.variant_pairs,
                                       "sentence_pairs": self.data.sentence_pairs,
                                       "split_sentence_pairs": self.sentence_pairs,
                                       "eval_sentences": self.data.eval_sentences}}
        save_checkpoint(path, Checkpoint("translator", self.config.to_dict(), state_tensors(self.model),
                                         tokenizer=self.tokenizer.model_bytes, training=summary))
