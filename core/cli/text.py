"""`inkhorn` subcommands of the text models: generate, models, and train / eval / bench for gpt and lstm."""
from __future__ import annotations

import sys

from core.cli.common import (
    TextOut,
    add_config_flags,
    add_loop_flags,
    add_raw_flag,
    bench_progress,
    from_flags,
    loop_config,
    notice,
    print_result,
    read_input,
    run_paths,
    say,
)
from core.text.sampling import SamplerSettings
from core.train.recipes import ANNA, HEMINGWAY

GPT_FLAGS = {
    "--block-size": ("block_size", "context in tokens"),
    "--position": ("position", "rotary positions (rope), or learned position embeddings as in GPT-2"),
    "--mlp": ("mlp", "swiglu, or GPT-2's gelu MLP"),
    "--n-layer": ("n_layer", "transformer blocks"),
    "--n-head": ("n_head", "attention heads"),
    "--n-embd": ("n_embd", "width"),
    "--dropout": ("dropout", "dropout on the residual branches"),
}
GPT_DATA_FLAGS = {
    "--vocab-size": ("vocab_size", "BPE pieces"),
    "--batch-size": ("batch_size", "windows a step"),
    "--pretrain-frac": ("pretrain_frac", "share of steps that mix in the other prose (Hemingway alone overfits "
                        "quickly); the steps after it read the training text alone"),
}
LSTM_FLAGS = {
    "--cell": ("cell", "lstm or gru"),
    "--n-layer": ("n_layer", "recurrent layers"),
    "--n-embd": ("n_embd", "embedding width (tied with the output)"),
    "--n-hidden": ("n_hidden", "hidden state width"),
    "--bptt": ("bptt", "tokens per truncated-backpropagation segment"),
    "--dropout": ("dropout", "dropout between layers and before the output"),
}
LSTM_DATA_FLAGS = {
    "--vocab-size": ("vocab_size", "BPE pieces"),
    "--batch-size": ("batch_size", "streams read side by side"),
}


