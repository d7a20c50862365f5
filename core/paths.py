"""Where shipped models live and what they are called; no torch import, so the app paints fast."""
from __future__ import annotations

import os
from pathlib import Path

# name -> (kind, checkpoint file, display title)
TEXT_MODELS = {
    "hemingway": ("gpt", "hemingway.safetensors", "Hemingway"),
    "anna": ("lstm", "anna.safetensors", "Anna"),
}

TRANSLATOR_CHECKPOINT = "en-fr.safetensors"


def checkpoint_dir() -> Path:
    """$INKHORN_CHECKPOINTS, else the checkpoints/ folder shipped beside the code."""
    env = os.environ.get("INKHORN_CHECKPOINTS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "checkpoints"
