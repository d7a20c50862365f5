"""Pictures into tensors and back: zip shards decoded once into memory, csv labels, single image files.

A data folder holds `train.zip` or shards `train-00.zip`, `train-01.zip`, ...,
`valid.zip`, and, where there are labels, `train.csv` / `valid.csv` with a
`file` column naming each picture and one 0/1 column per attribute. Every
picture is decoded once, centre-cropped to a square and resized where its size
differs, and the whole split kept as one uint8 tensor (N, 3, H, W): 31k anime
faces at 64x64 are 386 MB, and batches are then plain indexing, on the GPU if
the tensor is moved there.
"""
from __future__ import annotations

import csv
import io
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.files import is_file
from core.limits import MAX_IMAGE_PIXELS

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def decode(data: bytes | str | Path, size: int, max_pixels: int | None = None) -> np.ndarray:
    """Bytes or a path -> (size, size, 3) uint8, centre-cropped to a square first. With `max_pixels`
    (a file a user gave), a bigger picture is refused from its header, before it is decoded, and a
    JPEG is decoded at the smallest scale that still covers `size`: memory stays bounded."""
    from PIL import Image

    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with Image.open(source) as im:
        w, h = im.size
        if max_pixels is not None:
            if w * h > max_pixels:
                raise ValueError(f"it is {w:,}×{h:,} pixels; pictures of up to {max_pixels / 1e6:g} megapixels "
                                 "are read: scale it down first")
            im.draft("RGB", (size * w // min(w, h), size * h // min(w, h)))
            w, h = im.size
        s = min(w, h)
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
        if im.mode != "RGB":
            im = im.convert("RGB")
        if (w, h) != (size, size):
            im = im.crop(box) if s == size else im.resize((size, size), Image.Resampling.LANCZOS, box=box)
        return np.asarray(im, dtype=np.uint8)


def read_image_file(path: str | Path, size: int) -> torch.Tensor:
    """One picture file as a float (3, size, size) tensor; a readable error for anything PIL cannot open,
    and for a picture over MAX_IMAGE_PIXELS."""
    path = Path(path)
    if not is_file(path):
        raise FileNotFoundError(f"no such image: {path}")
    try:
        pixels = decode(path, size, MAX_IMAGE_PIXELS)
    except Exception as e:  # PIL raises several types (UnidentifiedImageError, OSError, SyntaxError ...)
        raise ValueError(f"cannot read image {path}: {e}") from e
    return to_unit(torch.from_numpy(pixels.copy()).permute(2, 0, 1))


def _decode_all(blobs: list[bytes], size: int) -> np.ndarray:
    # PIL releases the GIL while decoding, so threads pay off
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        return np.stack(list(pool.map(lambda b: decode(b, size), blobs, chunksize=64)))


def read_zip_images(zips: list[Path], size: int, limit: int | None = None) -> tuple[list[str], torch.Tensor]:
    """(file names, uint8 tensor (N, 3, size, size)) of every picture in the zips, in order."""
    names, blobs = [], []
    for path in zips:
        with zipfile.ZipFile(path) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                if info.is_dir() or not info.filename.lower().endswith(IMAGE_SUFFIXES):
                    continue
                if limit is not None and len(names) >= limit:
                    break
                names.append(Path(info.filename).name)
                blobs.append(zf.read(info))
    if not blobs:
        raise FileNotFoundError(f"no pictures in {', '.join(str(z) for z in zips)}")
    pixels = _decode_all(blobs, size)
    return names, torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()


def read_labels(path: Path) -> dict[str, dict[str, int]]:
    """file name -> {column: 0/1} for every column except file and identity."""
    with open(path, newline="", encoding="utf-8") as f:
        return {row["file"]: {k: int(v) for k, v in row.items() if k not in ("file", "identity")}
                for row in csv.DictReader(f)}


@dataclass
class ImageSet:
    images: torch.Tensor                  # (N, 3, H, W) uint8
    names: list[str]
    attributes: dict[str, torch.Tensor] = field(default_factory=dict)  # column -> (N,) long, where labelled

    def __len__(self) -> int:
        return self.images.shape[0]


def load_split(folder: str | Path, split: str, size: int, limit: int | None = None) -> ImageSet:
    """The `split` ("train" or "valid") of a data folder; labels come along when `{split}.csv` exists."""
    folder = Path(folder)
    zips = sorted(p for p in folder.glob(f"{split}*.zip") if p.name == f"{split}.zip" or p.name.startswith(f"{split}-"))
    if not zips:
        raise FileNotFoundError(f"no {split}.zip or {split}-NN.zip shards in {folder}; "
                                "pass --data with a folder like ../shared/data/faces")
    names, images = read_zip_images(zips, size, limit)
    attributes = {}
    labels_file = folder / f"{split}.csv"
    if labels_file.exists():
        labels = read_labels(labels_file)
        missing = [n for n in names if n not in labels]
        if missing:
            raise ValueError(f"{labels_file} has no row for {len(missing)} pictures, e.g. {missing[0]}")
        columns = next(iter(labels.values())).keys() if labels else []
        attributes = {c: torch.tensor([labels[n][c] for n in names]) for c in columns}
    return ImageSet(images, names, attributes)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 (..., 3, H, W) -> float in [0, 1]."""
    return images.float().div_(255.0)


def to_uint8(pictures: torch.Tensor) -> np.ndarray:
    """float (N, 3, H, W) in [0, 1] -> uint8 (N, H, W, 3): pixels for a file or a terminal."""
    return (pictures.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