def register(sub, train, evaluate, bench) -> None:
    """Add this family's commands to the top-level parser and to train / eval / bench."""
    defaults = SamplerSettings()
    p = sub.add_parser("generate", help="stream text from a language model")
    p.set_defaults(func=cmd_generate)
    p.add_argument("prompt", nargs="?", help="the prompt; '-' or nothing reads it from stdin when piped")
    p.add_argument("--model", default=HEMINGWAY.model,
                   help="hemingway, anna, a .safetensors checkpoint you trained (e.g. under runs/), or a local "
                        "GPT-2-family folder (config.json, model.safetensors or pytorch_model.bin, tokenizer.json "
                        "or vocab.json + merges.txt); `inkhorn models` lists them")
    p.add_argument("-t", "--temperature", type=float, default=defaults.temperature, help="0 means greedy")
    p.add_argument("-k", "--top-k", type=int, default=defaults.top_k, help="0 turns it off")
    p.add_argument("-p", "--top-p", type=float, default=defaults.top_p, help="1.0 turns it off")
    p.add_argument("--min-p", type=float, default=defaults.min_p, help="0 turns it off")
    p.add_argument("--repetition-penalty", type=float, default=defaults.repetition_penalty, help="1.0 turns it off")
    p.add_argument("-n", "--max-new-tokens", type=int, default=defaults.max_new_tokens)
    p.add_argument("--seed", type=int, help="fix the seed to reproduce a text (the seed used is printed)")
    p.add_argument("--no-prompt", action="store_true", help="print only the continuation, not the prompt")
    add_raw_flag(p)
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    m = sub.add_parser("models", help="the text models `generate --model` can use: shipped, your runs, GPT-2 folders")
    m.set_defaults(func=cmd_models)
    m.add_argument("--gpt2", nargs="+", default=[], metavar="DIR",
                   help="GPT-2-family folders to list besides those of $INKHORN_GPT2 and the Hugging Face cache")
    m.add_argument("--runs", help="folder searched for your checkpoints (default: $INKHORN_RUNS or ./runs)")
    m.add_argument("--json", action="store_true", help="print a JSON object")

    g = train.add_parser("gpt", help="the Hemingway GPT")
    g.set_defaults(func=cmd_train)
    g.add_argument("--data", help="training text (.txt or .txt.xz); default: the shipped Hemingway corpus")
    g.add_argument("--valid", help="validation text; default: the shipped Hemingway valid split")
    g.add_argument("--pretrain", nargs="+", metavar="FILE",
                   help="other prose mixed into half of every batch (.txt, .txt.xz, or English<TAB>French .tsv "
                        "whose English side is used); default: Anna Karenina and the Tatoeba English "
                        "sentences; 'none' for none")
    g.add_argument("--no-source-tokens", action="store_true",
                   help="do not open each window with a token naming its corpus (generation is conditioned "
                        "on the training text's token, so the other prose does not lend its voice)")
    g.add_argument("--tune", choices=("all", "sources"), default="all",
                   help="with --init: train every weight, or only the source tokens' embedding rows (the rest "
                        "stays exactly as in the checkpoint; weight decay off)")
    add_config_flags(g, HEMINGWAY.config, GPT_FLAGS)
    add_config_flags(g, HEMINGWAY.data, GPT_DATA_FLAGS)
    add_loop_flags(g, HEMINGWAY)
    g.add_argument("--init", help="start from the weights of this checkpoint (fine-tuning or training on)")
    r = train.add_parser("lstm", help="the Anna Karenina LSTM (or GRU)")
    r.set_defaults(func=cmd_train)
    r.add_argument("--data", help="training text (.txt or .txt.xz); default: the shipped Anna Karenina corpus")
    r.add_argument("--valid", help="validation text; default: the shipped Anna Karenina valid split")
    add_config_flags(r, ANNA.config, LSTM_FLAGS)
    add_config_flags(r, ANNA.data, LSTM_DATA_FLAGS)
    add_loop_flags(r, ANNA)
    r.add_argument("--init", help="start from the weights of this checkpoint (fine-tuning or training on)")

    g = evaluate.add_parser("gpt", help="bits per character of the GPT over a whole text file")
    g.add_argument("--stride", type=int, help="tokens scored per window after the first (default: half the context)")
    r = evaluate.add_parser("lstm", help="bits per character of the LSTM over a whole text file")
    for q, recipe, what in ((g, HEMINGWAY, "Hemingway"), (r, ANNA, "Anna Karenina")):
        q.set_defaults(func=cmd_eval, recipe=recipe)
        q.add_argument("--text", help=f"text file (.txt or .txt.xz); default: the shipped {what} valid split")
        q.add_argument("--checkpoint", default=recipe.model, help="model name or .safetensors path")
        q.add_argument("--copy-rate", action="store_true",
                       help="also report the share of 50-character spans of 20 samples (500 characters, "
                            "temperature 0.8) found verbatim in the training text")
        q.add_argument("--train-text", help="training text for --copy-rate (default: the shipped train split)")
        q.add_argument("--voice", action="store_true",
                       help="also report the share of samples (empty and short neutral prompts, the default "
                            f"sampler) that a style judge trained on the three corpora reads as {what}")
        q.add_argument("--voice-samples", type=int, default=40, help="samples drawn for --voice (default: 40)")
        q.add_argument("--json", action="store_true", help="print a JSON object")
        q.add_argument("--device")

    g = bench.add_parser("gpt", help="decode tokens/s at batch 1, with and without the KV cache")
    g.add_argument("--checkpoint", default=HEMINGWAY.model)
    g.add_argument("--tokens", type=int, nargs="+", default=[200], help="tokens generated per run")
    g.add_argument("--against", choices=["transformers"],
                   help="compare sampling speed with Hugging Face generate() at the same shape, on 1 and 2 threads "
                        "(needs transformers, a dev dependency)")
    g.add_argument("--under-load", action="store_true",
                   help="sampling speed with the machine as it is and with a process spinning on every core, on the "
                        "default thread count and on two")
    r = bench.add_parser("lstm", help="stateful streaming against re-feeding the window, tokens/s at batch 1")
    r.add_argument("--checkpoint", default=ANNA.model)
    r.add_argument("--tokens", type=int, nargs="+", default=[200], help="tokens generated per run")
    for q in (g, r):
        q.add_argument("--json", action="store_true", help="print a JSON object")
        q.add_argument("--device")
        q.set_defaults(func=cmd_bench)
    g.set_defaults(func=cmd_bench_gpt)


