"""Paths as the app shows them."""
from __future__ import annotations

from pathlib import Path


def shown(path: Path) -> str:
    """`path` relative to the working folder where it lies inside it, for shorter messages."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
