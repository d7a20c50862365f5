"""DCGAN (Radford et al., 2015) for 64x64 RGB pictures.

The generator grows a latent vector into a 4x4 map with a transposed
convolution and doubles it with more until the picture is full size:
batch norm and ReLU between layers, tanh at the end, so pixels lie in
[-1, 1]. The discriminator mirrors it with strided convolutions, LeakyReLU
and batch norm (none on its first layer, as in the paper) and ends in one
logit: real or generated. Weights start from N(0, 0.02), as in the paper.

Losses are the non-saturating ones: the discriminator minimises
softplus(-D(x)) + softplus(D(G(z))) (binary cross-entropy on logits) and the
generator softplus(-D(G(z))), which keeps its gradient strong early on when
the discriminator wins easily, unlike log(1 - D(G(z))).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class DCGANConfig:
    """The shape; the shipped model's values, and why, are in core/train/recipes.py."""
    image_size: int    # a power of two >= 8
    latent_dim: int
    g_channels: int    # generator channels just before the picture; doubled towards the 4x4 map
    d_channels: int    # discriminator channels after its first layer; doubled at each halving

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def doublings(self) -> int:
        n = self.image_size.bit_length() - 3
        if n < 1 or 4 * 2**n != self.image_size:
            raise ValueError(f"image_size must be a power of two >= 8, not {self.image_size}")
        return n


def init_weights(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        chans = [config.g_channels * 2**i for i in reversed(range(config.doublings))]
        layers = [nn.ConvTranspose2d(config.latent_dim, chans[0], 4, 1, 0, bias=False),
                  nn.BatchNorm2d(chans[0]), nn.ReLU()]
        for a, b in zip(chans, chans[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
        layers += [nn.ConvTranspose2d(chans[-1], 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """(B, latent_dim) -> (B, 3, H, W) in [-1, 1]."""
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    def __init__(self, config: DCGANConfig):
        super().__init__()
        chans = [config.d_channels * 2**i for i in range(config.doublings)]
        layers = [nn.Conv2d(3, chans[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2)]
        for a, b in zip(chans, chans[1:]):
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=False), nn.BatchNorm2d(b), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(chans[-1], 1, 4, 1, 0, bias=False)]
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] -> (B,) logits, positive for 'real'."""
        return self.net(x).flatten()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_logits.float()).mean() + F.softplus(fake_logits.float()).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating: maximise log D(G(z)) rather than minimise log(1 - D(G(z)))."""
    return F.softplus(-fake_logits.float()).mean()
