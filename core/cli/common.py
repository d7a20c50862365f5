"""Pieces every family of `inkhorn` subcommands shares."""
from __future__ import annotations

import errno
import json
import sys
from dataclasses import replace
from pathlib import Path

from core.safe_text import TerminalFilter, decode_input, terminal_safe

_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space and run it again",
    errno.EDQUOT: "the disk quota is used up: free some space and run it again",
    errno.EFBIG: "the file is larger than this system lets a process write",
    errno.EROFS: "the folder is read-only: choose another (--out, or $INKHORN_OUTPUT_DIR)",
    errno.EACCES: "no permission: choose another folder (--out, or $INKHORN_OUTPUT_DIR)",
    errno.EPERM: "not permitted: choose another folder (--out, or $INKHORN_OUTPUT_DIR)",
}


def say(text: str, file=None) -> None:
    """A line for the user, made safe for a terminal (core/safe_text.py): it may hold a path, a prompt
    or a checkpoint's metadata, any of which can carry escape sequences."""
    print(terminal_safe(str(text)), file=file or sys.stdout)


def add_raw_flag(p) -> None:
    p.add_argument("--raw", action="store_true",
                   help="when stdout is not a terminal, write the text exactly as the model made it, control "
                        "characters and escape sequences included (on a terminal they are always removed)")


def read_input(text: str | None) -> tuple[str, list[str]]:
    """(what a command is to read: its argument, or stdin when that is '-' or missing and stdin is piped;
    notes). Invalid UTF-8, on stdin or in the argument, is replaced, and a note says so."""
    if text not in (None, "-"):
        return decode_input(text)
    if sys.stdin is None or sys.stdin.isatty():
        return "", []
    stdin = getattr(sys.stdin, "buffer", None)
    return decode_input(stdin.read() if stdin is not None else sys.stdin.read())


class TextOut:
    """stdout for a model's text, written as it comes: made safe for a terminal piece by piece
    (a sequence split across two tokens is still removed whole), unless --raw asks for the text as it
    is and stdout is not a terminal."""

    def __init__(self, raw: bool):
        self.stream = sys.stdout
        terminal = self.stream.isatty()
        self.filter = None if raw and not terminal else TerminalFilter()
        self.notes = ["--raw is for a pipe or a file: on a terminal, control characters and escape sequences "
                      "are removed all the same"] if raw and terminal else []

    def write(self, text: str) -> None:
        self.stream.write(self.filter.feed(text) if self.filter else text)
        self.stream.flush()

    def close(self) -> None:
        if self.filter:
            self.stream.write(self.filter.close())
        self.stream.flush()


def describe_error(error: Exception) -> str:
    """An error as one line: an OS error names its file, says what happened and what to do."""
    if isinstance(error, OSError) and error.strerror:
        what = f"{error.filename}: {error.strerror}" if error.filename else error.strerror
        hint = _OS_HINTS.get(error.errno)
        return f"{what} ({hint})" if hint and hint != error.strerror else what
    return str(error)


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
    p.add_argument("--force", action="store_true",
                   help="let a run that does not resume replace a checkpoint already at --out")
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
    from core.train.loop import resume_path

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
    out = out or folder / MODELS[args.recipe.model].file
    resumes = not args.fresh and resume_path(out, folder).exists()
    if out.exists() and not resumes and not args.force:
        raise ValueError(f"{out} exists and this run does not resume it: pass --force to replace it, or choose "
                         "another --out")
    return out, folder


def loop_config(args):
    """(device choice, TrainConfig) from the shared training flags; says which device it uses. Under
    torchrun it joins the other processes first (core/train/distributed.py)."""
    import torch

    from core.device import choose_device
    from core.limits import check_seed
    from core.train.distributed import start

    check_seed(args.seed, "--seed")
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
    torch.manual_seed(cfg.seed)  # the initial weights: the same --seed builds the same model
    return dev, cfg


def notice(text: str) -> None:
    """A line on stderr from a training command, written once however many processes run it."""
    from core.train.distributed import current_shard

    if current_shard().main:
        say(text, file=sys.stderr)


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
            say(f"{key:>{width}}: {value:.4f}" if isinstance(value, float) else f"{key:>{width}}: {value}")
