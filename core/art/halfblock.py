"""Pictures in a terminal: two pixels per character cell, with nothing but colours.

Each cell is an upper half block '▀' whose foreground is one pixel and
background the pixel below, which works over plain SSH and inside tmux.
textual-image has the same half-cell renderer (plus sixel and kitty), but it
probes the terminal at import time and would add a dependency for a mode we
never pick; half-cell is what every terminal can show. Colours are given as
24-bit RGB; Rich (and Textual) downgrade them to the nearest of the 256 xterm
colours where the terminal reports no truecolor support (COLORTERM unset),
which is the 256-colour fallback. No torch here: the app renders on its UI thread.
"""
from __future__ import annotations

import math

import numpy as np
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    from PIL import Image

    shrinking = width < image.shape[1]
    resample = Image.Resampling.BOX if shrinking else Image.Resampling.NEAREST  # crisp pixels when enlarging
    return np.asarray(Image.fromarray(image).resize((width, height), resample))


def fit(image_width: int, image_height: int, cells: int, rows: int | None = None) -> tuple[int, int]:
    """Pixel size (w, h) of a picture shown at most `cells` wide and `rows` tall (2 pixels per row), aspect kept."""
    scale = cells / image_width
    if rows is not None:
        scale = min(scale, 2 * rows / image_height)
    return max(1, round(image_width * scale)), max(1, round(image_height * scale))


class HalfBlock:
    """A Rich renderable: two pixels per character cell, top one in the foreground of '▀'."""

    def __init__(self, image: np.ndarray, width: int | None = None, height: int | None = None):
        self.image = np.asarray(image, dtype=np.uint8)
        if self.image.ndim != 3 or self.image.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) picture, got shape {self.image.shape}")
        self.width, self.height = width, height

    def pixels(self, max_width: int) -> np.ndarray:
        h, w, _ = self.image.shape
        pw, ph = fit(w, h, min(self.width or max_width, max_width), self.height)
        return _resize(self.image, pw, ph)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = self.pixels(options.max_width).shape[1]
        return Measurement(width, width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        px = self.pixels(options.max_width)
        styles: dict[tuple, Style] = {}
        for y in range(0, px.shape[0], 2):
            for x in range(px.shape[1]):
                top = tuple(int(v) for v in px[y, x])
                bottom = tuple(int(v) for v in px[y + 1, x]) if y + 1 < px.shape[0] else None
                key = (top, bottom)
                if key not in styles:
                    styles[key] = Style(color=Color.from_rgb(*top),
                                        bgcolor=Color.from_rgb(*bottom) if bottom else None)
                yield Segment("▀", styles[key])
            yield Segment.line()


def halfblock(image: np.ndarray, width: int | None = None, height: int | None = None) -> HalfBlock:
    """`image` (H, W, 3) uint8 as a Rich renderable at most `width` cells wide (default: all the
    room given) and `height` rows tall; each row shows two pixel rows."""
    return HalfBlock(image, width, height)


def best_columns(n: int, cells: int, rows: int, tile: int) -> int:
    """How many of n square tiles per row make them biggest in a cells x rows area (2 pixels per row)."""
    def scale(cols: int) -> float:
        return min(cells / (cols * tile), 2 * rows / (math.ceil(n / cols) * tile))
    return max(range(1, max(1, n) + 1), key=scale)


