"""One `.safetensors` file per model: weights plus metadata, never pickle.

Metadata keys: format, kind, config (JSON), tokenizer (base64 SentencePiece
model, where the model has one), training (JSON summary), and any extra
entries a model needs (JSON). Writes are atomic: a killed save never leaves
a half-written file under the real name.
"""
from __future__ import annotations

import base64
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

FORMAT = "inkhorn/1"

TRAIN_COMMAND = {
    "gpt": "inkhorn train gpt",
    "lstm": "inkhorn train lstm",
    "translator": "inkhorn train translator",
    "vae": "inkhorn train vae",
    "gan": "inkhorn train gan",
}


class CheckpointError(Exception):
    """A checkpoint that cannot be used, with what to do about it."""


@dataclass
class Checkpoint:
    kind: str
    config: dict
    tensors: dict[str, torch.Tensor]
    tokenizer: bytes | None = None
    training: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def _fix_hint(kind: str | None) -> str:
    return f" Train one with `{TRAIN_COMMAND[kind]}`." if kind in TRAIN_COMMAND else ""


def atomic_write(path: Path, write) -> None:
    """Call write(tmp_path), then move tmp over `path` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(path: str | Path, ckpt: Checkpoint, dtype: torch.dtype | None = torch.float16,
                    exact: tuple[str, ...] = ()) -> Path:
    """Write `ckpt`; floating tensors are stored as `dtype` (None keeps them as they are), except
    those whose names start with one of `exact`."""
    path = Path(path)
    tensors = {}
    for name, t in ckpt.tensors.items():
        t = t.detach().cpu()
        if dtype is not None and t.is_floating_point() and not name.startswith(exact):
            t = t.to(dtype)
        tensors[name] = t.contiguous()
    meta = {
        "format": FORMAT,
        "kind": ckpt.kind,
        "config": json.dumps(ckpt.config),
        "training": json.dumps(ckpt.training),
        "extra": json.dumps(ckpt.extra),
    }
    if ckpt.tokenizer is not None:
        meta["tokenizer"] = base64.b64encode(ckpt.tokenizer).decode("ascii")
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=meta))
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}.")
    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path} is not a readable safetensors file ({e}); it may be truncated or corrupt.") from e


def describe_training(meta: dict[str, str]) -> str:
    """A checkpoint's valid scores in one line, from its metadata (or what it is a mean of)."""
    training = json.loads(meta.get("training", "{}"))
    valid = {k: v for k, v in training.get("valid", {}).items() if k not in ("step", "metric")}
    shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in valid.items())
    if "averaged" in training:
        shown = f"mean of {len(training['averaged'])} checkpoints" + (f", {shown}" if shown else "")
    return shown


def load_checkpoint(path: str | Path, kind: str | None = None) -> Checkpoint:
    """Read and check a checkpoint; `kind` is the model kind the caller expects."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}.{_fix_hint(kind)}")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(
            f"{path} is not a readable safetensors file ({e}); it may be truncated or corrupt.{_fix_hint(kind)}"
        ) from e
    meta = read_metadata(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a safetensors file but not an Inkhorn checkpoint (no '{FORMAT}' format tag).")
    if kind is not None and meta.get("kind") != kind:
        raise CheckpointError(f"{path} holds a '{meta.get('kind')}' model, not a '{kind}' model.")
    try:
        tokenizer = base64.b64decode(meta["tokenizer"]) if "tokenizer" in meta else None
        return Checkpoint(
            kind=meta["kind"],
            config=json.loads(meta["config"]),
            tensors=tensors,
            tokenizer=tokenizer,
            training=json.loads(meta.get("training", "{}")),
            extra=json.loads(meta.get("extra", "{}")),
        )
    except (KeyError, ValueError) as e:
        raise CheckpointError(f"{path} has damaged metadata ({e}).") from e


def load_weights(model: torch.nn.Module, tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    """Load `tensors` into `model`, saying exactly which names or shapes do not fit."""
    own = model.state_dict()
    missing = [k for k in own if k not in tensors and not _is_tied(model, k)]
    unexpected = [k for k in tensors if k not in own]
    wrong = [f"{k} {tuple(tensors[k].shape)} != {tuple(own[k].shape)}" for k in tensors
             if k in own and tensors[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {missing[:5]}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:5]}")
        if wrong:
            parts.append(f"wrong shapes {wrong[:5]}")
        raise CheckpointError(f"{path} does not fit its model config: " + "; ".join(parts))
    dtype = next(model.parameters()).dtype
    model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in tensors.items()}, strict=False)


def _is_tied(model: torch.nn.Module, name: str) -> bool:
    return name in getattr(model, "tied_weights", ())


def state_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's state without tied duplicates (safetensors refuses shared storage)."""
    tied = set(getattr(model, "tied_weights", ()))
    return {k: v for k, v in model.state_dict().items() if k not in tied}


def average_checkpoints(paths: list[str | Path]) -> Checkpoint:
    """The element-wise mean of the weights of several checkpoints of one model (the same kind, config and
    tokenizer: snapshots of one training run), as Vaswani et al. average the last checkpoints of a run.
    Metadata comes from the last file, with the averaged files listed in its training summary and its
    valid scores left out."""
    if len(paths) < 2:
        raise ValueError("averaging needs at least two checkpoints")
    ckpts = [load_checkpoint(p) for p in paths]
    first = ckpts[0]
    for path, ckpt in zip(paths[1:], ckpts[1:]):
        if (ckpt.kind, ckpt.config, _vocabulary(ckpt.tokenizer)) != (first.kind, first.config,
                                                                     _vocabulary(first.tokenizer)):
            raise CheckpointError(f"{path} is not the same model as {paths[0]} (kind, config or tokenizer differ)")
        if ckpt.tensors.keys() != first.tensors.keys():
            raise CheckpointError(f"{path} holds other tensors than {paths[0]}")
    tensors = {}
    for name, t in first.tensors.items():
        if t.is_floating_point():
            tensors[name] = torch.stack([c.tensors[name].float() for c in ckpts]).mean(0)
        else:
            tensors[name] = ckpts[-1].tensors[name]
    last = ckpts[-1]
    # the valid scores of the last snapshot describe other weights than the mean's
    training = {k: v for k, v in last.training.items() if k not in ("valid", "best_valid", "best_step")}
    training["averaged"] = [Path(p).name for p in paths]
    return Checkpoint(last.kind, last.config, tensors, last.tokenizer, training, last.extra)


def _vocabulary(model_bytes: bytes | None) -> list[str] | None:
    """A tokenizer's pieces in id order: two serialisations of one SentencePiece model may differ in bytes."""
    if model_bytes is None:
        return None
    from core.tokenizer import Tokenizer

    tok = Tokenizer(model_bytes)
    return [tok.sp.id_to_piece(i) for i in range(tok.vocab_size)]
