"""`inkhorn` subcommands of the text models: generate, and train / eval / bench for gpt and lstm."""
from __future__ import annotations

import sys

from core.cli_common import add_loop_flags, loop_config, print_result


def register(sub, train, evaluate, bench) -> None:
    """Add this family's commands to the top-level parser and to train / eval / bench."""
    p = sub.add_parser("generate", help="stream text from a language model")
    p.set_defaults(func=cmd_generate)
    p.add_argument("prompt", nargs="?", help="the prompt; '-' or nothing reads it from stdin when piped")
    p.add_argument("--model", default="hemingway", help="hemingway, or a path to a .safetensors checkpoint")
    p.add_argument("-t", "--temperature", type=float, default=0.8, help="0 means greedy")
    p.add_argument("-k", "--top-k", type=int, default=40, help="0 turns it off")
    p.add_argument("-p", "--top-p", type=float, default=0.95, help="1.0 turns it off")
    p.add_argument("--min-p", type=float, default=0.0, help="0 turns it off")
    p.add_argument("--repetition-penalty", type=float, default=1.0, help="1.0 turns it off")
    p.add_argument("-n", "--max-new-tokens", type=int, default=300)
    p.add_argument("--seed", type=int, help="fix the seed to reproduce a text (the seed used is printed)")
    p.add_argument("--no-prompt", action="store_true", help="print only the continuation, not the prompt")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    g = train.add_parser("gpt", help="the Hemingway GPT")
    g.set_defaults(func=cmd_train)
    g.add_argument("--data", help="training text (.txt or .txt.xz); default: the shipped Hemingway corpus")
    g.add_argument("--valid", help="validation text; default: the shipped Hemingway valid split")
    g.add_argument("--pretrain", nargs="+", metavar="FILE",
                   help="other prose mixed into half of every batch (.txt, .txt.xz, or English<TAB>French .tsv "
                        "whose English side is used); default: Anna Karenina and the Tatoeba English "
                        "sentences; 'none' for none")
    g.add_argument("--pretrain-frac", type=float, default=1.0,
                   help="share of steps that mix in the other prose (Hemingway alone overfits quickly); "
                        "the steps after it read Hemingway alone")
    g.add_argument("--no-source-tokens", action="store_true",
                   help="do not open each window with a token naming its corpus (generation is conditioned "
                        "on the training text's token, so the other prose does not lend its voice)")
    g.add_argument("--out", default="checkpoints/hemingway.safetensors", help="checkpoint to write (best on valid)")
    g.add_argument("--vocab-size", type=int, default=4096)
    g.add_argument("--block-size", type=int, default=512, help="context in tokens")
    g.add_argument("--position", choices=["rope", "learned"], default="rope",
                   help="rotary position encoding, or learned position embeddings as in GPT-2")
    g.add_argument("--mlp", choices=["swiglu", "gelu"], default="swiglu", help="SwiGLU, or GPT-2's GELU MLP")
    g.add_argument("--n-layer", type=int, default=6)
    g.add_argument("--n-head", type=int, default=4)
    g.add_argument("--n-embd", type=int, default=256)
    g.add_argument("--dropout", type=float, default=0.2)
    add_loop_flags(g, steps=3600, lr=1e-3, batch=8, min_lr=1e-5)
    g.add_argument("--init", help="start from the weights of this checkpoint (fine-tuning or training on)")
    r = train.add_parser("lstm", help="the Anna Karenina LSTM (or GRU)")
    r.set_defaults(func=cmd_train)
    r.add_argument("--data", help="training text (.txt or .txt.xz); default: the shipped Anna Karenina corpus")
    r.add_argument("--valid", help="validation text; default: the shipped Anna Karenina valid split")
    r.add_argument("--out", default="checkpoints/anna.safetensors", help="checkpoint to write (best on valid)")
    r.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    r.add_argument("--vocab-size", type=int, default=4096)
    r.add_argument("--n-layer", type=int, default=2)
    r.add_argument("--n-embd", type=int, default=480)
    r.add_argument("--n-hidden", type=int, default=480)
    r.add_argument("--bptt", type=int, default=128, help="tokens per truncated-backpropagation segment")
    r.add_argument("--dropout", type=float, default=0.3)
    add_loop_flags(r, steps=4000, lr=2e-3, batch=32)
    r.add_argument("--init", help="start from the weights of this checkpoint (fine-tuning or training on)")
    g = evaluate.add_parser("gpt", help="bits per character of the GPT over a whole text file")
    g.add_argument("--text", help="text file (.txt or .txt.xz); default: the shipped Hemingway valid split")
    g.add_argument("--checkpoint", default="hemingway", help="model name or .safetensors path")
    g.add_argument("--stride", type=int, help="tokens scored per window after the first (default: half the context)")
    r = evaluate.add_parser("lstm", help="bits per character of the LSTM over a whole text file")
    r.add_argument("--text", help="text file (.txt or .txt.xz); default: the shipped Anna Karenina valid split")
    r.add_argument("--checkpoint", default="anna", help="model name or .safetensors path")
    for q in (g, r):
        q.add_argument("--copy-rate", action="store_true",
                       help="also report the share of 50-character spans of 20 samples (500 characters, "
                            "temperature 0.8) found verbatim in the training text")
        q.add_argument("--train-text", help="training text for --copy-rate (default: the shipped train split)")
        q.add_argument("--json", action="store_true", help="print a JSON object")
        q.add_argument("--device")
        q.set_defaults(func=cmd_eval)
    g = bench.add_parser("gpt", help="decode tokens/s at batch 1, with and without the KV cache")
    g.add_argument("--checkpoint", default="hemingway")
    g.add_argument("--tokens", type=int, nargs="+", default=[200], help="tokens generated per run")
    g.add_argument("--against", choices=["transformers"],
                   help="compare sampling speed with Hugging Face generate() at the same shape, on 1 and 2 threads "
                        "(needs transformers, a dev dependency)")
    g.add_argument("--under-load", action="store_true",
                   help="sampling speed with the machine as it is and with a process spinning on every core, on the "
                        "default thread count and on two")
    r = bench.add_parser("lstm", help="stateful streaming against re-feeding the window, tokens/s at batch 1")
    r.add_argument("--checkpoint", default="anna")
    r.add_argument("--tokens", type=int, nargs="+", default=[200, 1000], help="tokens generated per run")
    for q in (g, r):
        q.add_argument("--json", action="store_true", help="print a JSON object")
        q.add_argument("--device")
        q.set_defaults(func=cmd_bench)
    g.set_defaults(func=cmd_bench_gpt)


