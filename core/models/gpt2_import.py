"""Load a local Hugging Face GPT-2 checkpoint into our GPT, as the seed book does for GPT-2 XL.

Reads config.json plus model.safetensors (or pytorch_model.bin with
weights_only=True) from a folder; nothing is downloaded. GPT-2 stores its
projections as Conv1D, (in, out), so those matrices are transposed. A folder
that does not fit (another architecture, options this GPT does not have,
missing or damaged files) is refused with what is wrong.
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import torch

from core.checkpoints import CheckpointError
from core.models.gpt import GPT, GPTConfig

_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def read_config(folder: Path) -> dict:
    """config.json of a Hugging Face model folder, checked to be GPT-2's."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder} has no config.json: not a Hugging Face model folder")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not readable JSON ({e})") from e
    kind = config.get("model_type") if isinstance(config, dict) else None
    if kind != "gpt2":
        raise CheckpointError(f"{folder} holds a {kind!r} model; only GPT-2-family folders (model_type 'gpt2') load")
    return config


def gpt2_config(hf: dict) -> GPTConfig:
    if hf.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(f"unsupported activation {hf['activation_function']!r}")
    unsupported = [k for k, off in (("scale_attn_by_inverse_layer_idx", False), ("reorder_and_upcast_attn", False),
                                    ("scale_attn_weights", True)) if hf.get(k, off) != off]
    if hf.get("n_inner") not in (None, 4 * hf.get("n_embd", 0)):
        unsupported.append("n_inner")
    if unsupported:
        raise ValueError(f"GPT-2 options this GPT does not implement: {', '.join(unsupported)}")
    try:
        return GPTConfig(vocab_size=hf["vocab_size"], block_size=hf["n_positions"], n_layer=hf["n_layer"],
                         n_head=hf["n_head"], n_embd=hf["n_embd"], dropout=0.0, bias=True, gelu="tanh",
                         layer_norm_eps=hf.get("layer_norm_epsilon", 1e-5), position="learned")
    except KeyError as e:
        raise ValueError(f"config.json lacks {e}") from e


def weights_file(folder: Path) -> Path | None:
    """model.safetensors, else pytorch_model.bin, else None."""
    return next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), None)


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    path = weights_file(folder)
    if path is None:
        raise FileNotFoundError(f"{folder} has neither model.safetensors nor pytorch_model.bin")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError, RuntimeError) as e:
            raise CheckpointError(f"{path} is not a readable safetensors file ({e}); it may be truncated") from e
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as e:
        raise CheckpointError(f"{path} is not a readable torch state dict ({e}); it may be truncated, or hold "
                              "more than weights") from e


def load_gpt2(folder: str | Path) -> GPT:
    """The folder's model in our GPT. Its config.json is checked like a checkpoint's config, and the weights
    against the model it describes, before the model is built (core/checkpoint_checks.py)."""
    from core.checkpoint_checks import check_finite, check_fits, checked_config
    from core.checkpoints import KINDS

    folder = Path(folder)
    try:
        config = gpt2_config(read_config(folder))
    except ValueError as e:
        raise CheckpointError(f"{folder}: {e}") from e
    config = checked_config(folder / "config.json", KINDS["gpt"], config.to_dict())
    loaded = {}
    for name, tensor in _read_weights(folder).items():
        key = name if name.startswith(("transformer.", "lm_head.")) else f"transformer.{name}"
        if key.endswith((".attn.bias", ".attn.masked_bias")):  # causal-mask buffers, not weights
            continue
        loaded[key] = tensor.t() if key.endswith(_CONV1D) and tensor.dim() == 2 else tensor
    loaded.pop("lm_head.weight", None)  # tied to the embedding, which is stored too
    check_fits(folder, KINDS["gpt"], config, {k: tuple(v.shape) for k, v in loaded.items()})
    check_finite(folder, loaded)
    model = GPT(config)
    model.load_state_dict(loaded, strict=False)
    return model.eval()
