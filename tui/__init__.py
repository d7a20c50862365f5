"""Inkhorn's terminal app (Textual). Importing it must stay cheap: torch loads in workers."""
