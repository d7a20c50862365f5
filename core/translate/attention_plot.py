"""Pictures of a translation's cross-attention: a PNG (matplotlib) and a half-block terminal heatmap (Rich).

Rows are the French tokens produced, columns the English tokens read; a cell
is the weight (averaged over heads and layers) the decoder gave that source
token while producing that target token. Neither function imports torch: the
app draws the heatmap on its UI thread.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from core.files import write_exclusive
from core.safe_text import terminal_safe

if TYPE_CHECKING:
    from core.translate.translator import SentenceTranslation

# viridis at five stops: dark for little attention, bright for much, readable on light and dark terminals
_STOPS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
LABEL_WIDTH = 10


def _weights(t: "SentenceTranslation") -> list[list[float]]:
    if t.attention is None or not t.target_tokens:
        raise ValueError("there is no attention to draw: nothing was translated")
    return t.attention.tolist()


def colour(value: float) -> str:
    """Hex colour of `value` in [0, 1] on the viridis ramp."""
    x = min(1.0, max(0.0, value)) * (len(_STOPS) - 1)
    i = min(int(x), len(_STOPS) - 2)
    f = x - i
    rgb = [round(a + (b - a) * f) for a, b in zip(_STOPS[i], _STOPS[i + 1])]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _label(piece: str, width: int) -> str:
    piece = terminal_safe(piece).strip() or "␣"  # a piece is whatever the tokenizer holds
    return piece if len(piece) <= width else piece[:width - 1] + "…"


def attention_heatmap(t: "SentenceTranslation", width: int = 80) -> Text:
    """Half-block heatmap: each text row holds two French tokens, the upper half named on the
    left, the lower half on the right; English tokens head the columns. Brighter = more attention."""
    rows = _weights(t)
    top = max(max(r) for r in rows) or 1.0
    n_src = len(t.source_tokens)
    label = min(LABEL_WIDTH, max(len(_label(p, LABEL_WIDTH)) for p in t.target_tokens))
    room = max(n_src, width - 2 * (label + 1))
    cell = max(1, min(max(len(p.strip()) for p in t.source_tokens) + 1, 8, room // n_src))
    text = Text(no_wrap=True, overflow="crop")
    if cell >= 2:
        header = "".join(_label(p, cell - 1).ljust(cell) for p in t.source_tokens)
        text.append(" " * (label + 1) + header + "\n", style="bold")
    for r in range(0, len(rows), 2):
        upper, lower = rows[r], rows[r + 1] if r + 1 < len(rows) else None
        text.append(_label(t.target_tokens[r], label).rjust(label) + " ", style="bold")
        for c in range(n_src):
            bg = colour(lower[c] / top) if lower is not None else None
            text.append("▀" * cell, style=Style(color=colour(upper[c] / top), bgcolor=bg))
        if lower is not None:
            text.append(" " + _label(t.target_tokens[r + 1], label), style="bold")
        text.append("\n")
    text.append("rows: French (left = upper half, right = lower half) · columns: English", style="dim")
    return text


def save_attention_png(t: "SentenceTranslation", path: str | Path, force: bool = False) -> Path:
    """The heatmap as a PNG with every token labelled; matplotlib's Agg canvas, no display needed. A file
    already at `path` is replaced only with `force` (core/files.py: atomic, never through a link)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = _weights(t)
    escape = lambda p: (p.strip() or "␣").replace("$", r"\$")  # noqa: E731 ($ would start mathtext)
    n_src, n_tgt = len(t.source_tokens), len(t.target_tokens)
    fig = Figure(figsize=(max(4.0, 0.5 * n_src + 2.5), max(3.0, 0.35 * n_tgt + 2.0)), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    image = ax.imshow(rows, cmap="viridis", aspect="auto", vmin=0.0)
    ax.set_xticks(range(n_src), labels=[escape(p) for p in t.source_tokens], rotation=60, ha="right")
    ax.set_yticks(range(n_tgt), labels=[escape(p) for p in t.target_tokens])
    ax.set_xlabel("English tokens read")
    ax.set_ylabel("French tokens produced")
    title = f"{t.source}\n→ {t.text}".replace("$", r"\$")
    ax.set_title(title if len(title) < 160 else title[:157] + "…", fontsize=9, wrap=True)
    fig.colorbar(image, ax=ax, label="cross-attention (mean of heads and layers)")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return write_exclusive(path, buffer.getvalue(), force)
