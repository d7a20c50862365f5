"""`inkhorn` subcommands of the English→French translator: translate, and train / eval / bench translator."""
from __future__ import annotations

import sys
import time

from core.cli_common import add_loop_flags, loop_config, notice, print_result


def register(sub, train, evaluate, bench) -> None:
    """Add this family's commands to the top-level parser and to train / eval / bench."""
    p = sub.add_parser("translate", help="translate English to French")
    p.set_defaults(func=cmd_translate)
    p.add_argument("text", nargs="?", help="the sentence; '-' or nothing reads one sentence per line from stdin")
    p.add_argument("--beam", type=int, default=4, help="beam width; 1 is greedy decoding")
    p.add_argument("--length-penalty", type=float, default=0.6, help="GNMT alpha; higher favours longer output")
    p.add_argument("--attention", metavar="PNG", help="write the cross-attention heatmap of the first sentence")
    p.add_argument("--checkpoint", help="a translator .safetensors (default: en-fr.safetensors in the checkpoints "
                   "folder)")
    p.add_argument("--batch-size", type=int, default=64, help="sentences translated together")
    p.add_argument("--device", help="cuda, mps or cpu (default: the best available)")
    t = train.add_parser("translator", help="the English→French Transformer",
                         epilog="Batches hold about --tokens-per-batch tokens a side and at most --batch-size "
                                "sentences.")
    t.set_defaults(func=cmd_train)
    t.add_argument("--data", help="English<TAB>French pairs (.tsv or .tsv.xz); default: the shipped Tatoeba train")
    t.add_argument("--valid", help="validation pairs; default: the shipped Tatoeba valid split")
    t.add_argument("--out", default="checkpoints/en-fr.safetensors", help="checkpoint to write (best on valid)")
    t.add_argument("--vocab-size", type=int, default=4000, help="joint English+French SentencePiece vocabulary")
    t.add_argument("--d-model", type=int, default=192)
    t.add_argument("--n-head", type=int, default=4)
    t.add_argument("--encoder-layers", type=int, default=3)
    t.add_argument("--decoder-layers", type=int, default=2)
    t.add_argument("--d-ff", type=int, default=512)
    t.add_argument("--dropout", type=float, default=0.1)
    t.add_argument("--max-len", type=int, default=128, help="tokens per sentence; longer pairs are skipped")
    t.add_argument("--label-smoothing", type=float, default=0.1)
    t.add_argument("--tokens-per-batch", type=int, default=8192, help="padded tokens per side of a batch")
    t.add_argument("--eval-sentences", type=int, default=1000,
                   help="distinct valid sentences translated (greedy) for the BLEU that picks the best checkpoint")
    t.add_argument("--unpunctuated", type=float, default=0.0,
                   help="share of pairs also trained without the English final punctuation")
    t.add_argument("--lowercased", type=float, default=0.0,
                   help="share of pairs also trained with a small first English letter")
    t.add_argument("--init", help="start from the weights of this translator checkpoint (its tokenizer and shape)")
    add_loop_flags(t, steps=12000, lr=1e-3, batch=1024)
    t.set_defaults(warmup=400, eval_every=1000)
    e = evaluate.add_parser("translator", help="sacreBLEU and chrF, every reference of a sentence counted")
    e.set_defaults(func=cmd_eval)
    e.add_argument("--pairs", help="English<TAB>French file (.tsv or .tsv.xz); default: the shipped valid split")
    e.add_argument("--checkpoint", help="a translator .safetensors (default: en-fr.safetensors)")
    e.add_argument("--beam", type=int, default=4, help="beam width; 1 is greedy decoding")
    e.add_argument("--limit", type=int, help="score only the first N distinct English sentences")
    e.add_argument("--length-penalty", type=float, help="GNMT alpha of the beam search (default: as translate)")
    e.add_argument("--batch-size", type=int, default=64)
    e.add_argument("--json", action="store_true", help="print a JSON object")
    e.add_argument("--device")
    b = bench.add_parser("translator", help="sentences/s, batched beam 4 and greedy against one sentence at a time")
    b.set_defaults(func=cmd_bench)
    b.add_argument("--checkpoint", help="a translator .safetensors (default: en-fr.safetensors)")
    b.add_argument("--sentences", type=int, default=64, help="distinct sentences of the shipped valid split")
    b.add_argument("--json", action="store_true", help="print a JSON object")
    b.add_argument("--device")


