"""Training batches of pictures, shared by the VAE and the GAN trainers.

The whole split sits on the training device as uint8 (decoded once by
core/art/images.py); a batch is random indices into it, seeded by the step so a
resumed run sees the same batches, with a random left-right flip: faces are
near-symmetric, so flipping doubles the data for free. Under torchrun each
process reads only its rows of the step's batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class ImageData:
    folder: str                 # train*.zip, valid.zip and, for faces, train.csv / valid.csv
    batch_size: int
    limit: int | None = None    # use at most this many training pictures (quick runs)


class Batches:
    def __init__(self, images: torch.Tensor, batch_size: int, seed: int, device: torch.device,
                 rows: slice = slice(None)):
        self.images = images.to(device)
        self.batch_size = batch_size
        self.seed = seed
        self.device = device
        self.rows = rows  # this process's part of every batch

    def __call__(self, step: int) -> torch.Tensor:
        """(rows, 3, H, W) float in [0, 1]."""
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        idx = torch.randint(self.images.shape[0], (self.batch_size,), generator=gen)[self.rows]
        flip = (torch.rand(self.batch_size, generator=gen) < 0.5)[self.rows, None, None, None].to(self.device)
        x = self.images[idx.to(self.device)].float().div_(255.0)
        x = torch.where(flip, x.flip(3), x)
        if self.device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)  # what cuDNN's fast bf16 convolutions want
        return x
