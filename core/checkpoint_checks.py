"""What a checkpoint must pass before a model is built from it.

A config is read from metadata anyone can edit, so it is checked before a single tensor is
allocated: every value has its field's type and lies within the bounds of its kind (KINDS in
core/checkpoints.py), the rules between values hold (heads divide the width, ...), and the model it
describes is built on the meta device, which allocates nothing, to learn the memory it would take and
the tensors it expects. Those must be the tensors the file stores: a config edited to 10,000 layers
is refused by its parameter count, not by an 8 GB allocation. The tokenizer must parse and fit
the vocabulary; the weights must be finite. Every refusal names the file and what to do.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing

import torch

from core.checkpoints import CheckpointError, Kind, fit_problems, is_tied
from core.limits import MAX_MODEL_BYTES
from core.tokenizer import Tokenizer

DEFAULT_INT_RANGE = (0, 2**20)  # an int field a kind gives no bounds of its own
FIX = "the file is damaged or its config was edited; use the checkpoint as its training run wrote it"


def _type_ok(value, hint) -> bool:
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if hint is str:
        return isinstance(value, str)
    if hint is type(None):
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (list, tuple):
        return isinstance(value, list) and all(_type_ok(v, args[0]) for v in value)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in args)
    return False


_TYPE_NAMES = {int: "a whole number", float: "a finite number", bool: "true or false", str: "a string"}


def _type_name(hint) -> str:
    return _TYPE_NAMES.get(hint) or str(hint).replace("NoneType", "None")


def checked_config(path, spec: Kind, raw, hint: str = "") -> object:
    """The kind's config object built from the metadata's `raw` dict, once every value is checked; `hint`
    ends every refusal (how to train a new one)."""
    try:
        return _checked_config(path, spec, raw)
    except CheckpointError as e:
        raise CheckpointError(f"{e}{hint}") from None


def _checked_config(path, spec: Kind, raw) -> object:
    config_class, _ = spec.classes()
    fix = FIX
    if not isinstance(raw, dict):
        raise CheckpointError(f"{path} has a config that is not a table of settings; {fix}.")
    hints = typing.get_type_hints(config_class)
    required = [f.name for f in dataclasses.fields(config_class)
                if f.default is f.default_factory is dataclasses.MISSING]
    unknown = sorted(str(k) for k in raw if k not in hints)
    missing = [k for k in required if k not in raw]
    if unknown or missing:
        parts = ([f"unknown settings {unknown[:5]}"] if unknown else []) + ([f"no {missing}"] if missing else [])
        raise CheckpointError(f"{path} has a config this version cannot build ({'; '.join(parts)}); it may come "
                              f"from another version of Inkhorn, or {fix}.")
    for key, value in raw.items():
        hint = hints[key]
        if not _type_ok(value, hint):
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
            raise CheckpointError(f"{path}: config {key} = {shown} is not {_type_name(hint)}; {fix}.")
        if hint is int:
            least, most = spec.limits.get(key, DEFAULT_INT_RANGE)
            if not least <= value <= most:
                raise CheckpointError(f"{path}: config {key} = {value if abs(value) < 10**18 else 'a huge number'} "
                                      f"is outside {least:,}..{most:,}, the sizes this kind of model is loaded "
                                      f"with; {fix}.")
    try:
        config = config_class(**raw)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path} has a config this version cannot build ({e}); {fix}.") from e
    for rule, holds in spec.rules:
        if not holds(config):
            raise CheckpointError(f"{path}: its config breaks a rule of the model ({rule}); {fix}.")
    return config


def checked_tokenizer(path, spec: Kind, config, model_bytes: bytes | None, hint: str = "") -> Tokenizer | None:
    """The checkpoint's tokenizer, parsed, and no bigger than the model's vocabulary."""
    if spec.vocabulary is None:
        return None
    if model_bytes is None:
        raise CheckpointError(f"{path} carries no tokenizer; it was not written by `inkhorn train`.{hint}")
    try:
        tokenizer = Tokenizer(model_bytes)
    except (RuntimeError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path} carries a tokenizer that cannot be read ({str(e).strip()[:80]}); the file "
                              f"is damaged: use the checkpoint as its training run wrote it.{hint}") from e
    room = spec.vocabulary(config)
    if not 0 < tokenizer.vocab_size <= room:
        raise CheckpointError(f"{path}: its tokenizer has {tokenizer.vocab_size:,} tokens and the model room for "
                              f"{room:,}; they are not one model's. Use the checkpoint as its training run wrote "
                              f"it.{hint}")
    return tokenizer


def _meta_model(path, spec: Kind, config) -> torch.nn.Module:
    _, model_class = spec.classes()
    try:
        with torch.device("meta"):
            return model_class(config)
    except (TypeError, ValueError, ZeroDivisionError, AssertionError, RuntimeError, IndexError) as e:
        raise CheckpointError(f"{path} has a config this version cannot build ({e or type(e).__name__}).") from e


def check_fits(path, spec: Kind, config, stored: dict[str, tuple[int, ...]], hint: str = "") -> None:
    """Refuse a config whose model would not fit in memory, or whose tensors (the parameter count it
    implies, then names and shapes) are not the `stored` ones, before anything is allocated."""
    model = _meta_model(path, spec, config)
    tensors = {id(t): t for t in [*model.parameters(), *model.buffers()]}
    size = sum(t.numel() * t.element_size() for t in tensors.values())
    if size > MAX_MODEL_BYTES:
        raise CheckpointError(f"{path}: its config describes a model of {size / 2**30:,.1f} GiB, more than the "
                              f"{MAX_MODEL_BYTES / 2**30:.0f} GiB Inkhorn loads; the config was edited or "
                              f"the file is not one Inkhorn can run.")
    own = {k: tuple(v.shape) for k, v in model.state_dict().items() if not is_tied(model, k)}
    implied, held = (sum(math.prod(shape) for shape in d.values()) for d in (own, stored))
    problems = fit_problems(own, stored)
    if implied == held and not problems:
        return
    parts = [f"its config implies {implied:,} parameters and it stores {held:,}"] if implied != held else []
    raise CheckpointError(f"{path} does not fit its model config: " + "; ".join(parts + problems) + ". The file is "
                          f"damaged or its config was edited: use the checkpoint as its training run wrote it.{hint}")


def check_finite(path, tensors: dict[str, torch.Tensor], hint: str = "") -> None:
    """Refuse weights holding NaN or infinity: they would give NaN text and black pictures."""
    for name, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{path}: tensor {name} holds NaN or infinite values (a training run that "
                                  f"diverged, or a damaged file); use an earlier checkpoint of the run.{hint}")
