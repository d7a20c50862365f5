"""Text as people type it, cut into what the translator reads: lines, and the sentences of each line.

Line breaks and blank lines (paragraphs) are kept as they are; each line is
split into sentences with pysbd, a maintained rule-based segmenter that knows
abbreviations ("Mr.", "p.m."), ellipses and quotations. Every sentence of a
text is translated on its own (the model was trained on single sentences) and
the translations are put back in the same lines.
"""
from __future__ import annotations

import functools

from core.safe_text import clean


@functools.lru_cache(maxsize=2)
def _segmenter(language: str = "en"):
    import pysbd

    return pysbd.Segmenter(language=language, clean=False)


def sentences_of(line: str, language: str = "en") -> list[str]:
    """The sentences of one line of `language` ("en" or "fr"), stripped, none empty."""
    return [s.strip() for s in _segmenter(language).segment(line) if s.strip()]


def clean_line(line: str) -> tuple[str, int]:
    """(the line with control characters, escape sequences and bidi controls gone, tabs and runs of
    spaces made one space; how many characters were removed)."""
    flat, removed = clean(line)
    return " ".join(flat.split()), removed


def split_text(text: str) -> tuple[list[list[str]], int]:
    """(the sentences of each line, empty lists for blank lines; how many control characters were removed)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    removed = 0
    out = []
    for line in lines:
        cleaned, dropped = clean_line(line)
        removed += dropped
        out.append(sentences_of(cleaned) if cleaned else [])
    return out, removed


def join_text(lines: list[list[str]]) -> str:
    """Sentences back into their lines: a space between the sentences of a line, the line breaks kept."""
    return "\n".join(" ".join(sentences) for sentences in lines)


FINAL_PUNCTUATION = ".!?…;:"


def without_final_punctuation(text: str) -> str:
    """The text as typed without its closing full stop (or ?, !, …): how people write a quick line."""
    return text.rstrip(FINAL_PUNCTUATION + " ")


def with_small_first_letter(text: str) -> str:
    return text[:1].lower() + text[1:]
