"""SentencePiece BPE tokenizer: train, load, encode, decode.

Byte fallback means any Unicode string encodes; identity normalisation and no
dummy prefix mean decode(encode(text)) == text, curly quotes, case, runs of
spaces and paragraph breaks included. SentencePiece trains on lines, so the
newline is a user-defined symbol of its own.
"""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

import sentencepiece as spm


class Tokenizer:
    def __init__(self, model_bytes: bytes):
        self.model_bytes = bytes(model_bytes)
        self.sp = spm.SentencePieceProcessor(model_proto=self.model_bytes)
        self.vocab_size = self.sp.get_piece_size()
        self.pad_id = self.sp.pad_id()
        self.unk_id = self.sp.unk_id()
        self.bos_id = self.sp.bos_id()
        self.eos_id = self.sp.eos_id()

    @classmethod
    def train(cls, texts: list[str], vocab_size: int, extra_symbols: tuple[str, ...] = ()) -> "Tokenizer":
        """Train BPE on the paragraphs of `texts`."""
        lines = [line for text in texts for line in text.split("\n") if line.strip()]
        if not lines:
            raise ValueError("no text to train a tokenizer on")
        out = io.BytesIO()
        with tempfile.TemporaryDirectory() as tmp:
            corpus = Path(tmp) / "corpus.txt"
            corpus.write_text("\n".join(lines), encoding="utf-8")
            try:
                spm.SentencePieceTrainer.train(
                    input=str(corpus),
                    model_writer=out,
                    model_type="bpe",
                    vocab_size=vocab_size,
                    character_coverage=1.0,
                    byte_fallback=True,
                    normalization_rule_name="identity",
                    add_dummy_prefix=False,
                    remove_extra_whitespaces=False,
                    split_digits=True,
                    allow_whitespace_only_pieces=True,
                    user_defined_symbols=["\n", *extra_symbols],
                    max_sentence_length=1 << 16,
                    pad_id=0, unk_id=1, bos_id=2, eos_id=3,
                    num_threads=2,
                    minloglevel=2,
                )
            except RuntimeError as e:
                if "Vocabulary size too high" not in str(e):
                    raise
                raise ValueError(f"too little text for a vocabulary of {vocab_size} tokens: "
                                 "give more text or a smaller vocabulary size (--vocab-size)") from None
        return cls(out.getvalue())

    def encode(self, text: str) -> list[int]:
        return self.sp.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self.sp.decode(list(ids))

    def piece(self, token_id: int) -> str:
        """Readable text of one token (bytes fallback shown as the byte)."""
        piece = self.sp.id_to_piece(int(token_id))
        return piece.replace("\u2581", " ")
