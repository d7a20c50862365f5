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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

from core.catalog import MODELS, resolve
from core.files import atomic_write
from core.tokenizer import Tokenizer

FORMAT = "inkhorn/1"


class CheckpointError(Exception):
    """A checkpoint that cannot be used, with what to do about it."""


Rule = tuple[str, Callable[[Any], bool]]  # (what it says, whether a config keeps it)


@dataclass(frozen=True)
class Kind:
    """How to build a model of one kind: its config and module classes (imported on first use, so
    loading a text model does not import the picture models), the prefixes of tensors the
    checkpoint stores beside the weights, and what a config read from a file must keep to
    (core/checkpoint_checks.py): bounds of its whole-number fields, rules between fields, and the
    vocabulary its tokenizer must fit in (None: the kind has no tokenizer)."""
    module: str
    config: str
    model: str
    extra_tensors: tuple[str, ...] = ()
    limits: dict[str, tuple[int, int]] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    vocabulary: Callable[[Any], int] | None = None

    def classes(self) -> tuple[type, type]:
        module = importlib.import_module(self.module)
        return getattr(module, self.config), getattr(module, self.model)


_VOCAB, _WIDTH = (1, 2**20), (1, 2**14)
_DROPOUT: Rule = ("dropout in [0, 1)", lambda c: 0 <= c.dropout < 1)
_POWER_OF_TWO: Rule = ("image_size a power of two", lambda c: c.image_size & (c.image_size - 1) == 0)
KINDS = {
    "gpt": Kind("core.models.gpt", "GPTConfig", "GPT",
                limits={"vocab_size": _VOCAB, "block_size": (1, 2**16), "n_layer": (1, 256), "n_head": (1, 256),
                        "n_embd": _WIDTH},
                rules=(("n_head divides n_embd", lambda c: c.n_embd % c.n_head == 0),
                       ("rotary positions need an even head width", lambda c: c.position != "rope"
                        or c.n_embd // c.n_head % 2 == 0),
                       ("gelu is 'none' or 'tanh'", lambda c: c.gelu in ("none", "tanh")),
                       ("layer_norm_eps in (0, 1)", lambda c: 0 < c.layer_norm_eps < 1),
                       ("rope_base above 0", lambda c: c.rope_base > 0), _DROPOUT,
                       ("fewer sources than vocabulary", lambda c: len(c.sources) < c.vocab_size)),
                vocabulary=lambda c: c.vocab_size - len(c.sources)),
    "lstm": Kind("core.models.lstm", "LSTMConfig", "RecurrentLM",
                 limits={"vocab_size": _VOCAB, "n_embd": _WIDTH, "n_hidden": _WIDTH, "n_layer": (1, 64),
                         "bptt": (1, 2**16)},
                 rules=(_DROPOUT,), vocabulary=lambda c: c.vocab_size),
    "translator": Kind("core.models.translator", "TranslatorConfig", "Translator",
                       limits={"vocab_size": _VOCAB, "d_model": _WIDTH, "n_head": (1, 256), "n_encoder_layer": (1, 64),
                               "n_decoder_layer": (1, 64), "d_ff": (1, 2**16), "max_len": (2, 2**14)},
                       rules=(("n_head divides d_model", lambda c: c.d_model % c.n_head == 0),
                              ("d_model even (sine and cosine positions)", lambda c: c.d_model % 2 == 0),
                              ("pad, bos and eos ids inside the vocabulary",
                               lambda c: max(c.pad_id, c.bos_id, c.eos_id) < c.vocab_size), _DROPOUT),
                       vocabulary=lambda c: c.vocab_size),
    "vae": Kind("core.models.vae", "VAEConfig", "VAE", extra_tensors=("group.",),  # group mean latents
                limits={"image_size": (8, 1024), "base_channels": (1, 1024), "latent_dim": (1, 4096)},
                rules=(_POWER_OF_TWO, ("beta at least 0", lambda c: c.beta >= 0))),
    "gan": Kind("core.models.dcgan", "DCGANConfig", "Generator",  # only the generator is shipped
                limits={"image_size": (8, 1024), "latent_dim": (1, 4096), "g_channels": (1, 4096),
                        "d_channels": (1, 4096)},
                rules=(_POWER_OF_TWO,)),
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


def save_checkpoint(path: str | Path, ckpt: Checkpoint, dtype: torch.dtype | None = torch.float16,
                    exact: tuple[str, ...] = (), replace: bool = True) -> Path:
    """Write `ckpt` (core/files.py: atomic, never through a link; replace=False refuses a file already
    there); floating tensors are stored as `dtype` (None keeps them as they are), except those whose
    names start with one of `exact`."""
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
    return atomic_write(path, save(tensors, metadata=meta), replace=replace, mode=0o644)


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
    """A checkpoint's valid scores in one line, from its metadata (or what it is a mean of); a damaged
    summary is said to be damaged, so a listing of many files goes on past it."""
    try:
        training = json.loads(meta.get("training", "{}"))
        valid = {k: v for k, v in training.get("valid", {}).items() if k not in ("step", "metric")}
        shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in valid.items())
        if "averaged" in training:
            shown = f"mean of {len(training['averaged'])} checkpoints" + (f", {shown}" if shown else "")
    except (ValueError, TypeError, AttributeError):
        return "(its training summary is damaged)"
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


def _read(path: Path, kind: str | None, wanted: tuple[str, ...] | None = None,
          known: bool = False) -> tuple[Checkpoint, Any, Tokenizer | None]:
    """(the checkpoint, its config object, its tokenizer) read once from `path`. A checkpoint of a kind in
    KINDS is checked through before its tensors are read: config, tokenizer and the tensors' shapes
    against the model they describe (core/checkpoint_checks.py), then its weights for NaN. `kind`: the
    one kind the caller expects; `wanted`: the kinds it can use; `known`: refuse a kind not in KINDS."""
    from core.checkpoint_checks import check_finite, check_fits, checked_config, checked_tokenizer

    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}.{_fix_hint(kind)}")
    config = tokenizer = None
    try:
        with safe_open(str(path), framework="pt") as f:
            ckpt = _header(path, f.metadata() or {}, kind)
            if wanted and ckpt.kind not in wanted:
                raise CheckpointError(f"{path} holds a '{ckpt.kind}' model, not a {' or '.join(wanted)} model.")
            if known and ckpt.kind not in KINDS:
                raise CheckpointError(f"{path} holds a '{ckpt.kind}' model, which this version of Inkhorn does "
                                      "not know.")
            if ckpt.kind in KINDS:
                spec, hint = KINDS[ckpt.kind], _fix_hint(ckpt.kind)
                config = checked_config(path, spec, ckpt.config, hint)
                tokenizer = checked_tokenizer(path, spec, config, ckpt.tokenizer, hint)
                weights = [k for k in f.keys() if not k.startswith(spec.extra_tensors)]
                check_fits(path, spec, config, {k: tuple(f.get_slice(k).get_shape()) for k in weights}, hint)
            ckpt.tensors = {name: f.get_tensor(name) for name in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise _unreadable(path, e, kind) from e
    if config is not None:
        check_finite(path, ckpt.tensors, hint)
    return ckpt, config, tokenizer


def load_checkpoint(path: str | Path, kind: str | None = None) -> Checkpoint:
    """Read and check a checkpoint (see `_read`); `kind` is the model kind the caller expects."""
    return _read(Path(path), kind)[0]


@dataclass
class Loaded:
    """A model built from its checkpoint, on its device, in eval mode."""
    model: torch.nn.Module
    checkpoint: Checkpoint   # metadata and the tensors that are not weights
    path: Path
    device: torch.device
    tokenizer: Tokenizer | None = None  # for the kinds that have one, checked against the model's vocabulary


def load_model(path_or_name: str | Path, kinds: str | tuple[str, ...] | None = None,
               device: str | torch.device | None = None) -> Loaded:
    """A shipped model's name or a checkpoint path -> the model, built and loaded. `kinds`: the kind (or
    kinds) the caller can use; anything else is refused with a message naming the file. Everything is
    checked before the model is built (`_read`)."""
    from core.device import choose_device

    path, entry = resolve(path_or_name)
    wanted = (kinds,) if isinstance(kinds, str) else kinds
    expected = entry.kind if entry else wanted[0] if wanted and len(wanted) == 1 else None
    ckpt, config, tokenizer = _read(path, expected, wanted, known=True)
    spec = KINDS[ckpt.kind]
    _, model_class = spec.classes()
    model = model_class(config)
    weights = [k for k in ckpt.tensors if not k.startswith(spec.extra_tensors)]
    load_weights(model, {k: ckpt.tensors.pop(k) for k in weights}, path)
    dev = device if isinstance(device, torch.device) else choose_device(device).device
    return Loaded(model.to(dev).eval(), ckpt, path, dev, tokenizer)


def fit_problems(own: dict[str, tuple[int, ...]], stored: dict[str, tuple[int, ...]]) -> list[str]:
    """What keeps tensors of the `stored` names and shapes from loading into a model whose state (tied
    duplicates left out) has the `own` ones: missing, unexpected and wrongly shaped names."""
    missing = [k for k in own if k not in stored]
    unexpected = [k for k in stored if k not in own]
    wrong = [f"{k} {stored[k]} != {own[k]}" for k in stored if k in own and stored[k] != own[k]]
    return ([f"missing {missing[:5]}"] if missing else []) + ([f"unexpected {unexpected[:5]}"] if unexpected else []) \
        + ([f"wrong shapes {wrong[:5]}"] if wrong else [])


def load_weights(model: torch.nn.Module, tensors: dict[str, torch.Tensor], path: str | Path) -> None:
    """Load `tensors` into `model`, saying exactly which names or shapes do not fit."""
    own = {k: tuple(v.shape) for k, v in model.state_dict().items() if not is_tied(model, k)}
    problems = fit_problems(own, {k: tuple(v.shape) for k, v in tensors.items()})
    if problems:
        raise CheckpointError(f"{path} does not fit its model config: " + "; ".join(problems))
    dtype = next(model.parameters()).dtype
    model.load_state_dict({k: v.to(dtype) if v.is_floating_point() else v for k, v in tensors.items()}, strict=False)


def is_tied(model: torch.nn.Module, name: str) -> bool:
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
