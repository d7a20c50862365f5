"""Pictures as PNG files that remember how they were made: grids, one file per picture, never an overwrite.

Pictures travel through Inkhorn as float (N, 3, H, W) tensors in [0, 1]; they
become uint8 pixels only here, as they are written, and in the terminal
renderer (core/art/halfblock.py). No torch import at module level: the app's
art pane imports this before its model (and torch) has loaded.
"""
from __future__ import annotations

import io
import json
import math
import re
from pathlib import Path

import numpy as np

from core.files import write_new
from core.safe_text import decode_input


def pixels(pictures) -> np.ndarray:
    """float (N, 3, H, W) tensor in [0, 1] -> uint8 (N, H, W, 3), what files and terminals show."""
    from core.art.images import to_uint8

    return to_uint8(pictures)


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
    for key, value in meta.items():  # a value may hold a file name that is not valid UTF-8
        info.add_text(str(key), decode_input(value)[0] if isinstance(value, str) else json.dumps(value))
    return info


def _write_new(picture: np.ndarray, out_dir: Path, stem: str, meta: dict) -> Path:
    """Write a PNG under the first free name stem.png, stem-2.png, ... (core/files.py: atomic, never an
    overwrite, never through a link)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG", pnginfo=_text_chunks(meta))
    return write_new(out_dir, stem, ".png", buffer.getvalue())


def _safe_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "grid"


def save_grid(pictures, out_dir: str | Path, meta: dict, name: str = "grid", cols: int | None = None) -> Path:
    """Write the pictures (float NCHW) as one grid PNG in out_dir, never over an existing file; `meta` (seed,
    parameters) goes into the PNG's tEXt chunks, one chunk per key (JSON for non-strings)."""
    return _write_new(grid(pixels(pictures), cols), Path(out_dir), _safe_stem(name),
                      {**meta, "images": len(pictures)})


def save_each(pictures, out_dir: str | Path, meta: dict, name: str) -> list[Path]:
    """Each picture (float NCHW) as its own PNG (name-00.png, ...), never over an existing file."""
    stem = _safe_stem(name)
    return [_write_new(image, Path(out_dir), f"{stem}-{i:02d}", {**meta, "index": i})
            for i, image in enumerate(pixels(pictures))]


def read_png_meta(path: str | Path) -> dict[str, str]:
    from PIL import Image

    with Image.open(path) as im:
        return dict(im.text)


