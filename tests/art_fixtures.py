"""Tiny pictures, data folders and checkpoints for the art tests: made in milliseconds, never the shipped ones."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import torch

from core.art import GAN_CHECKPOINT, GROUPS, VAE_CHECKPOINT
from core.checkpoints import save_checkpoint
from core.latent import pack_gan, pack_vae
from core.models.dcgan import DCGANConfig, Generator
from core.models.vae import VAE, VAEConfig

SIZE = 16


def face(male: int, glasses: int, rng: np.random.Generator, size: int = SIZE) -> np.ndarray:
    """A cartoon of the two attributes: blue-ish backgrounds for men, red-ish for women, a dark bar for glasses."""
    base = np.array([60, 90, 200] if male else [200, 80, 70], dtype=float)
    image = np.clip(base + rng.normal(0, 20, (size, size, 3)), 0, 255)
    image[size // 4: size - size // 4, size // 4: size - size // 4] = [230, 190, 160]  # the face
    if glasses:
        image[size * 3 // 8: size * 3 // 8 + max(1, size // 8), size // 4: size - size // 4] = 20
    return image.astype(np.uint8)


def jpeg(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def write_faces(folder: Path, n_train: int = 64, n_valid: int = 16, size: int = SIZE) -> Path:
    """train.zip/valid.zip with train.csv/valid.csv (file, identity, Male, Eyeglasses), all four groups present."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("valid", n_valid)):
        rows = []
        with zipfile.ZipFile(folder / f"{split}.zip", "w") as zf:
            for i in range(n):
                male, glasses = GROUPS[list(GROUPS)[i % 4]].values()
                name = f"{split}{i:04d}.jpg"
                zf.writestr(name, jpeg(face(male, glasses, rng, size)))
                rows.append({"file": name, "identity": i // 4, "Male": male, "Eyeglasses": glasses})
        with open(folder / f"{split}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["file", "identity", "Male", "Eyeglasses"])
            writer.writeheader()
            writer.writerows(rows)
    return folder


def write_anime(folder: Path, n_train: int = 64, n_valid: int = 16, size: int = SIZE) -> Path:
    """Two train shards and valid.zip of colourful blobs, no labels."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    shards = {"train-00.zip": n_train // 2, "train-01.zip": n_train - n_train // 2, "valid.zip": n_valid}
    for shard, n in shards.items():
        with zipfile.ZipFile(folder / shard, "w") as zf:
            for i in range(n):
                image = face(int(rng.integers(2)), int(rng.integers(2)), rng, size)
                zf.writestr(f"{shard[:-4]}-{i:04d}.jpg", jpeg(image))
    return folder


def tiny_vae(size: int = SIZE) -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(image_size=size, base_channels=4, latent_dim=8)).eval()


def tiny_generator(size: int = SIZE) -> Generator:
    torch.manual_seed(0)
    return Generator(DCGANConfig(image_size=size, latent_dim=8, g_channels=4, d_channels=4)).eval()


def write_vae_checkpoint(folder: Path, model: VAE | None = None) -> Path:
    model = model or tiny_vae()
    groups = {name: torch.randn(model.config.latent_dim) for name in GROUPS}
    return save_checkpoint(folder / VAE_CHECKPOINT, pack_vae(model, groups, {"best_valid": 1.0},
                                                             {name: 1 for name in GROUPS}))


def write_gan_checkpoint(folder: Path, model: Generator | None = None) -> Path:
    return save_checkpoint(folder / GAN_CHECKPOINT, pack_gan(model or tiny_generator(), {"best_valid": 1.0}))
