"""Load a local Hugging Face GPT-2 checkpoint into our GPT, as the seed book does for GPT-2 XL.

Reads config.json plus model.safetensors (or pytorch_model.bin with
weights_only=True) from a folder; nothing is downloaded. GPT-2 stores its
projections as Conv1D, (in, out), so those matrices are transposed.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from core.models.gpt import GPT, GPTConfig

_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def gpt2_config(hf: dict) -> GPTConfig:
    if hf.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
        raise ValueError(f"unsupported activation {hf['activation_function']!r}")
    return GPTConfig(vocab_size=hf["vocab_size"], block_size=hf["n_positions"], n_layer=hf["n_layer"],
                     n_head=hf["n_head"], n_embd=hf["n_embd"], dropout=0.0, bias=True, gelu="tanh",
                     layer_norm_eps=hf.get("layer_norm_epsilon", 1e-5), position="learned")


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    st = folder / "model.safetensors"
    if st.is_file():
        from safetensors.torch import load_file

        return load_file(str(st))
    bin_ = folder / "pytorch_model.bin"
    if bin_.is_file():
        return torch.load(bin_, map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"{folder} has neither model.safetensors nor pytorch_model.bin")


def load_gpt2(folder: str | Path) -> GPT:
    folder = Path(folder)
    config = gpt2_config(json.loads((folder / "config.json").read_text()))
    model = GPT(config)
    ours = model.state_dict()
    loaded = {}
    for name, tensor in _read_weights(folder).items():
        key = name if name.startswith(("transformer.", "lm_head.")) else f"transformer.{name}"
        if key.endswith((".attn.bias", ".attn.masked_bias")):  # causal-mask buffers, not weights
            continue
        if key not in ours:
            raise KeyError(f"unexpected GPT-2 weight {name}")
        if key.endswith(_CONV1D):
            tensor = tensor.t()
        if tensor.shape != ours[key].shape:
            raise ValueError(f"{name}: shape {tuple(tensor.shape)} does not fit {tuple(ours[key].shape)}")
        loaded[key] = tensor
    missing = set(ours) - set(loaded) - set(GPT.tied_weights)
    if missing:
        raise KeyError(f"GPT-2 checkpoint lacks {sorted(missing)[:5]}")
    model.load_state_dict(loaded, strict=False)
    return model.eval()
