"""Anna tab: the LSTM trained on Anna Karenina."""
from tui.panes.text_pane import TextPane


class AnnaPane(TextPane):
    MODEL = "anna"
    TITLE = "Anna"
    CHECKPOINT = "anna.safetensors"
    TRAIN_COMMAND = "inkhorn train lstm"
    PLACEHOLDER = "A prompt, e.g. Happy families  (Enter generates)"
