"""A tiny random GPT-2 folder as Hugging Face writes one, built in a second without any download:
a byte-level BPE trained here on a few sentences (with accents and curly quotes, so some tokens hold
half a character), and a GPT2LMHeadModel with non-trivial weights."""
from __future__ import annotations

from pathlib import Path

import torch
from conftest import TINY_TEXT

TEXT = TINY_TEXT + "Café, naïve déjà vu — “Où est la gare ?” Ça va. Über straße.\n\n" * 20


def write_gpt2_folder(folder: Path, tokenizer: str = "tokenizer.json", weights: str = "safetensors",
                      n_positions: int = 64):
    """Writes the folder and returns the transformers model it holds. `tokenizer`: "tokenizer.json" or
    "vocab+merges"; `weights`: "safetensors" or "bin"."""
    import transformers
    from tokenizers import ByteLevelBPETokenizer

    folder.mkdir(parents=True, exist_ok=True)
    tok = ByteLevelBPETokenizer()
    tok.train_from_iterator(TEXT.split("\n\n"), vocab_size=320, min_frequency=2, special_tokens=["<|endoftext|>"],
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


def hf_tokenizer(folder: Path):
    """transformers' own reading of the folder's tokenizer files, to compare ours with."""
    import transformers

    return transformers.AutoTokenizer.from_pretrained(folder)
