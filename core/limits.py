"""The bounds every input is held to, and the checks that refuse the rest in plain words.

The command line and the app call the same checks, so a value is refused with the same message
wherever it was typed. Each bound keeps one command within what the machine can do: a typo such as
`--beam 100000` or `-n 100000` must end in a sentence, not in a memory blow-up or an hour's hang.
No torch here.
"""
from __future__ import annotations

import math

MAX_SEED = 2**32 - 1  # what every generator takes; training derives per-step seeds from it without overflow
MAX_IMAGES = 256  # pictures per command: a bigger grid is not worth looking at
MAX_IMAGE_PIXELS = 25_000_000  # a picture read to be encoded (5000 x 5000): ~75 MB decoded, then shrunk
MAX_BEAM = 64  # beam search gains nothing past a few beams, and memory grows with every one
MAX_BATCH = 1024  # sentences or pictures a batch
MAX_MODEL_BYTES = 8 * 2**30  # a model's weights and buffers in fp32: GPT-2 XL (1.5B parameters) fits
MAX_DECODE_ROWS = 4096  # sentences x beams decoded at once: bounds the translator's cache whatever the flags


def _shown(value) -> str:
    """A value for a message; a huge integer is not spelled out (Python refuses to print very long ones)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) < 10**30 else "a number that large"
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def check_int(name: str, value, least: int, most: int) -> int:
    """`value` if it is a whole number in [least, most]; ValueError naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, not {_shown(value)}")
    if not least <= value <= most:
        raise ValueError(f"{name} must be between {least:,} and {most:,}, not {_shown(value)}")
    return value


def check_number(name: str, value, least: float, most: float) -> float:
    """`value` if it is a finite number in [least, most]; ValueError naming `name` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, not {_shown(value)}")
    if isinstance(value, int) and not -10**30 < value < 10**30:
        raise ValueError(f"{name} must be between {least:g} and {most:g}, not {_shown(value)}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value}")
    if not least <= value <= most:
        raise ValueError(f"{name} must be between {least:g} and {most:g}, not {value:g}")
    return float(value)


def check_seed(seed, name: str = "seed") -> int:
    return check_int(name, seed, 0, MAX_SEED)


def capped(value: int, what: str, most: int, least: int = 1) -> tuple[int, str | None]:
    """(`value` held to `most`, a note saying so when it was); below `least` is refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, not {_shown(value)}")
    if value < least:
        raise ValueError(f"{what} must be at least {least:,}, not {_shown(value)}")
    if value > most:
        return most, f"{what} capped at {most:,} (asked for {_shown(value)})"
    return value, None
