"""Pictures as PNG files that remember how they were made: grids, one file per picture, never an overwrite.

Pictures travel through Inkhorn as float (N, 3, H, W) tensors in [0, 1]; they
become uint8 pixels only here, as they are written, and in the terminal
renderer (core/art/halfblock.py). No torch import at module level: the app's
art pane imports this before its model (and torch) has loaded.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np


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


