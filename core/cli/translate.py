"""`inkhorn` subcommands of the English→French translator: translate, and train / eval / bench translator."""
from __future__ import annotations

import sys
import time

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
from core.limits import MAX_BATCH, MAX_BEAM
from core.train.recipes import EN_FR
from core.translate.search import LENGTH_PENALTY
from core.translate.translator import LENGTH_PENALTY_RANGE

TRANSLATOR_FLAGS = {
    "--d-model": ("d_model", "width"),
    "--n-head": ("n_head", "attention heads"),
    "--encoder-layers": ("n_encoder_layer", "encoder layers"),
    "--decoder-layers": ("n_decoder_layer", "decoder layers"),
    "--d-ff": ("d_ff", "feed-forward width"),
    "--dropout": ("dropout", "dropout"),
    "--max-len": ("max_len", "tokens per sentence; longer pairs are skipped"),
}
DATA_FLAGS = {
    "--vocab-size": ("vocab_size", "joint English+French SentencePiece vocabulary"),
    "--label-smoothing": ("label_smoothing", "label smoothing of the loss"),
    "--tokens-per-batch": ("tokens_per_batch", "padded tokens per side of a batch"),
    "--batch-size": ("max_sentences", "most sentences a batch"),
    "--eval-sentences": ("eval_sentences", "distinct valid sentences translated (greedy) for the BLEU that picks "
                         "the best checkpoint"),
    "--unpunctuated": ("unpunctuated", "share of pairs also trained without the English final punctuation"),
    "--lowercased": ("lowercased", "share of pairs also trained with a small first English letter"),
    "--sentence-pairs": ("sentence_pairs", "share of pairs of several sentences also trained sentence by "
                         "sentence, where both sides split alike"),
}


def register(sub, train, evaluate, bench) -> None:
    """Add this family's commands to the top-level parser and to train / eval / bench."""
    p = sub.add_parser("translate", help="translate English to French")
    p.set_defaults(func=cmd_translate)
    p.add_argument("text", nargs="?", help="what to translate: a sentence, a paragraph, several lines; '-' or "
                   "nothing reads stdin, each line on its own")
    p.add_argument("--beam", type=int, default=4, help=f"beam width, 1 to {MAX_BEAM}; 1 is greedy decoding")
    p.add_argument("--length-penalty", type=float, default=LENGTH_PENALTY,
                   help=f"GNMT alpha, {LENGTH_PENALTY_RANGE[0]:g} to {LENGTH_PENALTY_RANGE[1]:g}; higher favours "
                        "longer output (default: %(default)s)")
    p.add_argument("--attention", metavar="PNG", help="write the cross-attention heatmap of the first sentence")
    p.add_argument("--force", action="store_true", help="let --attention replace a file already there")
    add_raw_flag(p)
    p.add_argument("--no-language-check", action="store_true",
                   help="do not warn about input that looks like another language than English")
    p.add_argument("--checkpoint", help="a translator .safetensors (default: the shipped en-fr translator)")
    p.add_argument("--batch-size", type=int, default=64, help=f"sentences translated together, 1 to {MAX_BATCH}")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    t = train.add_parser("translator", help="the English→French Transformer",
                         epilog="Batches hold about --tokens-per-batch tokens a side and at most --batch-size "
                                "sentences.")
    t.set_defaults(func=cmd_train)
    t.add_argument("--data", help="English<TAB>French pairs (.tsv or .tsv.xz); default: the shipped Tatoeba train")
    t.add_argument("--valid", help="validation pairs; default: the shipped Tatoeba valid split")
    add_config_flags(t, EN_FR.config, TRANSLATOR_FLAGS)
    add_config_flags(t, EN_FR.data, DATA_FLAGS)
    t.add_argument("--init", help="start from the weights of this translator checkpoint (its tokenizer and shape)")
    add_loop_flags(t, EN_FR)
    e = evaluate.add_parser("translator", help="sacreBLEU and chrF, every reference of a sentence counted")
    e.set_defaults(func=cmd_eval)
    e.add_argument("--pairs", help="English<TAB>French file (.tsv or .tsv.xz); default: the shipped valid split")
    e.add_argument("--checkpoint", help="a translator .safetensors (default: the shipped en-fr translator)")
    e.add_argument("--beam", type=int, default=4, help="beam width; 1 is greedy decoding")
    e.add_argument("--limit", type=int, help="score only the first N distinct English sentences")
    e.add_argument("--length-penalty", type=float, default=LENGTH_PENALTY,
                   help="GNMT alpha of the beam search (default: %(default)s)")
    e.add_argument("--batch-size", type=int, default=64)
    e.add_argument("--robust", action="store_true",
                   help="BLEU as written, without final punctuation, and in paragraphs of three beside one by one")
    e.add_argument("--json", action="store_true", help="print a JSON object")
    e.add_argument("--device")
    b = bench.add_parser("translator", help="sentences/s, batched beam 4 and greedy against one sentence at a time")
    b.set_defaults(func=cmd_bench)
    b.add_argument("--checkpoint", help="a translator .safetensors (default: the shipped en-fr translator)")
    b.add_argument("--sentences", type=int, default=64, help="distinct sentences of the shipped valid split")
    b.add_argument("--json", action="store_true", help="print a JSON object")
    b.add_argument("--device")


