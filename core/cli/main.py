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
from core.cli.common import describe_error, say
from core.cli.startup import INTERRUPTED

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
        say(f"{name:<20} {environ(name) or '(unset)'}  · {about}")
    folder = checkpoint_dir()
    say(f"checkpoints {folder}")
    files = sorted(folder.glob("*.safetensors")) if folder.is_dir() else []
    files = [f for f in files if not f.name.endswith(".resume.safetensors")]
    if not files:
        print("  (none)")
    for f in files:  # one broken file is listed as broken; the listing goes on
        try:
            size = f"{f.stat().st_size / 2**20:5.1f} MiB"
            meta = read_metadata(f)
            say(f"  {f.name:<28} {meta.get('kind', '?')[:10]:<10} {size}  {describe_training(meta)}")
        except CheckpointError as e:
            say(f"  {f.name:<28} unreadable: {e}")
        except OSError as e:
            say(f"  {f.name:<28} unreadable: {e.strerror or e}" + (" (a dangling symbolic link)"
                                                                  if f.is_symlink() and not f.exists() else ""))
    return 0


def cmd_average(args) -> int:
    from core.checkpoints import average_checkpoints, save_checkpoint

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ValueError(f"{out} exists; pass --force to replace it")
    path = save_checkpoint(out, average_checkpoints(args.checkpoints), replace=args.force)
    say(f"averaged {len(args.checkpoints)} checkpoints into {path}")
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
    """Run one command; whatever goes wrong ends in one line on stderr and an exit code: 2 for input
    that cannot be used (a value, a file, a path), 1 for a failing system (a full disk, a read-only
    folder), 130 for Ctrl+C."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:  # the `inkhorn` script opens the app here (tui/launch.py)
            parser.print_help()
            return 0
        return _run(args)
    except KeyboardInterrupt:
        say("interrupted", file=sys.stderr)
        return INTERRUPTED


def _run(args) -> int:
    from core.checkpoints import CheckpointError

    try:
        return args.func(args)
    except (CheckpointError, ValueError, FileNotFoundError, FileExistsError, NotADirectoryError,
            IsADirectoryError) as e:  # what was asked cannot be done: a path, a value, a file
        say(f"error: {describe_error(e)}", file=sys.stderr)
        return 2
    except OSError as e:
        say(f"error: {describe_error(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        say("interrupted" + ("; the run resumes from its last evaluation with the same command"
                             if args.command == "train" else ""), file=sys.stderr)
        return INTERRUPTED
    finally:
        if args.command == "train":  # leave the process group torchrun's processes joined
            from core.train.distributed import stop

            stop()


if __name__ == "__main__":
    sys.exit(main())
