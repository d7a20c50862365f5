"""Shipped corpora in assets/ (xz-compressed) and plain text files given by the user."""
from __future__ import annotations

import lzma
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def asset(*parts: str) -> Path:
    return ASSETS.joinpath(*parts)


def read_text(path: str | Path) -> str:
    """Read UTF-8 text, transparently decompressing `.xz` files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    data = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
    return data.decode("utf-8", errors="replace")
