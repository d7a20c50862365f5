"""English→French translation with the from-scratch Transformer: a loaded translator, batched.

A text is cut into lines and sentences (core/translate/sentences.py); every
sentence of every text given goes through the model in one set of batches,
and the translations are put back into the lines they came from. Each
sentence's translation carries the cross-attention weights of the tokens it
produced, for the heatmaps of core/translate/attention_plot.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.catalog import by_kind
from core.checkpoints import load_model
from core.limits import MAX_BATCH, MAX_BEAM, MAX_DECODE_ROWS, check_int, check_number
from core.models.translator import Translator
from core.tokenizer import Tokenizer
from core.translate.search import LENGTH_PENALTY, beam_search, greedy_decode
from core.translate.sentences import join_text, split_text


LENGTH_PENALTY_RANGE = (0.0, 5.0)  # GNMT uses 0.6-1.0; past a few, only the longest output can win


def check_decoding(beam: int, length_penalty: float, batch_size: int) -> None:
    """Refuse decoding settings the search cannot use, in the words the command line and the app share."""
    check_int("beam", beam, 1, MAX_BEAM)
    check_number("length penalty", length_penalty, *LENGTH_PENALTY_RANGE)
    check_int("batch size", batch_size, 1, MAX_BATCH)


@dataclass
class SentenceTranslation:
    source: str                          # the sentence as the model read it
    text: str = ""                       # its French translation
    source_tokens: list[str] = field(default_factory=list)  # the pieces the encoder read, </s> included
    target_tokens: list[str] = field(default_factory=list)  # the pieces produced, </s> included
    attention: np.ndarray | None = None  # (len(target_tokens), len(source_tokens)) cross-attention weights
    log_prob: float = 0.0                # of target_tokens under the model
    notes: list[str] = field(default_factory=list)


@dataclass
class Translation:
    source: str                          # the text as given
    text: str                            # its French translation, line for line ("" for an empty text)
    sentences: list[SentenceTranslation] = field(default_factory=list)  # in order, across the lines
    notes: list[str] = field(default_factory=list)  # what was done to the input, for the user


@dataclass
class EnFrTranslator:
    """A loaded translator: model, tokenizer and device, ready to translate lists of texts."""
    model: Translator
    tokenizer: Tokenizer
    device: torch.device
    path: Path | None = None
    training: dict = field(default_factory=dict)

    def num_params(self) -> int:
        return self.model.num_params()

    @property
    def max_source_tokens(self) -> int:
        return self.model.config.max_len - 1  # room for </s>

    def translate(self, texts: list[str], beam: int = 4, length_penalty: float = LENGTH_PENALTY,
                  batch_size: int = 64) -> list[Translation]:
        """Translate every text (a sentence, a paragraph, several lines); beam 1 is greedy. Line breaks and
        blank lines are kept; an empty text comes back empty, with a note."""
        layouts = []
        for text in texts:
            lines, removed = split_text(text)
            notes = [f"removed {removed} control character(s)"] if removed else []
            if not any(lines):
                notes.append("empty line: nothing to translate")
            layouts.append((lines, notes))
        done = iter(self.translate_sentences([s for lines, _ in layouts for line in lines for s in line], beam,
                                             length_penalty, batch_size))
        results = []
        for text, (lines, notes) in zip(texts, layouts):
            translated = [[next(done) for _ in line] for line in lines]
            sentences = [s for line in translated for s in line]
            results.append(Translation(text, join_text([[s.text for s in line] for line in translated]), sentences,
                                       notes + [note for s in sentences for note in s.notes]))
        return results

    def translate_sentences(self, sentences: list[str], beam: int = 4, length_penalty: float = LENGTH_PENALTY,
                            batch_size: int = 64) -> list[SentenceTranslation]:
        """Translate each sentence as one, in batches of similar lengths (the encoder runs once a batch). A batch
        holds at most MAX_DECODE_ROWS sentences x beams, so memory stays bounded whatever the flags."""
        check_decoding(beam, length_penalty, batch_size)
        batch_size = max(1, min(batch_size, MAX_DECODE_ROWS // beam))
        results = [SentenceTranslation(source=s) for s in sentences]
        work = []
        for i, sentence in enumerate(sentences):
            ids = self.tokenizer.encode(sentence)
            if len(ids) > self.max_source_tokens:
                kept = self.tokenizer.decode(ids[:self.max_source_tokens])
                results[i].notes.append(f"a sentence is {len(ids)} tokens; the model reads only the first "
                                        f"{self.max_source_tokens} (up to “…{kept[-30:]}”)")
                ids = ids[:self.max_source_tokens]
            work.append((i, ids + [self.model.config.eos_id]))
        work.sort(key=lambda item: -len(item[1]))  # similar lengths together: little padding
        self.model.eval()
        for start in range(0, len(work), batch_size):
            chunk = work[start:start + batch_size]
            src = torch.full((len(chunk), len(chunk[0][1])), self.model.config.pad_id, dtype=torch.long)
            for row, (_, ids) in enumerate(chunk):
                src[row, :len(ids)] = torch.tensor(ids)
            src = src.to(self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
                decoded = greedy_decode(self.model, src) if beam == 1 else \
                    beam_search(self.model, src, beam, length_penalty)
            for (i, ids), (out, attn, log_prob) in zip(chunk, decoded):
                r = results[i]
                r.text = self.tokenizer.decode([t for t in out if t != self.model.config.eos_id]).strip()
                r.source_tokens = [self.tokenizer.piece(t) for t in ids]
                r.target_tokens = [self.tokenizer.piece(t) for t in out]
                r.attention = attn[:, :len(ids)].cpu().numpy()
                r.log_prob = log_prob
        return results


def load_translator(path: str | Path | None = None, device: str | torch.device | None = None) -> EnFrTranslator:
    """The checkpoint at `path` (default: the shipped en-fr translator)."""
    loaded = load_model(path or by_kind("translator").name, "translator", device)
    return EnFrTranslator(loaded.model, loaded.tokenizer, loaded.device, loaded.path, loaded.checkpoint.training)
