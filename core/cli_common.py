"""Pieces every family of `inkhorn` subcommands shares."""
from __future__ import annotations

import json
import sys


def add_loop_flags(p, steps: int, lr: float, batch: int, min_lr: float | None = None) -> None:
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--batch-size", type=int, default=batch)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--min-lr", type=float, default=lr / 10 if min_lr is None else min_lr)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--no-bf16", action="store_true", help="train in fp32")
    p.add_argument("--fresh", action="store_true", help="ignore a resume file and start over")
    p.add_argument("--snapshots", action="store_true",
                   help="also keep the weights of every evaluation (OUT.stepNNNNNN.safetensors), to average "
                        "the last ones with `inkhorn average`")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--compile", action="store_true", help="torch.compile the training step (CUDA only)")


def loop_config(args):
    """(device choice, TrainConfig) from the shared training flags; says which device it uses. Under
    torchrun it joins the other processes first (core/train/distributed.py)."""
    from core.device import choose_device
    from core.train.distributed import start
    from core.train.loop import TrainConfig

    dev = start(choose_device(args.device))
    if args.compile and dev.device.type != "cuda":
        raise ValueError(f"--compile is for training on a CUDA GPU, and this run is on {dev.device.type}: "
                         "leave --compile out")
    notice(f"device: {dev.label} ({dev.reason})")
    cfg = TrainConfig(max_steps=args.steps, lr=args.lr, min_lr=args.min_lr, warmup_steps=args.warmup,
                      weight_decay=args.weight_decay, eval_every=args.eval_every, seed=args.seed,
                      bf16=not args.no_bf16, snapshots=args.snapshots, compile=args.compile)
    return dev, cfg


def notice(text: str) -> None:
    """A line on stderr from a training command, written once however many processes run it."""
    from core.train.distributed import current_shard

    if current_shard().main:
        print(text, file=sys.stderr)


def print_result(result: dict, as_json: bool) -> None:
    """A JSON object on one line, or aligned `key: value` lines (nested lists of dicts as blocks)."""
    if as_json:
        print(json.dumps(result))
        return
    width = max(len(k) for k in result)
    for key, value in result.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                print()
                print_result(item, False)
        else:
            print(f"{key:>{width}}: {value:.4f}" if isinstance(value, float) else f"{key:>{width}}: {value}")
