"""Hemingway tab: the GPT trained on Hemingway's prose."""
from tui.panes.text_pane import TextPane


class HemingwayPane(TextPane):
    MODEL = "hemingway"
    TITLE = "Hemingway"
    CHECKPOINT = "hemingway.safetensors"
    TRAIN_COMMAND = "inkhorn train gpt"
    PLACEHOLDER = "A prompt, e.g. The sun also rose  (Enter generates)"
