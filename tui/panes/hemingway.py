"""Hemingway tab: the GPT trained on Hemingway's prose."""
from tui.panes.text_pane import TextPane


class HemingwayPane(TextPane):
    MODELS = ("hemingway",)
    PLACEHOLDER = "Write here, e.g. The sun also rose, then press ctrl+g and Hemingway goes on."
