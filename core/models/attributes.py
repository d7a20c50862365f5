"""A small CNN that tells two face attributes apart: male or not, glasses or not.

It is the judge of the VAE's latent arithmetic (core/art/metrics.py): trained
on real labelled photos, independent of the VAE it judges, it says whether a
decoded "man with glasses - woman with glasses + woman without glasses" looks
like a man without glasses. Pixels in [0, 1]; two logits out.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from core.models.vae import down

ATTRIBUTES = ("Male", "Eyeglasses")


@dataclass
class AttributeConfig:
    image_size: int = 64
    base_channels: int = 16
    dropout: float = 0.3

    def to_dict(self) -> dict:
        return asdict(self)


class AttributeClassifier(nn.Module):
    def __init__(self, config: AttributeConfig):
        super().__init__()
        self.config = config
        chans = [3]
        size = config.image_size
        while size > 4:
            chans.append(config.base_channels * 2 ** (len(chans) - 1))
            size //= 2
        self.convs = nn.Sequential(*[down(a, b) for a, b in zip(chans, chans[1:])])
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(config.dropout), nn.Linear(chans[-1] * 16, len(ATTRIBUTES)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 2) logits for ATTRIBUTES."""
        return self.head(self.convs(x - 0.5)).float()
