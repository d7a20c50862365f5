"""`inkhorn` subcommands (the `inkhorn` script itself, tui/launch.py, opens the app when given none).

Each family of models registers its own subcommands (core/cli/text.py, ...):
top-level commands such as `generate`, and one entry each under the shared
`train`, `eval` and `bench` commands.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli import art, text, translate

FAMILIES = (text, translate, art)


def cmd_info(args) -> int:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from core.catalog import ENVIRONMENT, checkpoint_dir, environ
    from core.checkpoints import CheckpointError, describe_training, read_metadata
    from core.device import choose_device

    dev = choose_device()
    print(f"device     {dev.label} ({dev.reason})")
    versions = [f"python {platform.python_version()}"]
    for pkg in ("inkhorn", "torch", "textual", "sentencepiece", "safetensors"):
        try:
            versions.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            versions.append(f"{pkg} (not installed)")
    print("versions   " + ", ".join(versions))
    for name, about in ENVIRONMENT.items():
        print(f"{name:<20} {environ(name) or '(unset)'}  · {about}")
    folder = checkpoint_dir()
    print(f"checkpoints {folder}")
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    files = [f for f in files if not f.name.endswith(".resume.safetensors")]
    if not files:
        print("  (none)")
    for f in files:
        size = f.stat().st_size / 2**20
        try:
            meta = read_metadata(f)
            print(f"  {f.name:<28} {meta.get('kind', '?'):<10} {size:5.1f} MiB  {describe_training(meta)}")
        except CheckpointError as e:
            print(f"  {f.name:<28} unreadable: {e}")
    return 0


def cmd_average(args) -> int:
    from core.checkpoints import average_checkpoints, save_checkpoint

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ValueError(f"{out} exists; pass --force to replace it")
    path = save_checkpoint(out, average_checkpoints(args.checkpoints))
    print(f"averaged {len(args.checkpoints)} checkpoints into {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inkhorn", description="A terminal studio for small generative models. "
                                     "With no command, opens the app.")
    sub = parser.add_subparsers(dest="command")
    groups = {}
    for name, about in (("train", "train a model"), ("eval", "measure a model on held-out data (--json for JSON)"),
                       ("bench", "speed benchmarks (--json for JSON)")):
        groups[name] = sub.add_parser(name, help=about).add_subparsers(dest="model", required=True)
    sub.add_parser("info", help="device, versions and checkpoints").set_defaults(func=cmd_info)
    avg = sub.add_parser("average", help="average the weights of snapshots of one training run")
    avg.set_defaults(func=cmd_average)
    avg.add_argument("checkpoints", nargs="+", help="two or more .safetensors of the same model")
    avg.add_argument("--out", required=True, help="checkpoint to write")
    avg.add_argument("--force", action="store_true", help="replace --out if it exists")
    for family in FAMILIES:
        family.register(sub, groups["train"], groups["eval"], groups["bench"])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # the `inkhorn` script opens the app here (tui/launch.py)
        parser.print_help()
        return 0
    from core.checkpoints import CheckpointError

    try:
        return args.func(args)
    except (CheckpointError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if args.command == "train":  # leave the process group torchrun's processes joined
            from core.train.distributed import stop

            stop()


if __name__ == "__main__":
    sys.exit(main())
