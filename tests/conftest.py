"""Shared fixtures: tiny models, data and checkpoints built in seconds, never the shipped ones.

Text: a tiny tokenizer, GPT and LSTM, and a checkpoints folder set as $INKHORN_CHECKPOINTS.
Translation: a tiny English→French translator trained once per session on template sentences
through the real TranslatorTask and loop, so its translations end with </s> like a real model's.
Pictures: cartoon faces in zip/csv data folders, and tiny VAE and GAN checkpoints.
GPT-2: a tiny random Hugging Face GPT-2 folder (byte-level BPE and weights), built without a download.
"""
from __future__ import annotations

import csv
import io
import os
import resource
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings
from rich.console import Console

from core.art.arithmetic import GROUPS
from core.art.artists import pack_gan, pack_vae
from core.catalog import by_kind
from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.models.dcgan import DCGANConfig, Generator
from core.models.gpt import GPT, GPTConfig
from core.models.lstm import LSTMConfig, RecurrentLM
from core.models.translator import TranslatorConfig
from core.models.vae import VAE, VAEConfig
from core.tokenizer import Tokenizer
from core.train.loop import TrainConfig, train
from core.train.translator import TranslatorData, TranslatorTask
from core.translate.translator import EnFrTranslator


# Property-based tests run 150 examples each by default, to keep the suite fast on two cores;
# `--hypothesis-profile=fuzz` runs 2,000 each (README: Tests).
_FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("inkhorn", max_examples=150, **_FUZZ)
settings.register_profile("fuzz", max_examples=2000, **_FUZZ)
settings.load_profile("inkhorn")


class Memory:
    """Resident memory for the soak tests (tests/core/text/test_soak.py, tests/tui/test_soak.py)."""
    GROWTH_BAR = 0.10  # a soak fails when memory grew by this much after its warm-up

    def __init__(self, capsys):
        self.capsys = capsys

    @staticmethod
    def now() -> float:
        """MB resident now (Linux /proc; elsewhere the peak so far)."""
        try:
            pages = int(Path("/proc/self/statm").read_text().split()[1])
            return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError):
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def growth(self, what: str, warm: float, warm_at: int, total: int) -> float:
        """Print and return the growth from `warm` (taken after `warm_at` generations) to now."""
        end = self.now()
        growth = (end - warm) / warm
        with self.capsys.disabled():
            print(f"\nsoak {what}: RSS {warm:.1f} MB after {warm_at} generations, {end:.1f} MB after {total}: "
                  f"{growth:+.1%}")
        return growth


@pytest.fixture
def memory(capsys) -> Memory:
    return Memory(capsys)


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Tiny models run fastest on one thread; on a busy machine more threads only wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ----- text ---------------------------------------------------------------------------------------
TINY_TEXT = (
    "The sun also rises. The old man and the sea.\n\n"
    "“Have a drink,” said Bill. “It is good wine.”\n\n"
    "We walked down the road in the rain and it was cold and the river ran fast.\n\n"
) * 20


@pytest.fixture(scope="session")
def tiny_text() -> str:
    """A few Hemingway-like paragraphs, repeated: what the tiny tokenizer is trained on."""
    return TINY_TEXT


@pytest.fixture(scope="session")
def tiny_tokenizer() -> Tokenizer:
    return Tokenizer.train([TINY_TEXT], vocab_size=300)


@pytest.fixture(scope="session")
def tiny_gpt(tiny_tokenizer) -> GPT:
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=tiny_tokenizer.vocab_size, block_size=32, n_layer=2, n_head=2, n_embd=32,
                       dropout=0.0)
    return GPT(config).eval()


@pytest.fixture(scope="session")
def tiny_lstm(tiny_tokenizer) -> RecurrentLM:
    torch.manual_seed(0)
    config = LSTMConfig(vocab_size=tiny_tokenizer.vocab_size, n_embd=24, n_hidden=32, n_layer=2, dropout=0.0,
                        bptt=16)
    return RecurrentLM(config).eval()


@pytest.fixture()
def checkpoint_dir(tmp_path, monkeypatch, tiny_gpt, tiny_tokenizer):
    """A checkpoints folder holding a tiny 'hemingway' GPT, set as $INKHORN_CHECKPOINTS."""
    folder = tmp_path / "checkpoints"
    save_checkpoint(folder / "hemingway.safetensors",
                    Checkpoint("gpt", tiny_gpt.config.to_dict(), state_tensors(tiny_gpt),
                               tokenizer=tiny_tokenizer.model_bytes, training={"best_valid": 9.9}),
                    dtype=None)
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(folder))
    monkeypatch.setenv("INKHORN_DEVICE", "cpu")
    monkeypatch.setenv("INKHORN_RUNS", str(tmp_path / "runs"))
    return folder


@pytest.fixture()
def anna_checkpoint(checkpoint_dir, tiny_lstm, tiny_tokenizer):
    """Adds a tiny 'anna' LSTM to the checkpoint folder."""
    save_checkpoint(checkpoint_dir / "anna.safetensors",
                    Checkpoint("lstm", tiny_lstm.config.to_dict(), state_tensors(tiny_lstm),
                               tokenizer=tiny_tokenizer.model_bytes, training={"best_valid": 9.9}),
                    dtype=None)
    return checkpoint_dir


