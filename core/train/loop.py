"""The training loop every model shares.

AdamW with linear warmup and cosine decay, gradient clipping, bf16 autocast,
evaluation on valid every `eval_every` steps, the best-on-valid checkpoint
written atomically, a resume file so a killed run picks up where it stopped,
and a rich progress bar (loss, throughput, ETA). A model plugs in through a
`Task`: it says how to compute a training loss, how to evaluate, how to write
its checkpoint and, optionally, how to show a sample. Under torchrun the same
loop runs on every process (core/train/distributed.py).
"""
from __future__ import annotations

import base64
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import torch
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from core.checkpoints import CheckpointError, fit_problems
from core.files import atomic_write
from core.safe_text import terminal_safe
from core.device import autocast
from core.train.distributed import current_shard, wrap


@dataclass
class TrainConfig:
    max_steps: int = 5000
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_steps: int = 200
    weight_decay: float = 0.1
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_every: int = 250
    bf16: bool = True
    seed: int = 1337
    log_every: int = 50
    snapshots: bool = False  # also write the weights at every evaluation, for `inkhorn average`
    compile: bool = False  # torch.compile the training step (CUDA)


class Task(Protocol):
    model: torch.nn.Module  # what checkpoints are written from
    net: torch.nn.Module  # what loss() runs: the model, or the wrapper train() sets (DDP, torch.compile)
    unit: str  # what throughput counts, e.g. "tok"

    def loss(self, step: int) -> tuple[torch.Tensor, int]:
        """Training loss of this process's rows of the batch of `step`, and how many units they hold."""

    def evaluate(self) -> dict[str, float]:
        """Metrics on valid; must hold 'metric' (lower is better)."""

    def save(self, path: Path, summary: dict) -> None:
        """Write the shipped checkpoint."""

    def sample(self) -> str | None:
        """A short sample to print at each evaluation, or None."""


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = min(1.0, (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps))
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (cfg.lr - cfg.min_lr)


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW; matrices decay, biases, norms and (1-D) gains do not."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, cfg.beta2), fused=device.type == "cuda")


def resume_path(out: Path, run_dir: Path | None = None) -> Path:
    """The resume file of a run that writes `out`: in its run folder (default: beside `out`), so that
    shipping a model with `--out checkpoints/...` leaves nothing else among the shipped checkpoints."""
    return (Path(run_dir) if run_dir else Path(out).parent) / f"{Path(out).stem}.resume.safetensors"


def snapshot_path(out: Path, step: int, run_dir: Path | None = None) -> Path:
    return (Path(run_dir) if run_dir else Path(out).parent) / f"{Path(out).stem}.step{step:06d}.safetensors"


def _run_output(out: Path, resume_file: Path) -> str:
    """The checkpoint a run writes, as its resume file records it: relative to the run folder when it lies
    inside it, so a run folder moved elsewhere still resumes."""
    out, folder = Path(out).resolve(), resume_file.parent.resolve()
    return str(out.relative_to(folder)) if out.is_relative_to(folder) else str(out)