def cmd_train(args) -> int:
    from dataclasses import replace
    from pathlib import Path

    from core.checkpoints import load_checkpoint, load_weights
    from core.tokenizer import Tokenizer
    from core.train.loop import resume_tokenizer, train

    dev, cfg = loop_config(args)
    out, run_dir = run_paths(args)
    recipe = args.recipe
    init = load_checkpoint(args.init, args.model) if args.init else None
    saved = None if args.fresh else resume_tokenizer(out, run_dir)
    tokenizer = Tokenizer(saved) if saved else Tokenizer(init.tokenizer) if init else None
    if init:
        notice(f"starting from {args.init}: its tokenizer and shape, the flags' dropout")
    flags, data_flags = (GPT_FLAGS, GPT_DATA_FLAGS) if args.model == "gpt" else (LSTM_FLAGS, LSTM_DATA_FLAGS)
    data = from_flags(recipe.data, args, data_flags)
    data = replace(data, train=args.data or data.train, valid=args.valid or data.valid)
    config = from_flags(recipe.config, args, flags)
    if init:
        config = replace(config, **{k: v for k, v in init.config.items() if k != "dropout"})
    if args.model == "gpt":
        from core.train.gpt import GPTTask, widen_vocabulary

        if args.pretrain:
            data = replace(data, pretrain=[] if args.pretrain == ["none"] else args.pretrain)
        task = GPTTask(config, replace(data, source_tokens=not args.no_source_tokens), cfg, dev.device, tokenizer)
        if init:
            init.tensors = widen_vocabulary(init.tensors, task.config)
        if args.tune == "sources":
            if not init or not task.config.sources:
                raise ValueError("--tune sources trains only the source tokens of a checkpoint: it needs --init "
                                 "and source tokens")
            task.tune_sources_only()
            cfg = replace(cfg, weight_decay=0.0)  # decay would shrink the frozen rows of the shared embedding
    else:
        from core.train.lstm import LSTMTask

        task = LSTMTask(config, data, cfg, dev.device, tokenizer)
    if init:
        load_weights(task.model, init.tensors, args.init)
    notice(f"model: {task.model.num_params() / 1e6:.2f}M parameters; writing {out} (run folder {run_dir})")
    summary = {"init": Path(args.init).name} if init else None
    train(task, cfg, out, dev.device, resume=not args.fresh, summary=summary, run_dir=run_dir)
    return 0


def cmd_generate(args) -> int:
    import threading

    from core.text.generate import GenerationStats
    from core.text.lm import load_language_model

    prompt, notes = read_input(args.prompt)
    settings = SamplerSettings(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                               min_p=args.min_p, repetition_penalty=args.repetition_penalty,
                               max_new_tokens=args.max_new_tokens, seed=args.seed).validate()
    out = TextOut(args.raw)
    lm = load_language_model(args.model, args.device)
    stats, cancel = GenerationStats(), threading.Event()
    steps = lm.stream(prompt, settings, cancel, stats)
    try:
        first = next(steps, None)  # prompt notes are known once generation starts
        for note in notes + out.notes + stats.notes:
            say(f"note: {note}", file=sys.stderr)
        if not args.no_prompt:
            out.write(prompt)
        if first is not None:
            out.write(first.text)
        for step in steps:
            out.write(step.text)
    except KeyboardInterrupt:
        cancel.set()
        stats.cancelled = True
    out.write("\n")
    out.close()
    state = "stopped" if stats.cancelled else "done"
    say(f"[{lm.name} · seed {stats.seed} · {stats.tokens} tokens · {stats.tokens_per_second:.1f} tok/s · {state}]",
        file=sys.stderr)
    return 130 if stats.cancelled else 0