def cmd_train(args) -> int:
    from pathlib import Path

    from core.checkpoints import load_checkpoint, load_weights
    from core.tokenizer import Tokenizer
    from core.train.loop import resume_tokenizer, train

    dev, cfg = loop_config(args)
    init = load_checkpoint(args.init, args.model) if args.init else None
    saved = None if args.fresh else resume_tokenizer(Path(args.out))
    tokenizer = Tokenizer(saved) if saved else Tokenizer(init.tokenizer) if init else None
    if init:
        print(f"starting from {args.init}: its tokenizer and shape, the flags' dropout", file=sys.stderr)
    if args.model == "gpt":
        from core.models.gpt import GPTConfig
        from core.train.gpt import GPTData, GPTTask

        data = GPTData(vocab_size=args.vocab_size, batch_size=args.batch_size, pretrain_frac=args.pretrain_frac,
                       source_tokens=not args.no_source_tokens)
        if args.data:
            data.train = args.data
        if args.valid:
            data.valid = args.valid
        if args.pretrain:
            data.pretrain = [] if args.pretrain == ["none"] else args.pretrain
        config = GPTConfig(block_size=args.block_size, n_layer=args.n_layer, n_head=args.n_head,
                           n_embd=args.n_embd, dropout=args.dropout, position=args.position, mlp=args.mlp)
        if init:
            config = GPTConfig(**{**init.config, "dropout": args.dropout})
        task = GPTTask(config, data, cfg, dev.device, tokenizer)
        if init:
            from core.train.gpt import widen_vocabulary

            init.tensors = widen_vocabulary(init.tensors, task.config)
    else:
        from core.models.lstm import LSTMConfig
        from core.train.lstm import LSTMData, LSTMTask

        data = LSTMData(vocab_size=args.vocab_size, batch_size=args.batch_size)
        if args.data:
            data.train = args.data
        if args.valid:
            data.valid = args.valid
        config = LSTMConfig(n_embd=args.n_embd, n_hidden=args.n_hidden, n_layer=args.n_layer, dropout=args.dropout,
                            cell=args.cell, bptt=args.bptt)
        if init:
            config = LSTMConfig(**{**init.config, "dropout": args.dropout})
        task = LSTMTask(config, data, cfg, dev.device, tokenizer)
    if init:
        load_weights(task.model, init.tensors, args.init)
    print(f"model: {task.model.num_params() / 1e6:.2f}M parameters", file=sys.stderr)
    summary = {"init": Path(args.init).name} if init else None
    train(task, cfg, Path(args.out), dev.device, resume=not args.fresh, summary=summary)
    return 0


