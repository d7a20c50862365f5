"""Pieces every family of `inkhorn` subcommands shares."""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path


def add_config_flags(p, source, flags: dict[str, tuple[str, str]]) -> None:
    """One flag per entry {"--flag": (field of `source`, help)}, defaulting to that field of `source`
    (a recipe's config or data): the recipe is the one place a default is written."""
    for flag, (name, text) in flags.items():
        default = getattr(source, name)
        p.add_argument(flag, dest=name, type=type(default), default=default, help=f"{text} (default: %(default)s)")


def from_flags(source, args, flags: dict[str, tuple[str, str]]):
    """`source` with the fields `flags` names replaced by what the command line gave."""
    return replace(source, **{name: getattr(args, name) for name, _ in flags.values()})


def add_loop_flags(p, recipe) -> None:
    """The shared training flags, their defaults from `recipe` (core/train/recipes.py), and where the run
    writes: runs/<model>/ unless told otherwise; a model is shipped by an explicit --out checkpoints/..."""
    from core.catalog import MODELS, run_dir

    loop = recipe.loop
    p.add_argument("--steps", type=int, default=loop.max_steps)
    p.add_argument("--lr", type=float, default=loop.lr)
    p.add_argument("--min-lr", type=float, default=loop.min_lr)
    p.add_argument("--warmup", type=int, default=loop.warmup_steps)
    p.add_argument("--weight-decay", type=float, default=loop.weight_decay)
    p.add_argument("--eval-every", type=int, default=loop.eval_every)
    p.add_argument("--seed", type=int, default=loop.seed)
    p.add_argument("--no-bf16", action="store_true", help="train in fp32")
    p.add_argument("--fresh", action="store_true", help="ignore a resume file and start over")
    p.add_argument("--snapshots", action="store_true",
                   help="also keep the weights of every evaluation (in the run folder, OUT.stepNNNNNN.safetensors), "
                        "to average the last ones with `inkhorn average`")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--compile", action="store_true", help="torch.compile the training step (CUDA only)")
    p.add_argument("--run-dir", help="the run's folder: resume file, snapshots, samples, logs (default: the folder of "
                   f"--out, or {run_dir(recipe.model)} when --out is in the checkpoints folder or not given)")
    p.add_argument("--out", help=f"checkpoint to write, the best on valid (default: RUN_DIR/{MODELS[recipe.model].file};"
                   " --out checkpoints/... ships it)")
    p.set_defaults(recipe=recipe)


def run_paths(args) -> tuple[Path, Path]:
    """(checkpoint to write, run folder) from the training flags: resume files and snapshots never go into
    the checkpoints folder."""
    from core.catalog import MODELS, checkpoint_dir, run_dir

    shipped = checkpoint_dir().resolve()
    out = Path(args.out) if args.out else None
    if args.run_dir:
        folder = Path(args.run_dir)
        if folder.resolve() == shipped:
            raise ValueError(f"--run-dir {folder} is the checkpoints folder: resume files and snapshots never go "
                             "there; give another folder and ship with --out")
    elif out is not None and out.parent.resolve() != shipped:
        folder = out.parent
    else:
        folder = run_dir(args.recipe.model)
    return out or folder / MODELS[args.recipe.model].file, folder


def loop_config(args):
    """(device choice, TrainConfig) from the shared training flags; says which device it uses. Under
    torchrun it joins the other processes first (core/train/distributed.py)."""
    from core.device import choose_device
    from core.train.distributed import start

    dev = start(choose_device(args.device))
    if args.compile and dev.device.type != "cuda":
        raise ValueError(f"--compile is for training on a CUDA GPU, and this run is on {dev.device.type}: "
                         "leave --compile out")
    notice(f"device: {dev.label} ({dev.reason})")
    from core.device import bf16_pays

    if not args.no_bf16 and not bf16_pays(dev.device):
        notice("training in fp32: bf16 pays on CUDA and on CPUs with bf16 in hardware (AVX-512 BF16, AMX), "
               "and this one has none")
    cfg = replace(args.recipe.loop, max_steps=args.steps, lr=args.lr, min_lr=args.min_lr, warmup_steps=args.warmup,
                  weight_decay=args.weight_decay, eval_every=args.eval_every, seed=args.seed, bf16=not args.no_bf16,
                  snapshots=args.snapshots, compile=args.compile)
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
