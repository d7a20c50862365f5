"""A convolutional variational autoencoder for 64x64 RGB faces.

The encoder halves the picture with strided convolutions down to 4x4 and
reads off the mean and log-variance of a diagonal Gaussian over the latent
code; the decoder mirrors it with transposed convolutions. Training samples
z = mean + sigma * eps (the reparameterisation trick, so gradients reach the
encoder through the sample) and minimises

    loss = reconstruction + beta * KL(q(z|x) || N(0, I))

per image, where reconstruction is the summed squared error over pixels in
[0, 1]. That is the negative log-likelihood of a Gaussian decoder with
variance 1/2 up to a constant (see `neg_elbo`), so with beta = 1 the loss is a
proper negative ELBO; beta < 1 trades a less regular latent space for sharper
reconstructions. The shipped model uses beta = 0.35 and an 80-dimensional
latent: its reconstructions keep more of what tells a man from a woman, which
latent arithmetic needs, at a slightly worse ELBO. Pixels go in and come out
in [0, 1].
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class VAEConfig:
    """The shape and the loss; the shipped model's values, and why, are in core/train/recipes.py."""
    image_size: int      # a power of two >= 8: the encoder halves it down to 4x4
    base_channels: int   # channels after the first convolution; doubled at each halving
    latent_dim: int
    beta: float = 1.0    # weight of the KL term: 1 is the ELBO

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def halvings(self) -> int:
        n = self.image_size.bit_length() - 3
        if n < 1 or 4 * 2**n != self.image_size:
            raise ValueError(f"image_size must be a power of two >= 8, not {self.image_size}")
        return n

    @property
    def channels(self) -> list[int]:
        """Channels after each halving, widest last (the 4x4 map)."""
        return [self.base_channels * 2**i for i in range(self.halvings)]


def down(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2))


def up(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out),
                         nn.LeakyReLU(0.2))


class Encoder(nn.Module):
    def __init__(self, config: VAEConfig):
        super().__init__()
        chans = [3] + config.channels
        self.convs = nn.Sequential(*[down(a, b) for a, b in zip(chans, chans[1:])])
        self.to_stats = nn.Linear(chans[-1] * 16, 2 * config.latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.convs(x).flatten(1)
        mean, logvar = self.to_stats(h).float().chunk(2, dim=1)
        return mean, logvar


class Decoder(nn.Module):
    def __init__(self, config: VAEConfig):
        super().__init__()
        chans = config.channels[::-1]
        self.top = chans[0]
        self.from_latent = nn.Linear(config.latent_dim, chans[0] * 16)
        self.ups = nn.Sequential(*[up(a, b) for a, b in zip(chans, chans[1:])])
        self.to_rgb = nn.ConvTranspose2d(chans[-1], 3, 4, 2, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Logits of the pixels; sigmoid gives the picture."""
        h = F.leaky_relu(self.from_latent(z), 0.2).view(-1, self.top, 4, 4)
        return self.to_rgb(self.ups(h))


def reparameterise(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    return mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) in nats, one value per row."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def neg_elbo(sse: torch.Tensor, kl: torch.Tensor, pixels: int) -> torch.Tensor:
    """-ELBO in nats per image for a Gaussian decoder of variance 1/2: -log p(x|z) = SSE + (D/2) log(pi)."""
    return sse + kl + 0.5 * pixels * math.log(math.pi)


class VAE(nn.Module):
    def __init__(self, config: VAEConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents -> pictures in [0, 1]."""
        return torch.sigmoid(self.decoder(z).float())

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-batch means of the loss and its parts, plus the reconstruction."""
        mean, logvar = self.encode(x)
        z = reparameterise(mean, logvar) if self.training else mean
        recon = self.decode(z)
        sse = (recon - x.float()).pow(2).flatten(1).sum(dim=1)
        kl = kl_divergence(mean, logvar)
        return {"loss": (sse + self.config.beta * kl).mean(), "sse": sse.mean(), "kl": kl.mean(), "recon": recon}
