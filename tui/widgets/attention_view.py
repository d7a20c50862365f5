"""A translation's cross-attention as a half-block heatmap, redrawn to fit the widget's width."""
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
        self.translation = None  # core.translate.Translation on show, if it has attention

    def show(self, translation) -> None:
        self.translation = translation if translation is not None and translation.target_tokens else None
        self.refresh(layout=True)

    def _heatmap(self, width: int) -> Text:
        if self.translation is None:
            return Text("The cross-attention of the translation shows here.", style="dim")
        return attention_heatmap(self.translation, width)

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._heatmap(width).plain.split("\n"))

    def render(self) -> Text:
        return self._heatmap(self.content_region.width or 80)
