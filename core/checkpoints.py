"""One `.safetensors` file per model: weights plus metadata, never pickle.

Metadata keys: format, kind, config (JSON), tokenizer (base64 SentencePiece
model, where the model has one), training (JSON summary), and any extra
entries a model needs (JSON). Writes are atomic: a killed save never leaves
a half-written file under the real name.
"""
from __future__ import annotations

import base64
import importlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from core.catalog import MODELS, resolve
from core.tokenizer import Tokenizer

FORMAT = "inkhorn/1"


class CheckpointError(Exception):
    """A checkpoint that cannot be used, with what to do about it."""


@dataclass(frozen=True)
class Kind:
    """How to build a model of one kind: its config and module classes (imported on first use, so
    loading a text model does not import the picture models), and the prefixes of tensors the
    checkpoint stores beside the weights."""
    module: str
    config: str
    model: str
    extra_tensors: tuple[str, ...] = ()

    def classes(self) -> tuple[type, type]:
        module = importlib.import_module(self.module)
        return getattr(module, self.config), getattr(module, self.model)


KINDS = {
    "gpt": Kind("core.models.gpt", "GPTConfig", "GPT"),
    "lstm": Kind("core.models.lstm", "LSTMConfig", "RecurrentLM"),
    "translator": Kind("core.models.translator", "TranslatorConfig", "Translator"),
    "vae": Kind("core.models.vae", "VAEConfig", "VAE", extra_tensors=("group.",)),  # group mean latents
    "gan": Kind("core.models.dcgan", "DCGANConfig", "Generator"),  # only the generator is shipped
}
TEXT_KINDS = ("gpt", "lstm")


@dataclass
class Checkpoint:
    kind: str
    config: dict
    tensors: dict[str, torch.Tensor]
    tokenizer: bytes | None = None
    training: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def _fix_hint(kind: str | None) -> str:
    commands = {entry.kind: entry.train for entry in MODELS.values()}
    return f" Train one with `{commands[kind]}`." if kind in commands else ""


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


def _unreadable(path: Path, error: Exception, kind: str | None = None) -> CheckpointError:
    return CheckpointError(f"{path} is not a readable safetensors file ({error}); it may be truncated or "
                           f"corrupt.{_fix_hint(kind)}")


def read_metadata(path: str | Path) -> dict[str, str]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}.")
    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise _unreadable(path, e) from e


def describe_training(meta: dict[str, str]) -> str:
    """A checkpoint's valid scores in one line, from its metadata (or what it is a mean of)."""
    training = json.loads(meta.get("training", "{}"))
    valid = {k: v for k, v in training.get("valid", {}).items() if k not in ("step", "metric")}
    shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in valid.items())
    if "averaged" in training:
        shown = f"mean of {len(training['averaged'])} checkpoints" + (f", {shown}" if shown else "")
    return shown


def _header(path: Path, meta: dict[str, str], kind: str | None) -> Checkpoint:
    """The checkpoint's metadata, checked, without its tensors."""
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a safetensors file but not an Inkhorn checkpoint (no '{FORMAT}' format tag).")
    if kind is not None and meta.get("kind") != kind:
        raise CheckpointError(f"{path} holds a '{meta.get('kind')}' model, not a '{kind}' model.")
    try:
        return Checkpoint(
            kind=meta["kind"],
            config=json.loads(meta["config"]),
            tensors={},
            tokenizer=base64.b64decode(meta["tokenizer"]) if "tokenizer" in meta else None,
            training=json.loads(meta.get("training", "{}")),
            extra=json.loads(meta.get("extra", "{}")),
        )
    except (KeyError, ValueError) as e:
        raise CheckpointError(f"{path} has damaged metadata ({e}).") from e


def load_checkpoint(path: str | Path, kind: str | None = None) -> Checkpoint:
    """Read and check a checkpoint; `kind` is the model kind the caller expects. The file is opened once
    and its metadata checked before any tensor is read."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}.{_fix_hint(kind)}")
    try:
        with safe_open(str(path), framework="pt") as f:
            ckpt = _header(path, f.metadata() or {}, kind)
            ckpt.tensors = {name: f.get_tensor(name) for name in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise _unreadable(path, e, kind) from e
    return ckpt


@dataclass
class Loaded:
    """A model built from its checkpoint, on its device, in eval mode."""
    model: torch.nn.Module
    checkpoint: Checkpoint   # metadata and the tensors that are not weights
    path: Path
    device: torch.device


def load_model(path_or_name: str | Path, kinds: str | tuple[str, ...] | None = None,
               device: str | torch.device | None = None) -> Loaded:
    """A shipped model's name or a checkpoint path -> the model, built and loaded. `kinds`: the kind (or
    kinds) the caller can use; anything else is refused with a message naming the file."""
    from core.device import choose_device

    path, entry = resolve(path_or_name)
    wanted = (kinds,) if isinstance(kinds, str) else kinds
    ckpt = load_checkpoint(path, entry.kind if entry else wanted[0] if wanted and len(wanted) == 1 else None)
    if wanted and ckpt.kind not in wanted:
        raise CheckpointError(f"{path} holds a '{ckpt.kind}' model, not a {' or '.join(wanted)} model.")
    if ckpt.kind not in KINDS:
        raise CheckpointError(f"{path} holds a '{ckpt.kind}' model, which this version of Inkhorn does not know.")
    spec = KINDS[ckpt.kind]
    config_class, model_class = spec.classes()
    try:
        model = model_class(config_class(**ckpt.config))
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path} has a config this version cannot build ({e}).") from e
    load_weights(model, {k: v for k, v in ckpt.tensors.items() if not k.startswith(spec.extra_tensors)}, path)
    ckpt.tensors = {k: v for k, v in ckpt.tensors.items() if k.startswith(spec.extra_tensors)}
    dev = device if isinstance(device, torch.device) else choose_device(device).device
    return Loaded(model.to(dev).eval(), ckpt, path, dev)


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

    tok = Tokenizer(model_bytes)
    return [tok.sp.id_to_piece(i) for i in range(tok.vocab_size)]