def cmd_translate(args) -> int:
    from core.translate import load_translator

    translator = load_translator(args.checkpoint, args.device)
    if args.text in (None, "-"):
        if sys.stdin is None or sys.stdin.isatty():
            raise ValueError('nothing to translate: give a sentence (inkhorn translate "How are you?") '
                             "or pipe lines on stdin")
        lines = sys.stdin.read().splitlines()
        if not lines:
            raise ValueError("nothing to translate: stdin was empty")
    else:
        lines = [args.text]
    results = translator.translate(lines, beam=args.beam, length_penalty=args.length_penalty,
                                   batch_size=args.batch_size)
    for i, r in enumerate(results, 1):
        for note in r.notes:
            print(f"note: line {i}: {note}" if len(lines) > 1 else f"note: {note}", file=sys.stderr)
        print(r.text, flush=len(lines) == 1)
    if args.attention:
        from core.attention_plot import save_attention_png

        first = next((r for r in results if r.target_tokens), None)
        if first is None:
            raise ValueError("no attention to draw: every line was empty")
        print(f"attention: {save_attention_png(first, args.attention)}", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from pathlib import Path

    from core.models.translator import TranslatorConfig
    from core.train.loop import train
    from core.train.translator import TranslatorData, TranslatorTask

    from core.checkpoints import load_checkpoint, load_weights
    from core.tokenizer import Tokenizer

    dev, cfg = loop_config(args)
    init = load_checkpoint(args.init, "translator") if args.init else None
    data = TranslatorData(vocab_size=args.vocab_size, tokens_per_batch=args.tokens_per_batch,
                          max_sentences=args.batch_size, label_smoothing=args.label_smoothing,
                          eval_sentences=args.eval_sentences, unpunctuated=args.unpunctuated,
                          lowercased=args.lowercased)
    if args.data:
        data.train = args.data
    if args.valid:
        data.valid = args.valid
    config = TranslatorConfig(d_model=args.d_model, n_head=args.n_head, n_encoder_layer=args.encoder_layers,
                              n_decoder_layer=args.decoder_layers, d_ff=args.d_ff, dropout=args.dropout,
                              max_len=args.max_len)
    if init:
        notice(f"starting from {args.init}: its tokenizer and shape, the flags' dropout")
        config = TranslatorConfig(**{**init.config, "dropout": args.dropout})
    task = TranslatorTask(config, data, cfg, dev.device, Tokenizer(init.tokenizer) if init else None)
    if init:
        load_weights(task.model, init.tensors, args.init)
    notice(f"model: {task.model.num_params() / 1e6:.2f}M parameters; {len(task.train_batches)} batches an epoch"
           + (f" ({task.variant_pairs} pairs as people type them)" if task.variant_pairs else "")
           + (f"; {task.skipped} pairs longer than {config.max_len} tokens skipped" if task.skipped else ""))
    train(task, cfg, Path(args.out), dev.device, resume=not args.fresh,
          summary={"init": Path(args.init).name} if init else None)
    return 0


def cmd_eval(args) -> int:
    from core.corpus import asset
    from core.evaluate_translation import evaluate_translator, read_pairs
    from core.translate import load_translator

    pairs = read_pairs(args.pairs or asset("en-fr", "valid.tsv.xz"))
    translator = load_translator(args.checkpoint, args.device)
    start = time.perf_counter()
    result = evaluate_translator(translator, pairs, beam=args.beam, limit=args.limit, batch_size=args.batch_size,
                                 length_penalty=args.length_penalty)
    result["seconds"] = round(time.perf_counter() - start, 2)
    print_result(result, args.json)
    return 0


def translation_speed(translator, sentences: list[str]) -> dict:
    """Sentences/s for beam 4 and greedy, the whole list as batches against one sentence at a time."""
    import torch

    def seconds(fn, beam: int) -> float:
        fn(beam)  # warm-up: allocator, kernels
        if translator.device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn(beam)
        if translator.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start

    def batched(beam: int) -> None:
        translator.translate(sentences, beam=beam)

    def one_by_one(beam: int) -> None:
        for s in sentences:
            translator.translate([s], beam=beam)

    result = {}
    for name, beam in (("beam4", 4), ("greedy", 1)):
        together, single = seconds(batched, beam), seconds(one_by_one, beam)
        result[f"batched_{name}_sentences_per_s"] = round(len(sentences) / together, 1)
        result[f"one_by_one_{name}_sentences_per_s"] = round(len(sentences) / single, 1)
        result[f"batching_speedup_{name}"] = round(single / together, 2)
    return result


def cmd_bench(args) -> int:
    import torch

    from core.corpus import asset
    from core.evaluate_translation import group_references, read_pairs
    from core.translate import load_translator

    translator = load_translator(args.checkpoint, args.device)
    sources = group_references(read_pairs(asset("en-fr", "valid.tsv.xz")))[0][:args.sentences]
    result = {"model": translator.path.name, "device": str(translator.device), "threads": torch.get_num_threads(),
              "params": translator.num_params(), "sentences": len(sources), **translation_speed(translator, sources)}
    print_result(result, args.json)
    return 0
