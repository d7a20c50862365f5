"""The tokenizer of a local GPT-2-family folder, read with Hugging Face `tokenizers`.

A folder holds tokenizer.json, or GPT-2's original vocab.json + merges.txt; nothing is
downloaded. GPT-2's byte-level BPE writes every byte as one printable character, so any text
encodes, and a token may hold part of a UTF-8 character: a text that ends inside one decodes
with U+FFFD at the end, which the streaming generator holds back until the character is whole,
as it does for SentencePiece's byte pieces. The calls are those the generator and the
evaluation make of core/tokenizer.py's Tokenizer.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from core.checkpoints import CheckpointError

END_OF_TEXT = "<|endoftext|>"


@lru_cache(maxsize=1)
def byte_of_char() -> dict[str, int]:
    """GPT-2's byte-level alphabet read backwards: printable bytes stand for themselves, the other
    bytes for the characters from U+0100 on, in byte order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    others = [b for b in range(256) if b not in printable]
    return {**{chr(b): b for b in printable}, **{chr(256 + i): b for i, b in enumerate(others)}}


def tokenizer_files(folder: Path) -> list[Path] | None:
    """The files a folder's tokenizer is read from, or None when it has neither form."""
    if (folder / "tokenizer.json").is_file():
        return [folder / "tokenizer.json"]
    pair = [folder / "vocab.json", folder / "merges.txt"]
    return pair if all(p.is_file() for p in pair) else None


class GPT2Tokenizer:
    def __init__(self, tok):
        from tokenizers import decoders

        if not isinstance(tok.decoder, decoders.ByteLevel):
            raise CheckpointError("the tokenizer is not GPT-2's byte-level BPE (its decoder is "
                                  f"{type(tok.decoder).__name__ if tok.decoder else 'missing'})")
        self.tok = tok
        self.vocab_size = tok.get_vocab_size(with_added_tokens=True)
        self.special = {i: t.content for i, t in tok.get_added_tokens_decoder().items()}

    @classmethod
    def from_folder(cls, folder: str | Path) -> GPT2Tokenizer:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers

        folder = Path(folder)
        files = tokenizer_files(folder)
        if files is None:
            raise CheckpointError(f"{folder} has no tokenizer: it needs tokenizer.json, or vocab.json and merges.txt")
        try:
            if files[0].name == "tokenizer.json":
                tok = Tokenizer.from_file(str(files[0]))
            else:
                tok = Tokenizer(models.BPE.from_file(*(str(f) for f in files)))
                tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
                tok.decoder = decoders.ByteLevel()
                if tok.token_to_id(END_OF_TEXT) is not None:  # a special token, as transformers reads these files
                    tok.add_special_tokens([END_OF_TEXT])
        except Exception as e:  # tokenizers raises plain Exceptions for unreadable files
            raise CheckpointError(f"cannot read the tokenizer in {folder} ({e}); the files may be damaged") from e
        return cls(tok)

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tok.decode(list(ids), skip_special_tokens=False)

    def piece(self, token_id: int) -> str:
        """Readable text of one token; bytes of an unfinished character are shown as <0xNN>, as
        SentencePiece shows its byte pieces."""
        if int(token_id) in self.special:
            return self.special[int(token_id)]
        token = self.tok.id_to_token(int(token_id)) or ""
        table = byte_of_char()
        raw = bytes(table[c] for c in token if c in table)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "".join(chr(b) if b < 0x80 else f"<0x{b:02X}>" for b in raw)

