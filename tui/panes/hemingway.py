"""Hemingway tab: the GPT trained on Hemingway's prose."""
from tui.panes.text_pane import TextPane


class HemingwayPane(TextPane):
    MODELS = ("hemingway",)
    PLACEHOLDER = "A prompt, e.g. The sun also rose  (Enter generates)"
