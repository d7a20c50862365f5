"""The VAE and the GAN as picture makers: loaded from their checkpoints, latents in, pictures out
(float (N, 3, H, W) tensors in [0, 1] on the CPU, until core/art/png.py writes them).

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

from core.art.arithmetic import (
    ARITHMETIC_STRENGTH,
    GROUPS,
    check_strength,
    combine,
    intended_group,
    parse_expression,
)
from core.art.images import read_image_file
from core.catalog import by_kind
from core.checkpoints import (
    KINDS,
    Checkpoint,
    CheckpointError,
    load_model,
    state_tensors,
)
from core.files import is_file
from core.limits import MAX_IMAGES, check_int
from core.models.dcgan import Generator
from core.models.vae import VAE

GROUP_PREFIX = KINDS["vae"].extra_tensors[0]
BATCH = 64  # pictures per forward pass: bounded memory for -n 256


def check_count(n: int, what: str, least: int = 1) -> int:
    """A count of pictures asked for, held to MAX_IMAGES (the command line caps its counts with a note
    first); measurements such as `inkhorn eval gan` draw more through `sample` and `decode`."""
    return check_int(what, n, least, MAX_IMAGES)


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


def sample_path(artist, steps: int, seed: int) -> torch.Tensor:
    """Pictures along the great circle from picture 0 to picture 1 of `seed`."""
    a, b = latents(seed, 2, artist.latent_dim)
    return artist.decode(slerp(a, b, check_count(steps, "steps", least=2)))


@torch.inference_mode()
def _batched(fn, z: torch.Tensor, device: torch.device) -> torch.Tensor:
    pictures = torch.cat([fn(chunk.to(device)).float().cpu() for chunk in z.split(BATCH)])
    if not bool(torch.isfinite(pictures).all()):  # never a silent black picture
        raise ValueError("the model gave NaN or infinite pixels: its weights are damaged or the latents are "
                         "too far out (a smaller arithmetic strength?)")
    return pictures.clamp(0, 1)


# ----- VAE ----------------------------------------------------------------------------------------
def pack_vae(model: VAE, groups: dict[str, torch.Tensor], training: dict, counts: dict[str, int]) -> Checkpoint:
    tensors = {**state_tensors(model), **{GROUP_PREFIX + name: z for name, z in groups.items()}}
    return Checkpoint("vae", model.config.to_dict(), tensors, training=training,
                      extra={"groups": counts, "licence": by_kind("vae").licence})


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

    def sample(self, n: int, seed: int) -> torch.Tensor:
        return self.decode(latents(seed, n, self.latent_dim))


@dataclass
class VAEArtist(Artist):
    groups: dict[str, torch.Tensor] = field(default_factory=dict)

    kind = "vae"

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return _batched(self.model.decode, z, self.device)

    @torch.inference_mode()
    def encode(self, pictures: torch.Tensor) -> torch.Tensor:
        """float (N, 3, H, W) pictures -> the encoder's mean latents (N, latent_dim), on the CPU."""
        return torch.cat([self.model.encode(chunk.to(self.device))[0].float().cpu() for chunk in pictures.split(BATCH)])

    def latent_of(self, name: str) -> torch.Tensor:
        """A group name's stored mean latent, or the latent of an image file."""
        if name in self.groups:
            return self.groups[name]
        if name in GROUPS:
            raise CheckpointError(f"{self.path} stores no mean latent for '{name}' (trained without labels?)")
        if Path(name).suffix or is_file(name):
            return self.encode(read_image_file(name, self.image_size)[None])[0]
        known = ", ".join(self.groups or GROUPS)
        raise ValueError(f"unknown group '{name}': use one of {known}, or a path to an image")

    def interpolate(self, a: str, b: str, steps: int) -> torch.Tensor:
        """Straight line between two latents (group means or encoded images are not on the prior's
        sphere, so slerp would bend the path for nothing)."""
        return self.decode(lerp(self.latent_of(a), self.latent_of(b), check_count(steps, "steps", least=2)))

    def arithmetic(self, text: str, strength: float = ARITHMETIC_STRENGTH
                   ) -> tuple[list[tuple[int, str]], str | None, torch.Tensor]:
        """(terms, the group the result should belong to or None, pictures: each term then the result).
        The last term moves along the direction of the others, scaled by strength (see `combine`)."""
        check_strength(strength)
        terms = parse_expression(text)
        vectors = {name: self.latent_of(name) for _, name in terms}
        result = combine(terms, vectors.__getitem__, strength)
        z = torch.stack([vectors[name] for _, name in terms] + [result])
        return terms, intended_group(terms), self.decode(z)

    def reconstruct(self, paths: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(the pictures as the model sees them, their reconstructions)."""
        if len(paths) > MAX_IMAGES // 2:
            raise ValueError(f"{len(paths):,} pictures to reconstruct would draw {2 * len(paths):,}; at most "
                             f"{MAX_IMAGES} pictures are drawn, so give at most {MAX_IMAGES // 2} files")
        originals = torch.stack([read_image_file(p, self.image_size) for p in paths])
        return originals, self.decode(self.encode(originals))


# ----- GAN ----------------------------------------------------------------------------------------
def pack_gan(generator: Generator, training: dict) -> Checkpoint:
    return Checkpoint("gan", generator.config.to_dict(), state_tensors(generator), training=training,
                      extra={"licence": by_kind("gan").licence})


@dataclass
class GANArtist(Artist):
    kind = "gan"

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return _batched(lambda chunk: (self.model(chunk).float() + 1) / 2, z, self.device)

    def interpolate(self, steps: int, seed: int) -> torch.Tensor:
        return sample_path(self, steps, seed)


def load_artist(kind: str, path: str | Path | None = None, device=None) -> VAEArtist | GANArtist:
    """The shipped VAE or GAN, or the checkpoint at `path` (which must hold a model of that kind)."""
    loaded = load_model(path or by_kind(kind).name, kind, device)
    ckpt = loaded.checkpoint
    if kind == "gan":
        return GANArtist(loaded.model, loaded.device, loaded.path, ckpt.training, ckpt.extra)
    groups = {k[len(GROUP_PREFIX):]: v.float() for k, v in ckpt.tensors.items()}
    return VAEArtist(loaded.model, loaded.device, loaded.path, ckpt.training, ckpt.extra, groups)
