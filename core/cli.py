"""`inkhorn` command line: the TUI with no arguments, subcommands for everything else."""
from __future__ import annotations

import argparse
import sys


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a model")
    models = p.add_subparsers(dest="model", required=True)
    g = models.add_parser("gpt", help="the Hemingway GPT")
    g.add_argument("--data", help="training text (.txt or .txt.xz); default: the shipped Hemingway corpus")
    g.add_argument("--valid", help="validation text; default: the shipped Hemingway valid split")
    g.add_argument("--pretrain", help="extra text mixed in early in training; default: Anna Karenina; 'none' for none")
    g.add_argument("--pretrain-frac", type=float, default=0.6, help="share of steps that mix in the pre-training text")
    g.add_argument("--out", default="checkpoints/hemingway.safetensors", help="checkpoint to write (best on valid)")
    g.add_argument("--vocab-size", type=int, default=4096)
    g.add_argument("--block-size", type=int, default=256)
    g.add_argument("--n-layer", type=int, default=6)
    g.add_argument("--n-head", type=int, default=4)
    g.add_argument("--n-embd", type=int, default=256)
    g.add_argument("--dropout", type=float, default=0.2)
    _add_loop_flags(g, steps=5000, lr=1e-3, batch=16)


def _add_loop_flags(p, steps: int, lr: float, batch: int) -> None:
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--batch-size", type=int, default=batch)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--min-lr", type=float, default=lr / 10)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--no-bf16", action="store_true", help="train in fp32")
    p.add_argument("--fresh", action="store_true", help="ignore a resume file and start over")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")


def cmd_train(args) -> int:
    from pathlib import Path

    from core.device import choose_device
    from core.train.loop import TrainConfig, train

    dev = choose_device(args.device)
    print(f"device: {dev.label} ({dev.reason})", file=sys.stderr)
    cfg = TrainConfig(max_steps=args.steps, lr=args.lr, min_lr=args.min_lr, warmup_steps=args.warmup,
                      weight_decay=args.weight_decay, eval_every=args.eval_every, seed=args.seed,
                      bf16=not args.no_bf16)
    if args.model == "gpt":
        from core.models.gpt import GPTConfig
        from core.train.gpt import GPTData, GPTTask

        data = GPTData(vocab_size=args.vocab_size, batch_size=args.batch_size, pretrain_frac=args.pretrain_frac)
        if args.data:
            data.train = args.data
        if args.valid:
            data.valid = args.valid
        if args.pretrain:
            data.pretrain = None if args.pretrain == "none" else args.pretrain
        config = GPTConfig(block_size=args.block_size, n_layer=args.n_layer, n_head=args.n_head,
                           n_embd=args.n_embd, dropout=args.dropout)
        task = GPTTask(config, data, cfg, dev.device)
    print(f"model: {task.model.num_params() / 1e6:.2f}M parameters", file=sys.stderr)
    train(task, cfg, Path(args.out), dev.device, resume=not args.fresh)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inkhorn", description="A terminal studio for small generative models.")
    sub = parser.add_subparsers(dest="command")
    _add_train(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"train": cmd_train}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
