"""A tiny English→French translator trained in seconds on template sentences, never a shipped checkpoint.

Trained once per test session through the real TranslatorTask and training
loop, so its translations end with </s> like a real model's rather than
running to the length limit as a random one would.
"""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest
import torch
from rich.console import Console

from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.models.translator import TranslatorConfig
from core.train.loop import TrainConfig, train
from core.train.translator import TranslatorData, TranslatorTask
from core.translate import EnFrTranslator


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread; on a busy machine more threads only wait for each other.
    Import it into a test module to apply it there."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SUBJECTS = [("I", "Je", 0), ("We", "Nous", 1), ("They", "Ils", 2), ("You", "Vous", 3)]
VERBS = [("see", ["vois", "voyons", "voient", "voyez"]), ("want", ["veux", "voulons", "veulent", "voulez"]),
         ("take", ["prends", "prenons", "prennent", "prenez"]), ("find", ["trouve", "trouvons", "trouvent", "trouvez"])]
NOUNS = [("cat", "chat", "le"), ("dog", "chien", "le"), ("book", "livre", "le"), ("house", "maison", "la"),
         ("car", "voiture", "la"), ("apple", "pomme", "la")]


def template_pairs() -> list[tuple[str, str]]:
    pairs = []
    for en_s, fr_s, person in SUBJECTS:
        for en_v, fr_v in VERBS:
            for en_n, fr_n, article in NOUNS:
                small = "petit" if article == "le" else "petite"
                pairs.append((f"{en_s} {en_v} the {en_n}.", f"{fr_s} {fr_v[person]} {article} {fr_n}."))
                pairs.append((f"{en_s} {en_v} the small {en_n}.", f"{fr_s} {fr_v[person]} {article} {small} {fr_n}."))
    return pairs


def write_pairs(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{en}\t{fr}\n" for en, fr in pairs), encoding="utf-8")
    return path


TINY = dict(d_model=32, n_head=2, n_encoder_layer=1, n_decoder_layer=1, d_ff=64, dropout=0.0, max_len=48)


@functools.lru_cache(maxsize=1)
def tiny_translator() -> EnFrTranslator:
    pairs = template_pairs()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = TranslatorData(train=str(write_pairs(tmp / "train.tsv", pairs)),
                              valid=str(write_pairs(tmp / "valid.tsv", pairs[::16])), vocab_size=320,
                              tokens_per_batch=400, eval_sentences=8)
        cfg = TrainConfig(max_steps=200, lr=1e-2, min_lr=1e-3, warmup_steps=10, eval_every=200, bf16=False)
        torch.manual_seed(0)
        task = TranslatorTask(TranslatorConfig(**TINY), data, cfg, torch.device("cpu"))
        train(task, cfg, tmp / "tiny.safetensors", torch.device("cpu"), console=Console(quiet=True))
    task.model.eval()
    return EnFrTranslator(task.model, task.tokenizer, torch.device("cpu"))


def save_tiny(path: Path) -> Path:
    """Write the tiny translator as a full-precision checkpoint at `path`."""
    t = tiny_translator()
    return save_checkpoint(path, Checkpoint("translator", t.model.config.to_dict(), state_tensors(t.model),
                                            tokenizer=t.tokenizer.model_bytes, training={"best_valid": -1.0}),
                           dtype=None)
