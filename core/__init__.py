"""Inkhorn core: models, tokenizers, sampling, training and evaluation (no UI)."""

__version__ = "0.1.0"
