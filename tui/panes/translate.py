"""Translate tab: the translator has not landed yet."""
from tui.panes.not_landed import NotLandedPane


class TranslatePane(NotLandedPane):
    TITLE = "Translate"
    CHECKPOINTS = ["translator.safetensors"]
    COMMANDS = ["inkhorn train translator"]
