"""Train the face VAE on the shared loop (core/train/loop.py).

Batches are random training faces, flipped at random. Each evaluation scores
the valid faces (the checkpoint kept is the one with the lowest valid loss,
reconstruction + beta * KL), appends the curve to the run's log and writes a
grid: samples from fixed latents, then valid faces over their
reconstructions. Saving the checkpoint also encodes every training face once
to store the mean latent of each labelled group (men/women with/without
glasses), which is what `inkhorn art vae arithmetic` works from.
"""
from __future__ import annotations

from pathlib import Path

import torch

from core.art.arithmetic import GROUPS
from core.art.artists import GROUP_PREFIX, latents, pack_vae
from core.art.images import ImageSet, load_split, to_unit
from core.art.metrics import vae_scores
from core.art.png import save_grid
from core.checkpoints import save_checkpoint
from core.models.vae import VAE, VAEConfig
from core.train.curves import RunLog, plot
from core.train.distributed import current_shard
from core.train.loop import TrainConfig
from core.train.pictures import Batches, ImageData

LOG_WINDOW = 10  # training steps averaged into one point of the curve


@torch.no_grad()
def group_means(model: VAE, data: ImageSet, device: torch.device) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
    """Mean encoder latent of each labelled group, and how many faces each has (nothing without labels).
    Each face counts as itself and its mirror image, which has the same labels: with only 40 women
    with glasses, that steadies the means the arithmetic moves along."""
    if not all(a in data.attributes for a in ("Male", "Eyeglasses")):
        return {}, {}
    was_training = model.training
    model.eval()  # batch norm with its running statistics, as the arithmetic encodes faces later

    def codes(x: torch.Tensor) -> torch.Tensor:
        return (model.encode(x)[0].float() + model.encode(x.flip(3))[0].float()).cpu() / 2

    means = torch.cat([codes(to_unit(chunk).to(device)) for chunk in data.images.split(256)])
    model.train(was_training)
    groups, counts = {}, {}
    for name, attrs in GROUPS.items():
        mask = torch.ones(len(data), dtype=torch.bool)
        for attribute, value in attrs.items():
            mask &= data.attributes[attribute] == value
        if mask.any():
            groups[name], counts[name] = means[mask].mean(0), int(mask.sum())
    return groups, counts


class VAETask:
    unit = "img"

    def __init__(self, config: VAEConfig, data: ImageData, train_cfg: TrainConfig, device: torch.device,
                 run_dir: Path, fresh: bool = False):
        self.config, self.data, self.device, self.run_dir = config, data, device, Path(run_dir)
        shard = current_shard()
        self.train_set = load_split(data.folder, "train", config.image_size, data.limit)
        self.valid_set = load_split(data.folder, "valid", config.image_size)
        self.batches = Batches(self.train_set.images, data.batch_size, train_cfg.seed, device,
                               shard.rows(data.batch_size))
        self.model = VAE(config).to(device)
        if device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.net = self.model
        self.log = RunLog(self.run_dir / "log.jsonl", fresh, writes=shard.main)
        self.pending: list[torch.Tensor] = []  # per step (loss, sse, kl), logged at each evaluation
        self.step = 0
        self.fixed_z = latents(0, 24, config.latent_dim)

    def loss(self, step: int) -> tuple[torch.Tensor, int]:
        x = self.batches(step)
        out = self.net(x)
        self.step = step + 1
        self.pending.append(torch.stack([out["loss"], out["sse"], out["kl"]]).detach())
        return out["loss"], x.shape[0]

    def _log_training(self) -> None:
        if not self.pending:
            return
        values = torch.stack(self.pending).cpu()
        first = self.step - len(values) + 1
        for i in range(0, len(values), LOG_WINDOW):
            loss, sse, kl = values[i:i + LOG_WINDOW].mean(0).tolist()
            self.log.add(first + min(i + LOG_WINDOW, len(values)) - 1, "train", loss=loss, sse=sse, kl=kl)
        self.pending.clear()

    def evaluate(self) -> dict[str, float]:
        self._log_training()
        scores = vae_scores(self.model, self.valid_set.images, self.device)
        metrics = {"metric": scores["sse"] + self.config.beta * scores["kl"], **scores}
        self.log.add(self.step, "valid", **metrics)
        return metrics

    def sample(self) -> str:
        samples = self.model.decode(self.fixed_z.to(self.device))
        originals = to_unit(self.valid_set.images[:8]).to(self.device)
        recon = self.model.decode(self.model.encode(originals)[0])
        pictures = torch.cat([samples, originals, recon]).float().clamp(0, 1)
        meta = {"model": "vae", "step": self.step, "layout": "3 rows of samples from fixed latents (seed 0), "
                "then 8 valid faces over their reconstructions"}
        return str(save_grid(pictures, self.run_dir, meta, name=f"vae-step{self.step:06d}", cols=8))

    def save(self, path: Path, summary: dict) -> None:
        groups, counts = group_means(self.model, self.train_set, self.device)
        summary = {**summary, "data": {"folder": Path(self.data.folder).name, "train_images": len(self.train_set),
                                       "valid_images": len(self.valid_set)}}
        # the group means stay in float32: rounding them to float16 moves the arithmetic's results
        save_checkpoint(path, pack_vae(self.model, groups, summary, counts), exact=(GROUP_PREFIX,))

    def plot(self) -> Path:
        return plot(self.log, self.run_dir / "loss-curve.png", "VAE on faces (nats per image)", [
            ("loss = reconstruction + beta * KL", [("train", "loss", "train"), ("valid", "metric", "valid")]),
            ("parts", [("train", "sse", "reconstruction (train)"), ("train", "kl", "KL (train)"),
                       ("valid", "sse", "reconstruction (valid)"), ("valid", "kl", "KL (valid)")]),
        ])
