"""Pictures for people: PNG grids that remember how they were made, half-block
terminal rendering, and the bookkeeping of latent arithmetic.

No torch here: the app's art pane renders with this module on its UI thread,
and the app must paint before torch is imported.

The terminal renderer is our own, about thirty lines: each character cell is
an upper half block '▀' whose foreground is one pixel and background the pixel
below, so a cell shows two square-ish pixels with nothing but colours, which
works over plain SSH and inside tmux. textual-image has the same half-cell
renderer (plus sixel and kitty), but it probes the terminal at import time
and would add a dependency for a mode we never pick; half-cell is what every
terminal can show. Colours are given as 24-bit RGB; Rich (and Textual)
downgrade them to the nearest of the 256 xterm colours where the terminal
reports no truecolor support (COLORTERM unset), which is the 256-colour
fallback.
"""
from __future__ import annotations

import json
import math
import re
from itertools import permutations
from pathlib import Path

import numpy as np
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style

VAE_CHECKPOINT = "faces-vae.safetensors"
GAN_CHECKPOINT = "anime-gan.safetensors"
# How far 'a - b + c' moves c along a - b by default. The difference of two group means is what
# separates the groups on average, but a single face's latent keeps much of what marks its own group,
# so the plain sum (strength 1) changes the attribute of few faces; the default was chosen on the
# training faces with the attribute judge of `inkhorn eval vae`, which reports every strength.
ARITHMETIC_STRENGTH = 2.0
MAX_IMAGES = 256  # per command: a bigger grid is not worth looking at, and a typo like -n 100000 should not hang
LICENCES = {  # short enough for one line of the app at 80 columns
    "vae": "Trained on CelebA, released for non-commercial research purposes only.",
    "gan": "Trained on unlicensed crawled anime faces: research and demonstration only.",
}

# the VAE checkpoint stores the mean latent of each group of training faces under these names
GROUPS = {
    "men_glasses": {"Male": 1, "Eyeglasses": 1},
    "men_noglasses": {"Male": 1, "Eyeglasses": 0},
    "women_glasses": {"Male": 0, "Eyeglasses": 1},
    "women_noglasses": {"Male": 0, "Eyeglasses": 0},
}


# ----- grids and PNG files -----------------------------------------------------------------------
def grid(images: np.ndarray, cols: int | None = None, pad: int = 2, background: int = 16) -> np.ndarray:
    """(N, H, W, 3) uint8 -> one (H', W', 3) picture, `cols` per row (default: as square as it gets)."""
    images = np.asarray(images, dtype=np.uint8)
    n, h, w, _ = images.shape
    cols = max(1, min(n, cols or math.ceil(math.sqrt(n))))
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), background, dtype=np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = image
    return out


def _text_chunks(meta: dict):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", "Inkhorn")
    for key, value in meta.items():
        info.add_text(str(key), value if isinstance(value, str) else json.dumps(value))
    return info


def _write_new(picture: np.ndarray, out_dir: Path, stem: str, meta: dict) -> Path:
    """Write a PNG under the first free name stem.png, stem-2.png, ...; exclusive creation, so never overwrites."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    for i in range(1, 1_000_000):
        path = out_dir / (f"{stem}.png" if i == 1 else f"{stem}-{i}.png")
        try:
            with open(path, "xb") as f:
                Image.fromarray(picture).save(f, format="PNG", pnginfo=_text_chunks(meta))
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free file name for {stem} in {out_dir}")


def _safe_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "grid"


def save_grid(images: np.ndarray, out_dir: str | Path, meta: dict, name: str = "grid",
              cols: int | None = None) -> Path:
    """Write the images as one grid PNG in out_dir, never over an existing file; `meta` (seed,
    parameters) goes into the PNG's tEXt chunks, one chunk per key (JSON for non-strings)."""
    return _write_new(grid(images, cols), Path(out_dir), _safe_stem(name), {**meta, "images": len(images)})


def save_each(images: np.ndarray, out_dir: str | Path, meta: dict, name: str) -> list[Path]:
    """Each image as its own PNG (name-00.png, ...), never over an existing file."""
    stem = _safe_stem(name)
    return [_write_new(np.asarray(image, dtype=np.uint8), Path(out_dir), f"{stem}-{i:02d}", {**meta, "index": i})
            for i, image in enumerate(images)]


def read_png_meta(path: str | Path) -> dict[str, str]:
    from PIL import Image

    with Image.open(path) as im:
        return dict(im.text)


# ----- the terminal -------------------------------------------------------------------------------
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


# ----- latent arithmetic -------------------------------------------------------------------------
def parse_expression(text: str) -> list[tuple[int, str]]:
    """'men_glasses - women_glasses + women_noglasses' -> [(1, 'men_glasses'), (-1, ...), (1, ...)].

    Terms are group names or image paths; spaces around + and - may be left out
    except next to a path that itself holds a '-' or '+'.
    """
    pieces: list[str] = []
    for token in text.split():
        if token in ("+", "-") or Path(token).is_file():
            pieces.append(token)
        else:
            pieces += [p for p in re.split(r"([+-])", token) if p]
    terms, sign = [], None
    for piece in pieces:
        if piece in ("+", "-"):
            if sign is not None:
                raise ValueError(f"two operators in a row in {text!r}")
            sign = 1 if piece == "+" else -1
        else:
            if sign is None and terms:
                raise ValueError(f"missing + or - before {piece!r} in {text!r}")
            terms.append((sign or 1, piece))
            sign = None
    if sign is not None:
        raise ValueError(f"{text!r} ends with an operator")
    if not terms:
        raise ValueError("empty expression: write e.g. 'men_glasses - women_glasses + women_noglasses'")
    return terms


def combine(terms: list[tuple[int, str]], lookup, strength: float = 1.0) -> np.ndarray:
    """The last term moved along the direction the terms before it make, scaled by `strength`:
    'a - b + c' is c + strength * (a - b), the plain sum when strength is 1. Works for numpy arrays
    and torch tensors alike."""
    *direction, (last_sign, last) = terms
    total = lookup(last) * last_sign
    for sign, name in direction:
        total = total + lookup(name) * (sign * strength)
    return total


def intended_group(terms: list[tuple[int, str]]) -> str | None:
    """The group the arithmetic should land in, from the attributes of its group terms (None if it leaves them)."""
    if any(name not in GROUPS for _, name in terms):
        return None
    result = {a: sum(sign * GROUPS[name][a] for sign, name in terms) for a in ("Male", "Eyeglasses")}
    return next((g for g, attrs in GROUPS.items() if attrs == result), None)


def analogies() -> list[tuple[str, str, str, str]]:
    """Every (a, b, c, d) of four different groups with a - b + c = d in attributes: 8 of them."""
    return [(a, b, c, d) for a, b, c in permutations(GROUPS, 3)
            if (d := intended_group([(1, a), (-1, b), (1, c)])) is not None and d not in (a, b, c)]


def expression(a: str, b: str, c: str) -> str:
    return f"{a} - {b} + {c}"
