"""The VAE and the GAN as picture makers: loaded from their checkpoints, latents in, uint8 pictures out.

Random latents are drawn per picture from numpy's generator seeded with
(seed, index), so picture i of a seed is the same whatever the count, batch
or device: `-n 4` shows the first four faces of `-n 16`.

The VAE checkpoint carries, besides the weights, the mean latent code of each
labelled group of training faces (`group.men_glasses`, ...), so attribute
arithmetic runs from the checkpoint alone, without the data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.art import (
    ARITHMETIC_STRENGTH,
    GAN_CHECKPOINT,
    GROUPS,
    LICENCES,
    VAE_CHECKPOINT,
    combine,
    intended_group,
    parse_expression,
)
from core.checkpoints import (
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    load_weights,
    state_tensors,
)
from core.device import choose_device
from core.images import read_image_file, to_uint8
from core.models.dcgan import DCGANConfig, Generator
from core.models.vae import VAE, VAEConfig
from core.paths import checkpoint_dir

GROUP_PREFIX = "group."
BATCH = 64  # pictures per forward pass: bounded memory for -n 256


def latents(seed: int, n: int, dim: int) -> torch.Tensor:
    rows = [np.random.default_rng([seed, i]).standard_normal(dim) for i in range(n)]
    return torch.from_numpy(np.stack(rows)).float()


def slerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """Great-circle path from a to b: random Gaussian latents live near a sphere, and a straight line
    between two of them passes through the low-norm middle the generator rarely saw."""
    t = torch.linspace(0, 1, steps)[:, None]
    omega = torch.arccos(torch.clamp(torch.dot(a / a.norm(), b / b.norm()), -1.0, 1.0))
    if omega.abs() < 1e-4:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def lerp(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    t = torch.linspace(0, 1, steps)[:, None]
    return (1 - t) * a + t * b


def _device(device) -> torch.device:
    return device if isinstance(device, torch.device) else choose_device(device).device


def _config(cls, ckpt: Checkpoint, path: Path):
    try:
        return cls(**ckpt.config)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path} has a config this version cannot build ({e}).") from e


def sample_path(artist, steps: int, seed: int) -> np.ndarray:
    """Pictures along the great circle from picture 0 to picture 1 of `seed`."""
    a, b = latents(seed, 2, artist.latent_dim)
    return artist.decode(slerp(a, b, steps))


@torch.inference_mode()
def _batched(fn, z: torch.Tensor, device: torch.device) -> np.ndarray:
    return np.concatenate([to_uint8(fn(chunk.to(device))) for chunk in z.split(BATCH)])


# ----- VAE ----------------------------------------------------------------------------------------
def pack_vae(model: VAE, groups: dict[str, torch.Tensor], training: dict, counts: dict[str, int]) -> Checkpoint:
    tensors = {**state_tensors(model), **{GROUP_PREFIX + name: z for name, z in groups.items()}}
    return Checkpoint("vae", model.config.to_dict(), tensors, training=training,
                      extra={"groups": counts, "licence": LICENCES["vae"]})


@dataclass
class Artist:
    """A loaded image model: pictures from latents, whatever the model."""
    model: torch.nn.Module
    device: torch.device
    path: Path
    training: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @property
    def image_size(self) -> int:
        return self.model.config.image_size

    @property
    def latent_dim(self) -> int:
        return self.model.config.latent_dim

    def num_params(self) -> int:
        return self.model.num_params()

    def sample(self, n: int, seed: int) -> np.ndarray:
        return self.decode(latents(seed, n, self.latent_dim))


@dataclass
class VAEArtist(Artist):
    groups: dict[str, torch.Tensor] = field(default_factory=dict)

    kind = "vae"

    def decode(self, z: torch.Tensor) -> np.ndarray:
        return _batched(self.model.decode, z, self.device)

    @torch.inference_mode()
    def encode(self, pictures: np.ndarray) -> torch.Tensor:
        """(N, H, W, 3) uint8 -> the encoder's mean latents (N, latent_dim), on the CPU."""
        x = torch.from_numpy(np.array(pictures, dtype=np.uint8)).permute(0, 3, 1, 2).float() / 255.0
        return torch.cat([self.model.encode(chunk.to(self.device))[0].float().cpu() for chunk in x.split(BATCH)])

    def latent_of(self, name: str) -> torch.Tensor:
        """A group name's stored mean latent, or the latent of an image file."""
        if name in self.groups:
            return self.groups[name]
        if name in GROUPS:
            raise CheckpointError(f"{self.path} stores no mean latent for '{name}' (trained without labels?)")
        if Path(name).suffix or Path(name).exists():
            return self.encode(read_image_file(name, self.image_size)[None])[0]
        known = ", ".join(self.groups or GROUPS)
        raise ValueError(f"unknown group '{name}': use one of {known}, or a path to an image")

    def interpolate(self, a: str, b: str, steps: int) -> np.ndarray:
        """Straight line between two latents (group means or encoded images are not on the prior's
        sphere, so slerp would bend the path for nothing)."""
        return self.decode(lerp(self.latent_of(a), self.latent_of(b), steps))

    def arithmetic(self, text: str, strength: float = ARITHMETIC_STRENGTH
                   ) -> tuple[list[tuple[int, str]], str | None, np.ndarray]:
        """(terms, the group the result should belong to or None, pictures: each term then the result).
        The last term moves along the direction of the others, scaled by strength (see `combine`)."""
        terms = parse_expression(text)
        vectors = {name: self.latent_of(name) for _, name in terms}
        result = combine(terms, vectors.__getitem__, strength)
        z = torch.stack([vectors[name] for _, name in terms] + [result])
        return terms, intended_group(terms), self.decode(z)

    def reconstruct(self, paths: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(the pictures as the model sees them, their reconstructions)."""
        originals = np.stack([read_image_file(p, self.image_size) for p in paths])
        return originals, self.decode(self.encode(originals))


def load_vae(path: str | Path | None = None, device=None) -> VAEArtist:
    path = Path(path) if path else checkpoint_dir() / VAE_CHECKPOINT
    ckpt = load_checkpoint(path, "vae")
    model = VAE(_config(VAEConfig, ckpt, path))
    groups = {k[len(GROUP_PREFIX):]: v.float() for k, v in ckpt.tensors.items() if k.startswith(GROUP_PREFIX)}
    load_weights(model, {k: v for k, v in ckpt.tensors.items() if not k.startswith(GROUP_PREFIX)}, path)
    dev = _device(device)
    return VAEArtist(model.to(dev).eval(), dev, path, ckpt.training, ckpt.extra, groups)


# ----- GAN ----------------------------------------------------------------------------------------
def pack_gan(generator: Generator, training: dict) -> Checkpoint:
    return Checkpoint("gan", generator.config.to_dict(), state_tensors(generator), training=training,
                      extra={"licence": LICENCES["gan"]})


@dataclass
class GANArtist(Artist):
    kind = "gan"

    def decode(self, z: torch.Tensor) -> np.ndarray:
        return _batched(lambda chunk: (self.model(chunk).float() + 1) / 2, z, self.device)

    def interpolate(self, steps: int, seed: int) -> np.ndarray:
        return sample_path(self, steps, seed)


def load_gan(path: str | Path | None = None, device=None) -> GANArtist:
    path = Path(path) if path else checkpoint_dir() / GAN_CHECKPOINT
    ckpt = load_checkpoint(path, "gan")
    model = Generator(_config(DCGANConfig, ckpt, path))
    load_weights(model, ckpt.tensors, path)
    dev = _device(device)
    return GANArtist(model.to(dev).eval(), dev, path, ckpt.training, ckpt.extra)


def load_artist(kind: str, path: str | Path | None = None, device=None) -> VAEArtist | GANArtist:
    return load_vae(path, device) if kind == "vae" else load_gan(path, device)
