"""The text models a user can pick: the shipped ones, their own training runs, and GPT-2 folders.

Runs are the GPT and LSTM checkpoints under a runs folder (resume files left out: they hold a
run's optimizer state, not a model to write with). GPT-2-family folders come from the caller
(a command-line flag), from $INKHORN_GPT2 (folders separated by os.pathsep) and from the local
Hugging Face cache, read on disk only: $HF_HUB_CACHE, else $HF_HOME/hub, else
$XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub. Listing reads checkpoint headers
and config.json files, never weights. A choice's `spec` is what `load_language_model`
and `inkhorn generate --model` take.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.catalog import MODELS, environ, runs_dir
from core.checkpoints import (
    FORMAT,
    TEXT_KINDS,
    CheckpointError,
    describe_training,
    read_metadata,
)
from core.models.gpt2_import import gpt2_config, read_config, weights_file
from core.text.gpt2_tokenizer import tokenizer_files


@dataclass
class TextModelChoice:
    name: str                    # what to show
    spec: str                    # what load_language_model takes
    source: str                  # "shipped", "run", "gpt2" (a folder given by flag or $INKHORN_GPT2), "hf-cache"
    kind: str                    # "gpt", "lstm" or "gpt2"
    detail: str = ""
    problem: str | None = None   # why a folder that was asked for cannot load; such a choice cannot be picked


def list_text_models(gpt2: Iterable[str | Path] = (), runs: str | Path | None = None) -> list[TextModelChoice]:
    """Shipped models, then runs (under `runs`, default: the runs folder), then the GPT-2 folders given and
    those of the Hugging Face cache; a folder reached twice is listed once."""
    given = [*gpt2, *filter(None, (environ("INKHORN_GPT2") or "").split(os.pathsep))]
    runs = Path(runs) if runs is not None else runs_dir()
    choices = shipped_models() + run_models(runs) + [gpt2_choice(Path(f), "gpt2") for f in given] \
        + hf_cache_models()
    unique: dict = {}
    for c in choices:
        unique.setdefault(c.spec if c.source == "shipped" else Path(c.spec).resolve(), c)
    return list(unique.values())


def shipped_models() -> list[TextModelChoice]:
    return [TextModelChoice(entry.title, entry.name, "shipped", entry.kind, _detail(entry.path))
            for entry in MODELS.values() if entry.kind in TEXT_KINDS and entry.path.is_file()]


def run_models(runs: Path) -> list[TextModelChoice]:
    """Every GPT or LSTM checkpoint under `runs`, snapshots included, in path order."""
    out = []
    for path in sorted(runs.rglob("*.safetensors")) if runs.is_dir() else []:
        if path.name.endswith(".resume.safetensors"):
            continue
        try:
            meta = read_metadata(path)
        except CheckpointError:
            continue  # a file being written, or not ours: nothing to pick
        if meta.get("format") == FORMAT and meta.get("kind") in TEXT_KINDS:
            out.append(TextModelChoice(str(path), str(path), "run", meta["kind"], _detail(path, meta)))
    return out


def _detail(path: Path, meta: dict[str, str] | None = None) -> str:
    try:
        meta = meta if meta is not None else read_metadata(path)
    except CheckpointError as e:
        return str(e)
    return describe_training(meta)


def gpt2_problem(folder: Path) -> str | None:
    """Why `folder` is not a loadable GPT-2-family folder, or None. Reads config.json only."""
    try:
        gpt2_config(read_config(folder))
    except (FileNotFoundError, CheckpointError, ValueError) as e:
        return str(e)
    if weights_file(folder) is None:
        return "no weights: it needs model.safetensors or pytorch_model.bin"
    if tokenizer_files(folder) is None:
        return "no tokenizer: it needs tokenizer.json, or vocab.json and merges.txt"
    return None


def gpt2_name(folder: Path) -> str:
    """A Hugging Face cache snapshot is named by its repository (models--org--name/snapshots/HASH ->
    org/name), any other folder by itself."""
    repo = folder.parent.parent.name
    if folder.parent.name == "snapshots" and repo.startswith("models--"):
        return repo[len("models--"):].replace("--", "/")
    return folder.name


def gpt2_choice(folder: Path, source: str) -> TextModelChoice:
    problem = gpt2_problem(folder)
    detail = ""
    if problem is None:
        c = read_config(folder)
        detail = f"GPT-2 · {c['n_layer']} layers · {c['n_embd']} wide · {c['n_positions']}-token context"
    return TextModelChoice(gpt2_name(folder), str(folder), source, "gpt2", detail, problem)


def hf_hub_cache() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "huggingface" / "hub"


def hf_cache_models() -> list[TextModelChoice]:
    """The snapshot of each cached model that is a complete GPT-2-family folder: the one refs/main names,
    else the newest; partial downloads and other architectures are left out."""
    hub = hf_hub_cache()
    out = []
    for repo in sorted(hub.glob("models--*")) if hub.is_dir() else []:
        snapshots = repo / "snapshots"
        main = repo / "refs" / "main"
        folder = snapshots / main.read_text().strip() if main.is_file() else None
        if folder is None or not folder.is_dir():
            candidates = [d for d in snapshots.iterdir() if d.is_dir()] if snapshots.is_dir() else []
            folder = max(candidates, key=lambda d: d.stat().st_mtime, default=None)
        choice = gpt2_choice(folder, "hf-cache") if folder is not None else None
        if choice is not None and choice.problem is None:
            out.append(choice)
    return out
