"""Model definitions, one file per model, each readable top to bottom."""
