"""core/art/halfblock.py: two pixels per character cell, truecolor and the 256-colour fallback."""
import io
import re

import numpy as np
import pytest
from rich.console import Console

from core.art.halfblock import best_columns, halfblock


def render(renderable, color_system="truecolor", width=80):
    console = Console(file=io.StringIO(), force_terminal=True, color_system=color_system, width=width)
    console.print(renderable)
    return console.file.getvalue()


@pytest.mark.parametrize("height", [8, 7])
def test_halfblock_two_pixels_per_cell(height):
    image = np.zeros((height, 6, 3), dtype=np.uint8)
    image[0] = (255, 0, 0)   # top row red
    image[1] = (0, 0, 255)   # second row blue
    out = render(halfblock(image, width=6))
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == (height + 1) // 2
    assert all(re.sub(r"\x1b\[[0-9;]*m", "", line) == "▀" * 6 for line in lines)
    assert "38;2;255;0;0" in lines[0] and "48;2;0;0;255" in lines[0]  # fg = top pixel, bg = the one below


def test_halfblock_falls_back_to_256_colours():
    image = np.full((4, 4, 3), (255, 0, 0), dtype=np.uint8)
    out = render(halfblock(image), color_system="256")
    assert "38;5;" in out and "38;2;" not in out


def test_halfblock_fits_width_and_height():
    image = np.zeros((64, 128, 3), dtype=np.uint8)
    lines = render(halfblock(image, width=40)).rstrip("\n").split("\n")
    assert len(lines) == 10 and all(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) == 40 for line in lines)
    lines = render(halfblock(image, width=40, height=5)).rstrip("\n").split("\n")
    assert len(lines) == 5  # 10 pixel rows, so 20 pixels wide
    assert len(re.sub(r"\x1b\[[0-9;]*m", "", lines[0])) == 20
    assert len(render(halfblock(image), width=30).rstrip("\n").split("\n")[0]) > 0  # default: the room given


def test_best_columns_makes_the_pictures_biggest():
    assert best_columns(8, cells=80, rows=5, tile=10) == 8     # wide and short: one row
    assert best_columns(8, cells=20, rows=20, tile=10) == 2    # narrow and tall: two columns
    assert best_columns(1, cells=10, rows=10, tile=10) == 1


