"""Anna tab: the LSTM trained on Anna Karenina."""
from tui.panes.text_pane import TextPane


class AnnaPane(TextPane):
    MODELS = ("anna",)
    PLACEHOLDER = "A prompt, e.g. Happy families  (Enter generates)"
