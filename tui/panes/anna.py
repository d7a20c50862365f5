"""Anna tab: the LSTM trained on Anna Karenina."""
from tui.panes.text_pane import TextPane


class AnnaPane(TextPane):
    MODELS = ("anna",)
    PLACEHOLDER = "Write here, e.g. Happy families, then press ctrl+g and the novel goes on."
