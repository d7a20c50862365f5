"""One trainer per model on a shared loop (core/train/loop.py)."""
