"""Train the anime-face DCGAN.

A GAN takes two optimisation steps per batch (discriminator, then generator),
which the shared loop's one-loss Task cannot express, so this is its own small
loop built from the shared pieces: the learning-rate schedule (`lr_at`), the
resume file (`save_resume` / `load_resume`, same name as the shared loop's),
bf16 autocast, the rich progress bar and the atomic checkpoint write.

Both networks share one Adam with a parameter group each (betas 0.5/0.999, as
in the DCGAN paper): a step updates only the parameters that received a
gradient, and the fake batch is detached for the discriminator step and the
discriminator frozen for the generator step, so each step moves one network.
One optimizer keeps the resume file the shared loop's.

The checkpoint kept is the one whose samples are closest to the valid faces
by sliced Wasserstein distance (core/art/metrics.py); a GAN's own losses say
little about picture quality. Only the generator is shipped.

Under torchrun each network has its own DDP wrapper (core/train/distributed.py);
the latents of a step are drawn for the whole batch, the same on every rank, and
each rank takes the rows of its pictures. The generator step reads the frozen
discriminator outside its wrapper: its parameters take no gradient there.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn as nn
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from core.art.artists import latents, pack_gan
from core.art.images import load_split
from core.art.metrics import gan_quality
from core.art.png import save_grid
from core.checkpoints import save_checkpoint
from core.device import autocast
from core.models.dcgan import (
    DCGANConfig,
    Discriminator,
    Generator,
    discriminator_loss,
    generator_loss,
)
from core.train.curves import RunLog, plot
from core.train.distributed import current_shard, unsynced, wrap
from core.train.loop import Run, TrainConfig, lr_at
from core.train.pictures import Batches, ImageData

RECALIBRATION_BATCHES = 32


@torch.no_grad()
def recalibrate_batchnorm(generator: Generator, batch_size: int, device: torch.device) -> None:
    """Set the generator's batch-norm running statistics to exact averages over fresh batches.

    Sampling runs in eval mode (so a picture does not depend on the rest of its
    batch), which uses running statistics; during training they trail the
    moving generator by their momentum, so they are recomputed for the weights
    being evaluated and saved.
    """
    norms = [m for m in generator.modules() if isinstance(m, (nn.BatchNorm2d, nn.SyncBatchNorm))]  # Sync: on GPUs
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    generator.train()
    for _ in range(RECALIBRATION_BATCHES):
        generator(torch.randn(batch_size, generator.config.latent_dim, device=device))
    generator.eval()
    for m in norms:
        m.momentum = 0.1


class GANTask:
    unit = "img"

    def __init__(self, config: DCGANConfig, data: ImageData, train_cfg: TrainConfig, device: torch.device,
                 run_dir: Path, fresh: bool = False):
        self.config, self.data, self.device, self.run_dir = config, data, device, Path(run_dir)
        shard = current_shard()
        train_set = load_split(data.folder, "train", config.image_size, data.limit)
        self.train_images = len(train_set)
        self.valid_images = load_split(data.folder, "valid", config.image_size).images
        self.batches = Batches(train_set.images, data.batch_size, train_cfg.seed, device,
                               shard.rows(data.batch_size))
        self.generator, self.discriminator = Generator(config), Discriminator(config)
        self.model = nn.ModuleDict({"generator": self.generator, "discriminator": self.discriminator}).to(device)
        if device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.log = RunLog(self.run_dir / "log.jsonl", fresh, writes=shard.main)
        self.step = 0
        self.fixed_z = latents(0, 64, config.latent_dim)
        self.nets = (self.generator, self.discriminator)  # what train_step runs; train_gan wraps them

    def optimizer(self, cfg: TrainConfig) -> torch.optim.Adam:
        groups = [{"params": self.generator.parameters()}, {"params": self.discriminator.parameters()}]
        return torch.optim.Adam(groups, lr=cfg.lr, betas=(0.5, 0.999), fused=self.device.type == "cuda")

    def train_step(self, step: int, opt: torch.optim.Optimizer, bf16: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """One discriminator step and one generator step on the batch of `step`; returns both losses."""
        generator, discriminator = self.nets
        real = self.batches(step) * 2 - 1
        z = torch.randn(self.data.batch_size, self.config.latent_dim, device=self.device)[self.batches.rows]
        with autocast(self.device, bf16):
            fake = generator(z)
            loss_d = discriminator_loss(discriminator(real), discriminator(fake.detach()))
        loss_d.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        self.discriminator.requires_grad_(False)
        with autocast(self.device, bf16):
            loss_g = generator_loss(unsynced(discriminator)(fake))
        loss_g.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        self.discriminator.requires_grad_(True)
        self.step = step + 1
        return loss_d.detach(), loss_g.detach()

    def evaluate(self) -> dict[str, float]:
        recalibrate_batchnorm(self.generator, self.data.batch_size, self.device)
        n = min(1000, len(self.valid_images))
        fake = torch.cat([(self.generator(z.to(self.device)).float() + 1) / 2
                          for z in latents(1, n, self.config.latent_dim).split(256)])
        scores = gan_quality(fake.cpu(), self.valid_images[:n])
        metrics = {"metric": scores["swd"], **scores}
        self.log.add(self.step, "valid", **metrics)
        return metrics

    def sample(self) -> str:
        pictures = ((self.generator(self.fixed_z.to(self.device)).float() + 1) / 2).clamp(0, 1)
        meta = {"model": "gan", "step": self.step, "layout": "samples from fixed latents (seed 0)"}
        return str(save_grid(pictures, self.run_dir, meta, name=f"gan-step{self.step:06d}", cols=8))

    def save(self, path: Path, summary: dict) -> None:
        summary = {**summary, "data": {"folder": Path(self.data.folder).name, "train_images": self.train_images,
                                       "valid_images": len(self.valid_images)}}
        save_checkpoint(path, pack_gan(self.generator, summary))

    def plot(self) -> Path:
        return plot(self.log, self.run_dir / "loss-curve.png", "DCGAN on anime faces", [
            ("non-saturating losses", [("train", "loss_d", "discriminator"), ("train", "loss_g", "generator")]),
            ("valid: sliced Wasserstein distance (lower is better)", [("valid", "swd", "samples vs valid")]),
        ])


def train_gan(task: GANTask, cfg: TrainConfig, out: Path, device: torch.device, resume: bool = True,
              console: Console | None = None, summary: dict | None = None, run_dir: Path | None = None) -> dict:
    """The GAN's loop; returns the final summary, as the shared loop's train() does."""
    main = current_shard().main
    console = (console or Console(stderr=True)) if main else Console(quiet=True)
    model = task.model
    opt = task.optimizer(cfg)
    run = Run(task, cfg, out, opt, resume, console, summary, run_dir)
    loop = run.loop
    task.nets = tuple(wrap(net, device, cfg.compile) for net in (task.generator, task.discriminator))

    model.train()
    columns = [TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TextColumn("D {task.fields[loss_d]:.3f} G {task.fields[loss_g]:.3f}"),
               TextColumn("{task.fields[rate]:,.0f} img/s"), TimeElapsedColumn(), TextColumn("eta"),
               TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("train", total=cfg.max_steps, completed=loop["step"], loss_d=float("nan"),
                                loss_g=float("nan"), rate=0.0)
        images, t0, pending = 0, time.perf_counter(), []
        while loop["step"] < cfg.max_steps:
            step = loop["step"]
            torch.manual_seed(cfg.seed * 7919 + step)  # latents depend on the step alone: resumable, alike on all ranks
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg)
            pending.append(torch.stack(task.train_step(step, opt, cfg.bf16)))
            images += task.data.batch_size
            loop["step"] = step + 1
            elapsed = time.perf_counter() - t0
            progress.update(bar, completed=loop["step"], rate=images / max(elapsed, 1e-9))
            at_eval = loop["step"] % cfg.eval_every == 0 or loop["step"] == cfg.max_steps
            if loop["step"] % cfg.log_every == 0 or at_eval:
                loss_d, loss_g = torch.stack(pending).mean(0).tolist()  # one device sync per log interval
                pending.clear()
                task.log.add(loop["step"], "train", loss_d=loss_d, loss_g=loss_g)
                progress.update(bar, loss_d=loss_d, loss_g=loss_g)
                if not console.is_terminal:
                    console.log(f"step {loop['step']} D {loss_d:.3f} G {loss_g:.3f} {images / elapsed:,.0f} img/s")
            if at_eval:
                loop["seconds"] += elapsed
                run.evaluate(loop["step"])
                images, t0 = 0, time.perf_counter()
    return run.result("SWD")