def cmd_models(args) -> int:
    from dataclasses import asdict

    from core.text.choices import list_text_models

    choices = list_text_models(args.gpt2, args.runs)
    if args.json:
        print_result({"models": [asdict(c) for c in choices]}, True)
        return 0
    for c in choices:
        say(f"{c.name:<24} {c.source:<8} {c.kind:<5} " + (f"cannot load: {c.problem}" if c.problem else c.detail))
        if not c.problem:
            say(f"{'':<24} --model {c.spec}")
    return 0


def cmd_eval(args) -> int:
    from core.checkpoints import CheckpointError
    from core.corpus import read_text
    from core.text.evaluate import bits_per_char
    from core.text.lm import load_language_model

    data = args.recipe.data
    lm = load_language_model(args.checkpoint, args.device, decoding=False)
    if lm.kind != args.model:
        raise CheckpointError(f"{lm.path} holds a '{lm.kind}' model, not a '{args.model}' model")
    result = bits_per_char(lm, read_text(args.text or data.valid), stride=getattr(args, "stride", None))
    if args.copy_rate:
        from core.text.evaluate import copy_rate, lm_samples

        result["copy_rate"] = copy_rate(lm_samples(lm), read_text(args.train_text or data.train))
    if args.voice:
        from core.text.voice import voice_share

        if args.voice_samples < 1:
            raise ValueError(f"--voice-samples must be at least 1, not {args.voice_samples}")
        result.update(voice_share(lm, args.recipe.model, samples=args.voice_samples))
    print_result(result, args.json)
    return 0


def cmd_bench(args) -> int:
    import torch

    from core.bench import decode_speed
    from core.text.lm import load_language_model

    lm = load_language_model(args.checkpoint, args.device)
    with bench_progress(2 * len(args.tokens)) as advance:
        runs = [decode_speed(lm, n, progress=advance) for n in args.tokens]
    result = {"model": lm.name, "device": str(lm.device), "threads": torch.get_num_threads(),
              "params": lm.num_params(), "runs": runs}
    print_result(result, args.json)
    return 0


def cmd_bench_gpt(args) -> int:
    return bench_sampling(args) if args.against or args.under_load else cmd_bench(args)


def bench_sampling(args) -> int:
    """`bench gpt --against transformers` or `--under-load`, with progress on stderr. Without transformers
    the comparison is skipped, with a message."""
    import torch

    from core.bench_sampling import against_transformers, transformers_twins, under_load
    from core.checkpoints import CheckpointError
    from core.text.lm import load_language_model

    default_threads = torch.get_num_threads()  # the command's own choice (core.threads.choose_threads)
    lm = load_language_model(args.checkpoint, args.device)
    if lm.kind != "gpt":
        raise CheckpointError(f"{lm.path} holds a '{lm.kind}' model: this benchmark is for the GPT")
    if args.against:
        try:
            twins = transformers_twins(lm)
        except ImportError:
            reason = ("transformers is not installed (pip install transformers, or the dev extras: "
                      "pip install -e '.[dev]')")
            say(f"skipped: {reason}", file=sys.stderr)
            if args.json:
                print_result({"skipped": reason}, True)
            return 0
        rounds, threads = 5, (1, 2)
        runs = len(threads) * (rounds + 1) * (len(twins) + 1)
    else:
        rounds, threads = 3, tuple(dict.fromkeys((default_threads, 2)))
        runs = len(threads) * (1 + 2 * rounds)
    with bench_progress(runs) as advance:
        if args.against:
            result = against_transformers(lm, twins, threads, rounds, args.tokens[0], progress=advance)
        else:
            result = under_load(lm, threads, rounds, args.tokens[0], progress=advance)
    print_result(result, args.json)
    return 0
