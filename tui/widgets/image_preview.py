"""Pictures in half blocks, laid out as the grid that makes them biggest in the space the widget has.

The layout is worked out at each render from the widget's current size, so
the grid re-flows when the terminal is resized (one row of eight on a wide
terminal, two rows of four on a narrow one).
"""
from __future__ import annotations

import numpy as np
from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget

from core.art.halfblock import best_columns, halfblock
from core.art.png import grid, pixels

PAD = 2  # pixels between pictures, as in the saved grid


class ImagePreview(Widget):
    DEFAULT_CSS = """
    ImagePreview {
        height: 1fr;
        content-align: center middle;
    }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pictures: np.ndarray | None = None
        self.message: RenderableType = ""

    def show(self, pictures) -> None:
        """`pictures`: float (N, 3, H, W) in [0, 1], as the artists make them."""
        self.pictures = pixels(pictures)
        self.refresh()

    def show_message(self, message: RenderableType) -> None:
        self.pictures, self.message = None, message
        self.refresh()

    def render(self) -> RenderableType:
        if self.pictures is None:
            return self.message if not isinstance(self.message, str) else Text(self.message)
        width, height = self.content_region.width, self.content_region.height
        if width < 2 or height < 1:
            return Text("")
        n, size = len(self.pictures), self.pictures.shape[1]
        cols = best_columns(n, width, height, size + PAD)
        return halfblock(grid(self.pictures, cols, pad=PAD), width, height)
