"""Whose voice a text is in: a small style judge, and the share of a model's samples it gives the model's voice.

Bits per character on Hemingway's valid text cannot see a model that, left to
itself, writes phrase-book English: that score always has real Hemingway in
the context. So samples are drawn as a user draws them (an empty prompt and
short neutral openings, the default sampler) and a judge says whose prose each
one reads like.

The judge is multinomial naive Bayes over hashed character n-grams (1 to 5
characters; case and punctuation kept, they are part of a voice; curly and
straight quotes made one, they are the edition's), trained on the train split of each source with uniform priors. It is
deterministic (no random initialisation, no sampling), trains in seconds on
the shipped corpora, and its accuracy on passages of the valid splits is
reported next to its verdicts.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from core.catalog import asset
from core.corpus import read_prose

NGRAMS = 5
BUCKETS = 1 << 20
SMOOTHING = 0.1
PASSAGE_CHARS = 500

# source -> corpus file of each split; the judge knows these three voices
SOURCES = {
    "hemingway": {"train": asset("hemingway", "train.txt.xz"), "valid": asset("hemingway", "valid.txt.xz")},
    "anna": {"train": asset("anna", "train.txt.xz"), "valid": asset("anna", "valid.txt.xz")},
    "tatoeba": {"train": asset("en-fr", "train.tsv.xz"), "valid": asset("en-fr", "valid.tsv.xz")},
}

# openings a user might type that lean to no voice in particular; "" is the empty prompt
OPENINGS = ("", "I", "The", "She looked at", "He said", "It was", "We went", "In the morning")


# typography is not voice: a judge that tells curly quotes from straight ones learns the editions
_PLAIN_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def ngram_buckets(text: str) -> np.ndarray:
    """The hashed bucket of every 1..NGRAMS-character n-gram of `text` (quote marks made plain)."""
    codes = np.frombuffer(text.translate(_PLAIN_QUOTES).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    out = []
    with np.errstate(over="ignore"):  # the hash wraps around in 64 bits on purpose
        for n in range(1, min(NGRAMS, len(codes)) + 1):
            h = np.full(len(codes) - n + 1, n, dtype=np.uint64)
            for j in range(n):
                h = h * np.uint64(1_000_003) + codes[j:len(codes) - n + 1 + j]
            h ^= h >> np.uint64(29)
            h *= np.uint64(0x9E3779B97F4A7C15)
            out.append((h >> np.uint64(40)) % np.uint64(BUCKETS))
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, dtype=np.int64)


@dataclass
class StyleJudge:
    labels: list[str]
    log_probs: np.ndarray  # (len(labels), BUCKETS): log P(n-gram bucket | source)

    @classmethod
    def fit(cls, texts: dict[str, str]) -> "StyleJudge":
        labels = list(texts)
        counts = np.stack([np.bincount(ngram_buckets(texts[label]), minlength=BUCKETS) for label in labels])
        counts = counts + SMOOTHING
        return cls(labels, np.log(counts / counts.sum(1, keepdims=True)))

    def scores(self, text: str) -> np.ndarray:
        """Log-likelihood of `text` under each source (uniform priors)."""
        return self.log_probs[:, ngram_buckets(text)].sum(1)

    def judge(self, text: str) -> str:
        return self.labels[int(np.argmax(self.scores(text)))]


def passages(text: str, chars: int = PASSAGE_CHARS) -> list[str]:
    """Consecutive runs of whole paragraphs of at least `chars` characters."""
    out, current = [], ""
    for paragraph in text.split("\n\n"):
        current = f"{current}\n\n{paragraph}" if current else paragraph
        if len(current) >= chars:
            out.append(current)
            current = ""
    return out


def train_judge() -> StyleJudge:
    return StyleJudge.fit({name: read_prose(files["train"]) for name, files in SOURCES.items()})


def judge_accuracy(judge: StyleJudge, split: str = "valid", chars: int = PASSAGE_CHARS) -> dict[str, float]:
    """Share of the `split` passages of each source that the judge gives to that source."""
    result = {}
    for name, files in SOURCES.items():
        chunks = passages(read_prose(files[split]), chars)
        result[name] = sum(judge.judge(p) == name for p in chunks) / len(chunks)
    return result


def voice_samples(lm, samples: int = 40, openings: tuple[str, ...] = OPENINGS) -> list[tuple[str, str]]:
    """(opening, generated text) pairs: every opening in turn, seeds 0, 1, ..., the default sampler."""
    from core.text.sampling import SamplerSettings

    out = []
    for i in range(samples):
        opening = openings[i % len(openings)]
        settings = SamplerSettings(seed=i)
        out.append((opening, "".join(step.text for step in lm.stream(opening, settings))))
    return out


def voice_share(lm, voice: str, judge: StyleJudge | None = None, samples: int = 40) -> dict:
    """Share of `samples` samples of `lm` (opening + continuation) that the judge gives to `voice`."""
    judge = judge or train_judge()
    drawn = voice_samples(lm, samples)
    verdicts = [judge.judge(opening + text) for opening, text in drawn]
    return {
        "voice": voice,
        "voice_share": sum(v == voice for v in verdicts) / len(verdicts),
        "voice_samples": len(verdicts),
        "voice_verdicts": dict(Counter(verdicts)),
        "judge_valid_accuracy": {k: round(v, 4) for k, v in judge_accuracy(judge).items()},
    }

