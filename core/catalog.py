"""What Inkhorn ships and where things live: every model, every INKHORN_* variable, every folder.

No torch import, so the app can paint its tabs before the slow import. Every
other module reads these facts from here; adding a model starts with one
entry in MODELS.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
SHARED_DATA = ROOT.parent / "shared" / "data"  # the image sets: they are not shipped (see README)

# every environment variable Inkhorn reads, with what it does
ENVIRONMENT = {
    "INKHORN_CHECKPOINTS": "folder the shipped models are loaded from (default: checkpoints/ beside the code)",
    "INKHORN_DEVICE": "cuda, mps or cpu (default: the best available)",
    "INKHORN_OUTPUT_DIR": "folder for exported documents and pictures (default: ./outputs)",
    "INKHORN_RUNS": "folder training runs write to (default: ./runs)",
    "INKHORN_DATA_DIR": "folder the writing desk autosaves documents to (default: the user data folder)",
    "INKHORN_GPT2": f"local GPT-2-family folders (separated by {os.pathsep!r}) to offer beside the shipped models",
    "INKHORN_CONFIG_DIR": "folder of the saved settings, presets and theme (default: the user config folder)",
    "INKHORN_THREADS": "CPU threads for the app and every command (default: chosen for the work and the load)",
}


@dataclass(frozen=True)
class ModelEntry:
    name: str      # what commands and the app call it: `generate --model anna`
    kind: str      # the architecture: gpt, lstm, translator, vae, gan (core/checkpoints.py KINDS)
    file: str      # checkpoint file name in the checkpoints folder
    title: str     # its tab or label in the app
    train: str     # the command that trains it
    licence: str   # what its training data allows, one line of the app at 80 columns
    corpora: tuple[str, ...] = ()  # a text model's training text: files under assets/, as its recipe reads them

    @property
    def path(self) -> Path:
        return checkpoint_dir() / self.file

    @property
    def training_texts(self) -> list[Path]:
        return [asset(*name.split("/")) for name in self.corpora]

    @property
    def shipped(self) -> bool:
        return self.path.exists()


PUBLIC_DOMAIN = "Trained on public-domain text."
MODELS = {entry.name: entry for entry in (
    ModelEntry("hemingway", "gpt", "hemingway.safetensors", "Hemingway", "inkhorn train gpt", PUBLIC_DOMAIN,
               corpora=("hemingway/train.txt.xz", "anna/train.txt.xz", "en-fr/train.tsv.xz")),
    ModelEntry("anna", "lstm", "anna.safetensors", "Anna", "inkhorn train lstm", PUBLIC_DOMAIN,
               corpora=("anna/train.txt.xz",)),
    ModelEntry("en-fr", "translator", "en-fr.safetensors", "Translate", "inkhorn train translator",
               "Trained on Tatoeba pairs (CC-BY 2.0 France): tatoeba.org, manythings.org/anki."),
    ModelEntry("faces-vae", "vae", "faces-vae.safetensors", "VAE · faces", "inkhorn train vae",
               "Trained on CelebA, released for non-commercial research purposes only."),
    ModelEntry("anime-gan", "gan", "anime-gan.safetensors", "GAN · anime faces", "inkhorn train gan",
               "Trained on unlicensed crawled anime faces: research and demonstration only."),
)}


def by_kind(kind: str) -> ModelEntry:
    """The shipped model of an architecture (each kind ships one)."""
    return next(entry for entry in MODELS.values() if entry.kind == kind)


def environ(name: str) -> str | None:
    """The value of one of Inkhorn's environment variables (None when unset or empty)."""
    if name not in ENVIRONMENT:
        raise KeyError(f"{name} is not one of Inkhorn's environment variables")
    return os.environ.get(name) or None


def checkpoint_dir() -> Path:
    """$INKHORN_CHECKPOINTS, else the checkpoints/ folder shipped beside the code."""
    return Path(environ("INKHORN_CHECKPOINTS") or ROOT / "checkpoints")


def output_dir() -> Path:
    """$INKHORN_OUTPUT_DIR, else ./outputs."""
    return Path(environ("INKHORN_OUTPUT_DIR") or "outputs")


def runs_dir() -> Path:
    """$INKHORN_RUNS, else ./runs: where training runs go, and where the app looks for the user's models."""
    return Path(environ("INKHORN_RUNS") or "runs")


def run_dir(name: str) -> Path:
    """Where `inkhorn train` writes a model's run (checkpoints, resume file, samples): never checkpoints/."""
    return runs_dir() / name


def asset(*parts: str) -> Path:
    return ASSETS.joinpath(*parts)


def resolve(name_or_path: str | Path) -> tuple[Path, ModelEntry | None]:
    """A shipped model's name or a path to a checkpoint -> (path, the catalog entry if it is a name)."""
    if str(name_or_path) in MODELS:
        entry = MODELS[str(name_or_path)]
        return entry.path, entry
    path = Path(name_or_path)
    if path.suffix == ".safetensors" or path.exists():
        return path, None
    raise ValueError(f"unknown model '{name_or_path}': use one of {', '.join(MODELS)} "
                     "or a path to a .safetensors file")