def save_resume(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, state: dict,
                tokenizer: bytes | None = None) -> None:
    """Full-precision weights, optimizer moments, loop state and the tokenizer, without pickle."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()
               if k not in getattr(model, "tied_weights", ())}
    opt_state = opt.state_dict()
    for idx, st in opt_state["state"].items():
        for key, val in st.items():
            tensors[f"optim.{idx}.{key}"] = torch.as_tensor(val).detach().cpu().contiguous()
    meta = {"loop": json.dumps(state), "param_groups": json.dumps(opt_state["param_groups"])}
    if tokenizer is not None:
        meta["tokenizer"] = base64.b64encode(tokenizer).decode("ascii")
    atomic_write(path, save(tensors, metadata=meta))


def _cannot_resume(path: Path, why: str) -> CheckpointError:
    return CheckpointError(f"{path} cannot be resumed: {why}. Start the run afresh with --fresh (the resume file "
                           "is then replaced), or give the flags the run was started with.")


def _read_resume(path: Path, tensors: bool = True) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """The metadata and (unless tensors=False) the tensors of a resume file; a truncated or damaged
    one is said to be."""
    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}, {name: f.get_tensor(name) for name in f.keys()} if tensors else {}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise _cannot_resume(path, f"it is truncated or damaged ({e})") from e


def resume_tokenizer(out: Path, run_dir: Path | None = None) -> bytes | None:
    """The tokenizer a resumable run of `out` was started with: a resumed run must
    keep it, since retraining SentencePiece need not give byte-identical ids."""
    path = resume_path(out, run_dir)
    if not path.exists():
        return None
    meta, _ = _read_resume(path, tensors=False)
    try:
        return base64.b64decode(meta["tokenizer"]) if "tokenizer" in meta else None
    except ValueError as e:
        raise _cannot_resume(path, f"its tokenizer is damaged ({e})") from e


def load_resume(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer) -> dict:
    """Put a resume file's weights and optimizer state into `model` and `opt`; return the loop state. A file
    of another architecture (the flags changed since) or a damaged one is refused, naming --fresh."""
    meta, tensors = _read_resume(path)
    weights = {k[6:]: v for k, v in tensors.items() if k.startswith("model.")}
    own = {k: tuple(v.shape) for k, v in model.state_dict().items() if k not in getattr(model, "tied_weights", ())}
    problems = fit_problems(own, {k: tuple(v.shape) for k, v in weights.items()})
    if problems:
        raise _cannot_resume(path, "it holds another model than these flags build (" + "; ".join(problems) + ")")
    state: dict = {}
    try:
        for name, val in tensors.items():
            if name.startswith("optim."):
                _, idx, key = name.split(".", 2)
                state.setdefault(int(idx), {})[key] = val
        model.load_state_dict(weights, strict=False)
        opt.load_state_dict({"state": state, "param_groups": json.loads(meta["param_groups"])})
        return json.loads(meta["loop"])
    except (KeyError, ValueError, RuntimeError) as e:
        raise _cannot_resume(path, f"its optimizer or loop state does not fit ({e})") from e


class Run:
    """What every training loop keeps besides the weights: the resume file, the history of
    evaluations, and the best-on-valid checkpoint. The shared loop below and the GAN's
    two-network loop (core/train/gan.py) both use it."""

    def __init__(self, task, cfg: TrainConfig, out: Path, opt: torch.optim.Optimizer, resume: bool,
                 console: Console, summary: dict | None, run_dir: Path | None = None):
        self.task, self.cfg, self.out, self.opt, self.console = task, cfg, out, opt, console
        self.main = current_shard().main
        self.summary = dict(summary or {})
        self.run_dir = run_dir
        self.resume_file = resume_path(out, run_dir)
        self.loop = {"step": 0, "best": float("inf"), "best_step": -1, "seconds": 0.0, "history": [],
                     "out": _run_output(out, self.resume_file)}
        if resume and self.resume_file.exists():
            loop = load_resume(self.resume_file, task.model, opt)
            if loop.get("out", self.loop["out"]) != self.loop["out"]:
                raise ValueError(f"{self.resume_file} belongs to the run that writes {loop['out']}: continue it with "
                                 f"--out {loop['out']}, or start afresh with --fresh")
            self.loop = {**loop, "out": self.loop["out"]}
            console.log(f"resuming from step {self.loop['step']} (best valid {self.loop['best']:.4f})")

    def evaluate(self, step: int) -> None:
        """Evaluate, keep the checkpoint if it is the best so far, show a sample, write the resume file.
        Every process evaluates; only the first writes."""
        task, loop, model = self.task, self.loop, self.task.model
        model.eval()
        with torch.no_grad():
            metrics = task.evaluate()
            sample = task.sample() if self.main else None
        model.train()
        loop["history"].append({"step": step, **metrics})
        improved = metrics["metric"] < loop["best"]
        if improved:
            loop["best"], loop["best_step"] = metrics["metric"], step
        if not self.main:
            return
        summary = {**self.summary, **_summary(self.cfg, loop, metrics)}
        if improved:
            task.save(self.out, summary)
        if self.cfg.snapshots:  # at a best step the snapshot is the file just written: copy it
            snap = snapshot_path(self.out, step, self.run_dir)
            if improved:
                atomic_write(snap, self.out.read_bytes())
            else:
                task.save(snap, summary)
        shown = " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
        self.console.log(f"step {step}: {shown}" + ("  [green]saved best[/]" if improved else ""))
        if sample:
            self.console.log(f"[dim]sample: {escape(repr(sample))}[/]")  # a sample may hold "[/]"
        tokenizer = getattr(task, "tokenizer", None)
        save_resume(self.resume_file, model, self.opt, loop, tokenizer.model_bytes if tokenizer is not None else None)

    def result(self, metric_name: str = "metric") -> dict:
        loop = self.loop
        self.console.log(f"done: best valid {metric_name} {loop['best']:.4f} at step {loop['best_step']}; "
                         f"checkpoint {escape(terminal_safe(str(self.out)))}")
        return _summary(self.cfg, loop, loop["history"][-1] if loop["history"] else {})


def train(task: Task, cfg: TrainConfig, out: Path, device: torch.device, resume: bool = True,
          console: Console | None = None, summary: dict | None = None, run_dir: Path | None = None) -> dict:
    """Run the loop; returns the final summary (best metric, steps, time). The resume file and any
    snapshots go to `run_dir` (default: beside `out`)."""
    shard = current_shard()
    console = (console or Console(stderr=True)) if shard.main else Console(quiet=True)
    model = task.model
    opt = make_optimizer(model, cfg, device)
    run = Run(task, cfg, out, opt, resume, console, summary, run_dir)
    loop = run.loop
    task.net = wrap(model, device, cfg.compile)

    model.train()
    columns = [TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TextColumn("loss {task.fields[loss]:.3f}"), TextColumn("{task.fields[rate]:,.0f} " + task.unit + "/s"),
               TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task("train", total=cfg.max_steps, completed=loop["step"], loss=float("nan"), rate=0.0)
        units, t0, smooth = 0, time.perf_counter(), None
        while loop["step"] < cfg.max_steps:
            step = loop["step"]
            # dropout masks depend on the step and rank alone: resumable, and each rank draws its own
            torch.manual_seed((cfg.seed * 7919 + step) * shard.world + shard.rank)
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cfg)
            with autocast(device, cfg.bf16):
                loss, n = task.loss(step)
            loss.backward()
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            opt.zero_grad(set_to_none=True)
            units += n * shard.world  # throughput of all processes, each covering an equal share
            smooth = loss.item() if smooth is None else 0.95 * smooth + 0.05 * loss.item()
            loop["step"] = step + 1
            elapsed = time.perf_counter() - t0
            progress.update(bar, completed=loop["step"], loss=smooth, rate=units / max(elapsed, 1e-9))
            if not console.is_terminal and loop["step"] % cfg.log_every == 0:
                console.log(f"step {loop['step']} loss {smooth:.3f} {units / elapsed:,.0f} {task.unit}/s")
            if loop["step"] % cfg.eval_every == 0 or loop["step"] == cfg.max_steps:
                loop["seconds"] += elapsed
                run.evaluate(loop["step"])
                units, t0 = 0, time.perf_counter()
    return run.result()


def _summary(cfg: TrainConfig, loop: dict, metrics: dict) -> dict:
    return {
        "train": asdict(cfg),
        "steps": loop["step"],
        "best_step": loop["best_step"],
        "best_valid": loop["best"],
        "valid": metrics,
        "train_seconds": round(loop["seconds"], 1),
        "date": time.strftime("%Y-%m-%d"),
    }
