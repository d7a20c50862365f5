"""Where a text repeats the model's training text: the spans of `span`+ characters found verbatim.

The training text is indexed once: a 64-bit rolling hash of every `span`-character window, sorted.
A query hashes its own windows, looks each up by binary search and compares the characters of
every hit, so a reported span is always verbatim; only a true 64-bit hash collision between two
different training windows could hide one (about one chance in 10^7 for 10^6 windows).
"""
from __future__ import annotations

import numpy as np

from core.catalog import MODELS
from core.corpus import read_prose

SPAN = 50
_BASE = np.uint64(0x100000001B3)  # odd: multiplying loses no bits of earlier characters as uint64 wraps


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)


def _joined(left: np.ndarray, left_len: int, right: np.ndarray, right_len: int) -> np.ndarray:
    """Hashes of windows left_len + right_len long from those of their two halves."""
    n = min(left.size, right.size - left_len)
    return left[:n] * np.uint64(pow(int(_BASE), right_len, 1 << 64)) + right[left_len:left_len + n]


def window_hashes(text: str, span: int) -> np.ndarray:
    """The hash of text[i:i+span] for every i, built by doubling: a few passes, not `span`."""
    codes = _codes(text)
    if codes.size < span:
        return np.zeros(0, dtype=np.uint64)
    acc, acc_len = None, 0
    block, block_len = codes, 1
    bits = span  # span = the sum of the block lengths 2^k of its set bits
    while True:
        if bits & 1:
            acc, acc_len = (block, block_len) if acc is None else (
                _joined(acc, acc_len, block, block_len), acc_len + block_len)
        bits >>= 1
        if not bits:
            return acc
        block, block_len = _joined(block, block_len, block, block_len), 2 * block_len


class OverlapIndex:
    def __init__(self, train_text: str, span: int = SPAN):
        if span < 1:
            raise ValueError("span must be at least 1 character")
        self.train_text = train_text
        self.span = span
        self.hashes, first = np.unique(window_hashes(train_text, span), return_index=True)
        self.positions = first  # where each distinct window first occurs in the training text

    def find(self, text: str) -> list[tuple[int, int]]:
        """Character ranges [start, end) of `text`, in order and disjoint, each made of windows of
        `span` characters that occur verbatim in the training text."""
        hashes = window_hashes(text, self.span)
        if not hashes.size or not self.hashes.size:
            return []
        slots = np.minimum(np.searchsorted(self.hashes, hashes), self.hashes.size - 1)
        ranges: list[list[int]] = []
        for i in np.flatnonzero(self.hashes[slots] == hashes).tolist():
            at = int(self.positions[slots[i]])
            if self.train_text[at:at + self.span] != text[i:i + self.span]:
                continue  # a hash collision
            if ranges and i <= ranges[-1][1]:
                ranges[-1][1] = i + self.span
            else:
                ranges.append([i, i + self.span])
        return [(start, end) for start, end in ranges]


def training_index(name: str) -> OverlapIndex:
    """The index of catalog text model `name`'s training text, read as its trainer reads it. The
    corpora are joined by a NUL, a character prose does not hold, so that no span is reported
    that runs from the end of one corpus into the next."""
    paths = MODELS[name].training_texts if name in MODELS else ()
    if not paths:
        raise ValueError(f"only the shipped models' training text is known, not that of {name}")
    return OverlapIndex("\0".join(read_prose(path) for path in paths))