def cmd_generate(args) -> int:
    import threading

    from core.generate import GenerationStats
    from core.lm import load_language_model
    from core.sampling import SamplerSettings

    prompt = args.prompt
    if prompt in (None, "-"):
        prompt = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    settings = SamplerSettings(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                               min_p=args.min_p, repetition_penalty=args.repetition_penalty,
                               max_new_tokens=args.max_new_tokens, seed=args.seed).validate()
    lm = load_language_model(args.model, args.device)
    stats, cancel = GenerationStats(), threading.Event()
    steps = lm.stream(prompt, settings, cancel, stats)
    out = sys.stdout
    try:
        first = next(steps, None)  # prompt notes are known once generation starts
        for note in stats.notes:
            print(f"note: {note}", file=sys.stderr)
        if not args.no_prompt:
            out.write(prompt)
        if first is not None:
            out.write(first.text)
            out.flush()
        for step in steps:
            out.write(step.text)
            out.flush()
    except KeyboardInterrupt:
        cancel.set()
        stats.cancelled = True
    out.write("\n")
    out.flush()
    state = "stopped" if stats.cancelled else "done"
    print(f"[{lm.name} · seed {stats.seed} · {stats.tokens} tokens · {stats.tokens_per_second:.1f} tok/s · {state}]",
          file=sys.stderr)
    return 130 if stats.cancelled else 0


def cmd_eval(args) -> int:
    from core.corpus import asset, read_text

    if args.model in ("gpt", "lstm"):
        from core.checkpoints import CheckpointError
        from core.evaluate import gpt_bits_per_char, recurrent_bits_per_char
        from core.lm import load_language_model

        default = asset("hemingway" if args.model == "gpt" else "anna", "valid.txt.xz")
        text = read_text(args.text or default)
        lm = load_language_model(args.checkpoint, args.device, decoding=False)
        if lm.kind != args.model:
            raise CheckpointError(f"{lm.path} holds a '{lm.kind}' model, not a '{args.model}' model")
        if lm.kind == "gpt":
            result = gpt_bits_per_char(lm.model, lm.tokenizer, text, lm.device, stride=args.stride, prefix=lm.prefix())
        else:
            result = recurrent_bits_per_char(lm.model, lm.tokenizer, text, lm.device)
        result = {k: result[k] for k in ("bits_per_char", "chars", "tokens")}
        if args.copy_rate:
            from core.evaluate import copy_rate, lm_samples

            train_text = read_text(args.train_text or default.with_name("train.txt.xz"))
            result["copy_rate"] = copy_rate(lm_samples(lm), train_text)
    print_result(result, args.json)
    return 0


def cmd_bench(args) -> int:
    import torch

    from core.bench import decode_speed
    from core.lm import load_language_model

    lm = load_language_model(args.checkpoint, args.device)
    result = {"model": lm.name, "device": str(lm.device), "threads": torch.get_num_threads(),
              "params": lm.num_params(), "runs": [decode_speed(lm, n) for n in args.tokens]}
    print_result(result, args.json)
    return 0


def cmd_bench_gpt(args) -> int:
    return bench_sampling(args) if args.against or args.under_load else cmd_bench(args)


def bench_sampling(args) -> int:
    """`bench gpt --against transformers` or `--under-load`, with progress on stderr. Without transformers
    the comparison is skipped, with a message."""
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from core.bench import against_transformers, transformers_twins, under_load
    from core.checkpoints import CheckpointError
    from core.lm import load_language_model

    default_threads = torch.get_num_threads()  # the command's own choice (core.device.choose_threads)
    lm = load_language_model(args.checkpoint, args.device)
    if lm.kind != "gpt":
        raise CheckpointError(f"{lm.path} holds a '{lm.kind}' model: this benchmark is for the GPT")
    if args.against:
        try:
            twins = transformers_twins(lm)
        except ImportError:
            reason = ("transformers is not installed (pip install transformers, or the dev extras: "
                      "pip install -e '.[dev]')")
            print(f"skipped: {reason}", file=sys.stderr)
            if args.json:
                print_result({"skipped": reason}, True)
            return 0
        rounds, threads = 5, (1, 2)
        runs = len(threads) * (rounds + 1) * (len(twins) + 1)
    else:
        rounds, threads = 3, tuple(dict.fromkeys((default_threads, 2)))
        runs = len(threads) * (1 + 2 * rounds)
    with Progress(TextColumn("{task.description:<40}"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=runs)

        def advance(description: str) -> None:
            bar.update(task, description=description, advance=0 if bar.tasks[0].description == "" else 1)

        if args.against:
            result = against_transformers(lm, twins, threads, rounds, args.tokens[0], progress=advance)
        else:
            result = under_load(lm, threads, rounds, args.tokens[0], progress=advance)
    print_result(result, args.json)
    return 0