# ----- translation --------------------------------------------------------------------------------
SUBJECTS = [("I", "Je", 0), ("We", "Nous", 1), ("They", "Ils", 2), ("You", "Vous", 3)]
VERBS = [("see", ["vois", "voyons", "voient", "voyez"]), ("want", ["veux", "voulons", "veulent", "voulez"]),
         ("take", ["prends", "prenons", "prennent", "prenez"]), ("find", ["trouve", "trouvons", "trouvent", "trouvez"])]
NOUNS = [("cat", "chat", "le"), ("dog", "chien", "le"), ("book", "livre", "le"), ("house", "maison", "la"),
         ("car", "voiture", "la"), ("apple", "pomme", "la")]


def _template_pairs() -> list[tuple[str, str]]:
    pairs = []
    for en_s, fr_s, person in SUBJECTS:
        for en_v, fr_v in VERBS:
            for en_n, fr_n, article in NOUNS:
                small = "petit" if article == "le" else "petite"
                pairs.append((f"{en_s} {en_v} the {en_n}.", f"{fr_s} {fr_v[person]} {article} {fr_n}."))
                pairs.append((f"{en_s} {en_v} the small {en_n}.", f"{fr_s} {fr_v[person]} {article} {small} {fr_n}."))
    return pairs


def _write_pairs(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{en}\t{fr}\n" for en, fr in pairs), encoding="utf-8")
    return path


TINY = dict(vocab_size=1, d_model=32, n_head=2, n_encoder_layer=1, n_decoder_layer=1, d_ff=64, dropout=0.0,
            max_len=48)  # the tokenizer sets the vocabulary


def _train_tiny_translator() -> EnFrTranslator:
    pairs = _template_pairs()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = TranslatorData(train=str(_write_pairs(tmp / "train.tsv", pairs)),
                              valid=str(_write_pairs(tmp / "valid.tsv", pairs[::16])), vocab_size=320,
                              tokens_per_batch=400, max_sentences=1024, eval_sentences=8)
        cfg = TrainConfig(max_steps=200, lr=1e-2, min_lr=1e-3, warmup_steps=10, eval_every=200, bf16=False)
        torch.manual_seed(0)
        task = TranslatorTask(TranslatorConfig(**TINY), data, cfg, torch.device("cpu"))
        train(task, cfg, tmp / "tiny.safetensors", torch.device("cpu"), console=Console(quiet=True))
    task.model.eval()
    return EnFrTranslator(task.model, task.tokenizer, torch.device("cpu"))


def _save_translator(t: EnFrTranslator, path: Path) -> Path:
    return save_checkpoint(path, Checkpoint("translator", t.model.config.to_dict(), state_tensors(t.model),
                                            tokenizer=t.tokenizer.model_bytes, training={"best_valid": -1.0}),
                           dtype=None)


@pytest.fixture(scope="session")
def template_pairs() -> list[tuple[str, str]]:
    return _template_pairs()


@pytest.fixture(scope="session")
def write_pairs():
    """write_pairs(path, pairs) -> path: an English<TAB>French file."""
    return _write_pairs


@pytest.fixture(scope="session")
def tiny_translator() -> EnFrTranslator:
    return _train_tiny_translator()


@pytest.fixture(scope="session")
def save_translator(tiny_translator):
    """save_translator(path) -> path: the tiny translator as a full-precision checkpoint."""
    return lambda path: _save_translator(tiny_translator, path)


# ----- pictures -----------------------------------------------------------------------------------
PICTURE_SIZE = 16


def _face(male: int, glasses: int, rng: np.random.Generator, size: int = PICTURE_SIZE) -> np.ndarray:
    """A cartoon of the two attributes: blue-ish backgrounds for men, red-ish for women, a dark bar for glasses."""
    base = np.array([60, 90, 200] if male else [200, 80, 70], dtype=float)
    image = np.clip(base + rng.normal(0, 20, (size, size, 3)), 0, 255)
    image[size // 4: size - size // 4, size // 4: size - size // 4] = [230, 190, 160]  # the face
    if glasses:
        image[size * 3 // 8: size * 3 // 8 + max(1, size // 8), size // 4: size - size // 4] = 20
    return image.astype(np.uint8)


def _jpeg(image: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def _write_faces(folder: Path, n_train: int = 64, n_valid: int = 16, size: int = PICTURE_SIZE) -> Path:
    """train.zip/valid.zip with train.csv/valid.csv (file, identity, Male, Eyeglasses), all four groups present."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("valid", n_valid)):
        rows = []
        with zipfile.ZipFile(folder / f"{split}.zip", "w") as zf:
            for i in range(n):
                male, glasses = GROUPS[list(GROUPS)[i % 4]].values()
                name = f"{split}{i:04d}.jpg"
                zf.writestr(name, _jpeg(_face(male, glasses, rng, size)))
                rows.append({"file": name, "identity": i // 4, "Male": male, "Eyeglasses": glasses})
        with open(folder / f"{split}.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["file", "identity", "Male", "Eyeglasses"])
            writer.writeheader()
            writer.writerows(rows)
    return folder


def _write_anime(folder: Path, n_train: int = 64, n_valid: int = 16, size: int = PICTURE_SIZE) -> Path:
    """Two train shards and valid.zip of colourful blobs, no labels."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    shards = {"train-00.zip": n_train // 2, "train-01.zip": n_train - n_train // 2, "valid.zip": n_valid}
    for shard, n in shards.items():
        with zipfile.ZipFile(folder / shard, "w") as zf:
            for i in range(n):
                image = _face(int(rng.integers(2)), int(rng.integers(2)), rng, size)
                zf.writestr(f"{shard[:-4]}-{i:04d}.jpg", _jpeg(image))
    return folder


def _tiny_vae(size: int = PICTURE_SIZE) -> VAE:
    torch.manual_seed(0)
    return VAE(VAEConfig(image_size=size, base_channels=4, latent_dim=8)).eval()


def _tiny_generator(size: int = PICTURE_SIZE) -> Generator:
    torch.manual_seed(0)
    return Generator(DCGANConfig(image_size=size, latent_dim=8, g_channels=4, d_channels=4)).eval()


def _write_vae_checkpoint(folder: Path, model: VAE | None = None) -> Path:
    model = model or _tiny_vae()
    groups = {name: torch.randn(model.config.latent_dim) for name in GROUPS}
    return save_checkpoint(folder / by_kind("vae").file, pack_vae(model, groups, {"best_valid": 1.0},
                                                             {name: 1 for name in GROUPS}))


def _write_gan_checkpoint(folder: Path, model: Generator | None = None) -> Path:
    return save_checkpoint(folder / by_kind("gan").file, pack_gan(model or _tiny_generator(), {"best_valid": 1.0}))


@pytest.fixture(scope="session")
def write_faces():
    """write_faces(folder, n_train=64, n_valid=16, size=16) -> folder of labelled cartoon faces."""
    return _write_faces


@pytest.fixture(scope="session")
def write_anime():
    """write_anime(folder, n_train=64, n_valid=16, size=16) -> folder of unlabelled shards."""
    return _write_anime


@pytest.fixture(scope="session")
def tiny_vae():
    return _tiny_vae


@pytest.fixture(scope="session")
def tiny_generator():
    return _tiny_generator


@pytest.fixture(scope="session")
def write_vae_checkpoint():
    """write_vae_checkpoint(folder, model=None) -> the path of a tiny VAE checkpoint in `folder`."""
    return _write_vae_checkpoint


@pytest.fixture(scope="session")
def write_gan_checkpoint():
    """write_gan_checkpoint(folder, model=None) -> the path of a tiny GAN checkpoint in `folder`."""
    return _write_gan_checkpoint


# ----- GPT-2 folders ------------------------------------------------------------------------------
GPT2_TEXT = TINY_TEXT + "Café, naïve déjà vu — “Où est la gare ?” Ça va. Über straße.\n\n" * 20


def _write_gpt2_folder(folder: Path, tokenizer: str = "tokenizer.json", weights: str = "safetensors",
                      n_positions: int = 64):
    """Writes the folder and returns the transformers model it holds. `tokenizer`: "tokenizer.json" or
    "vocab+merges"; `weights`: "safetensors" or "bin"."""
    import transformers
    from tokenizers import ByteLevelBPETokenizer

    folder.mkdir(parents=True, exist_ok=True)
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(GPT2_TEXT.split("\n\n"), vocab_size=320, min_frequency=2, special_tokens=["<|endoftext|>"],
                            show_progress=False)
    if tokenizer == "tokenizer.json":
        tok.save(str(folder / "tokenizer.json"))
    else:
        tok.save_model(str(folder))  # vocab.json and merges.txt, GPT-2's original files
    end = tok.token_to_id("<|endoftext|>")
    config = transformers.GPT2Config(vocab_size=tok.get_vocab_size(), n_positions=n_positions, n_embd=48, n_layer=2,
                                     n_head=4, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=end,
                                     eos_token_id=end)
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # non-trivial biases and norms, so a mapping slip shows
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    if weights == "safetensors":
        model.save_pretrained(folder)
    else:  # the older format: a torch state dict, read back with weights_only=True
        config.to_json_file(folder / "config.json")
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return model


def _hf_tokenizer(folder: Path):
    """transformers' own reading of the folder's tokenizer files, to compare ours with."""
    import transformers

    return transformers.AutoTokenizer.from_pretrained(folder)


@pytest.fixture(scope="session")
def write_gpt2_folder():
    """write_gpt2_folder(folder, tokenizer="tokenizer.json" | "vocab+merges", weights="safetensors" | "bin",
    n_positions=64) -> the transformers GPT2LMHeadModel now saved in `folder`, with its tokenizer files."""
    return _write_gpt2_folder


@pytest.fixture(scope="session")
def hf_tokenizer():
    """hf_tokenizer(folder): transformers' own reading of a folder's tokenizer files."""
    return _hf_tokenizer
