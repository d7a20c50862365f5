"""A translation's cross-attention as half-block heatmaps, one per sentence, redrawn to fit the widget's width."""
from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from core.translate.attention_plot import attention_heatmap


class AttentionView(Widget):
    DEFAULT_CSS = """
    AttentionView {
        height: auto;
    }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.sentences = []  # core.translate.translator.SentenceTranslation of the text on show

    def show(self, translation) -> None:
        """`translation`: a core.translate.translator.Translation, or None to clear."""
        self.sentences = [s for s in translation.sentences if s.target_tokens] if translation is not None else []
        self.refresh(layout=True)

    def _heatmaps(self, width: int) -> Text:
        if not self.sentences:
            return Text("The cross-attention of the translation shows here.", style="dim")
        text = Text()
        for i, sentence in enumerate(self.sentences):
            if i:
                text.append("\n\n")
            if len(self.sentences) > 1:
                text.append(f"sentence {i + 1} of {len(self.sentences)}\n", style="bold")
            text.append_text(attention_heatmap(sentence, width))
        return text

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._heatmaps(width).plain.split("\n"))

    def render(self) -> Text:
        return self._heatmaps(self.content_region.width or 80)