def cmd_translate(args) -> int:
    from core.translate.translator import check_decoding, load_translator

    check_decoding(args.beam, args.length_penalty, args.batch_size)
    text, notes = read_input(args.text)
    if args.text in (None, "-") and (sys.stdin is None or sys.stdin.isatty()):
        raise ValueError('nothing to translate: give a sentence (inkhorn translate "How are you?") '
                         "or pipe lines on stdin")
    lines = text.splitlines() if args.text in (None, "-") else [text]
    if not lines:
        raise ValueError("nothing to translate: stdin was empty")
    out = TextOut(args.raw)
    translator = load_translator(args.checkpoint, args.device)
    results = translator.translate(lines, beam=args.beam, length_penalty=args.length_penalty,
                                   batch_size=args.batch_size)
    if not args.no_language_check:
        from core.translate.language import language_warning

        for r in results:
            if warning := language_warning(r.source):
                r.notes.append(f"{warning}; translated anyway (--no-language-check leaves this out)")
    for note in notes + out.notes:
        say(f"note: {note}", file=sys.stderr)
    for i, r in enumerate(results, 1):
        for note in r.notes:
            say(f"note: line {i}: {note}" if len(lines) > 1 else f"note: {note}", file=sys.stderr)
        out.write(r.text + "\n")
    out.close()
    if args.attention:
        from core.translate.attention_plot import save_attention_png

        first = next((s for r in results for s in r.sentences if s.target_tokens), None)
        if first is None:
            raise ValueError("no attention to draw: every line was empty")
        say(f"attention: {save_attention_png(first, args.attention, args.force)}", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from dataclasses import replace
    from pathlib import Path

    from core.checkpoints import load_checkpoint, load_weights
    from core.tokenizer import Tokenizer
    from core.train.loop import train
    from core.train.translator import TranslatorTask

    dev, cfg = loop_config(args)
    out, run_dir = run_paths(args)
    init = load_checkpoint(args.init, "translator") if args.init else None
    data = from_flags(EN_FR.data, args, DATA_FLAGS)
    data = replace(data, train=args.data or data.train, valid=args.valid or data.valid)
    config = from_flags(EN_FR.config, args, TRANSLATOR_FLAGS)
    if init:
        notice(f"starting from {args.init}: its tokenizer and shape, the flags' dropout")
        config = replace(config, **{k: v for k, v in init.config.items() if k != "dropout"})
    task = TranslatorTask(config, data, cfg, dev.device, Tokenizer(init.tokenizer) if init else None)
    if init:
        load_weights(task.model, init.tensors, args.init)
    notice(f"model: {task.model.num_params() / 1e6:.2f}M parameters; {len(task.train_batches)} batches an epoch"
           + (f" ({task.variant_pairs} pairs as people type them)" if task.variant_pairs else "")
           + (f" ({task.sentence_pairs} single sentences of longer pairs)" if task.sentence_pairs else "")
           + (f"; {task.skipped} pairs longer than {config.max_len} tokens skipped" if task.skipped else "")
           + f"; writing {out} (run folder {run_dir})")
    train(task, cfg, out, dev.device, resume=not args.fresh, run_dir=run_dir,
          summary={"init": Path(args.init).name} if init else None)
    return 0


def cmd_eval(args) -> int:
    from core.translate.evaluate import evaluate_robust, evaluate_translator, read_pairs
    from core.translate.translator import load_translator

    pairs = read_pairs(args.pairs or EN_FR.data.valid)
    translator = load_translator(args.checkpoint, args.device)
    start = time.perf_counter()
    evaluate = evaluate_robust if args.robust else evaluate_translator
    result = evaluate(translator, pairs, beam=args.beam, limit=args.limit, batch_size=args.batch_size,
                      length_penalty=args.length_penalty)
    result["seconds"] = round(time.perf_counter() - start, 2)
    print_result(result, args.json)
    return 0


def cmd_bench(args) -> int:
    import torch

    from core.bench import translation_speed
    from core.translate.evaluate import group_references, read_pairs
    from core.translate.translator import load_translator

    translator = load_translator(args.checkpoint, args.device)
    sources = group_references(read_pairs(EN_FR.data.valid))[0][:args.sentences]
    with bench_progress(2) as advance:
        speeds = translation_speed(translator, sources, progress=advance)
    result = {"model": translator.path.name, "device": str(translator.device), "threads": torch.get_num_threads(),
              "params": translator.num_params(), "sentences": len(sources), **speeds}
    print_result(result, args.json)
    return 0
