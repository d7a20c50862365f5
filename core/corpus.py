"""Shipped corpora in assets/ (xz-compressed) and plain text files given by the user."""
from __future__ import annotations

import lzma
import random
from pathlib import Path


def read_text(path: str | Path) -> str:
    """Read UTF-8 text, transparently decompressing `.xz` files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    data = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
    return data.decode("utf-8", errors="replace")


def read_prose(path: str | Path) -> str:
    """Text to train a language model on: a text file as it is; of an `English<TAB>French` file
    (.tsv), the distinct English sentences, one paragraph each, in a fixed shuffled order (the
    Tatoeba export is sorted by length, so any window of it would hold sentences of one length)."""
    text = read_text(path)
    if not Path(path).name.endswith((".tsv", ".tsv.xz")):
        return text
    sentences = list(dict.fromkeys(line.split("\t")[0].strip() for line in text.splitlines() if "\t" in line))
    sentences = [s for s in sentences if s]
    random.Random(0).shuffle(sentences)
    return "\n\n".join(sentences) + "\n"
