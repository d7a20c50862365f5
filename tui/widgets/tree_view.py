"""The tree of a document, compactly: one line per run of text between two forks, indented by how
many forks lie above it, so a long chain of continuations is one line and every branch shows.

Moving the highlight shows that branch in the document at once; Enter goes back to writing there.
"""
from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from core.text.desk.document import Document, Node
from tui.widgets.desk_editor import common_prefix, printable
from tui.widgets.in_order import KeysInOrder

MAX_INDENT = 6
FALLBACK_WIDTH = 28  # before the first layout: the panel's width at 80 columns
SCROLLBAR = 2  # a line never runs under the scrollbar, or the list would wrap it
_SPACES = re.compile(r"\s+")


def runs(doc: Document) -> list[tuple[int, list[Node]]]:
    """(forks above, nodes) for each run: from a node that has siblings (or is at the top) down
    through every only child, in the order the tree is read."""
    out = []
    stack = [(0, child) for child in reversed(doc.root.children)]
    while stack:
        level, node = stack.pop()
        run = [node]
        while len(run[-1].children) == 1:
            run.append(run[-1].children[0])
        out.append((level, run))
        stack.extend((level + 1, child) for child in reversed(run[-1].children))
    return out


def snippet(doc: Document, node: Node) -> str:
    """The run's first words; an edit or a word choice starts where it parts from the node it was made
    from (the text before is a copy, not what tells it apart)."""
    text = node.text
    source = doc.nodes.get(node.source) if node.source is not None else None
    shared = common_prefix(text, source.text) if source is not None else 0
    words = _SPACES.sub(" ", printable(text[shared:]).replace("\n", "⏎")).strip()
    return ("…" if shared else "") + (words or "(empty)")


class TreeView(KeysInOrder, OptionList):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.runs: list[list[Node]] = []

    def on_mount(self) -> None:
        self.border_title = "branches"

    def fill(self, doc: Document) -> None:
        """List the tree's runs, the one holding the current node highlighted."""
        on_branch = set(map(id, doc.branch()))
        width = (self.content_region.width or FALLBACK_WIDTH) - SCROLLBAR
        options, here = [], None
        self.runs = []
        for level, run in runs(doc):
            first = run[0]
            place, count = doc.sibling_position(first)
            line = Text("  " * min(level, MAX_INDENT))
            if doc.current in run:
                here = len(options)
                line.append("▶ ", "bold")
            else:
                line.append("• " if id(first) in on_branch else "  ")
            if count > 1:
                line.append(f"{place}/{count} ", "bold" if id(first) in on_branch else "dim")
            line.append(snippet(doc, first), "" if id(first) in on_branch else "dim")
            line.truncate(width, overflow="ellipsis")
            options.append(Option(line))
            self.runs.append(run)
        self.set_options(options)
        self.highlighted = here

    def run_at(self, index: int | None) -> list[Node] | None:
        return self.runs[index] if index is not None and 0 <= index < len(self.runs) else None
