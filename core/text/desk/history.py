"""Undo and redo over a document's changes: one linear list of steps, bounded in count and size.

A step knows how to take itself back and to do itself again. Steps hold node objects and lists
of immutable pieces, never copies of the text, so a step costs memory only for what it replaced.
Typing is grouped: letters typed one after another form one step until a space or newline ends
a word; deleting letter by letter groups the same way.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.text.desk.document import Document, Node, Piece

MAX_STEPS = 500
MAX_CHARS = 2_000_000  # text held only by the history (replaced pieces), beyond the document itself


@dataclass
class Typing:
    """Where a one-letter edit left the caret, so the next letter can join its step."""
    caret: int
    letter: str  # the letter typed, "" for a deletion

    @classmethod
    def of(cls, start: int, end: int, text: str) -> Typing | None:
        """The typing an edit is, if it is one key: a letter typed, or one deleted."""
        if len(text) == 1 and start == end:
            return cls(start + 1, text)
        if not text and end - start == 1:
            return cls(start, "")
        return None

    def continued_by(self, start: int, end: int, text: str) -> bool:
        if len(text) == 1 and start == end == self.caret:
            return not (self.letter.isspace() and not text.isspace())  # a new word starts a new step
        return not text and end - start == 1 and self.letter == "" and self.caret in (start, end)


@dataclass(eq=False)
class AddNode:
    """A node added to the tree (a generation, an alternative token, an edit's new branch).
    Redo puts back the same object, with the text it had when it was undone."""
    node: Node
    index: int           # its place among its parent's children
    before: Node         # the current node before the step
    focus: Node | None   # the parent's way down before the step
    typing: Typing | None = None

    size = 0  # the node lives in the tree while this step can be undone

    def undo(self, doc: Document) -> None:
        parent = self.node.parent
        parent.children.remove(self.node)
        del doc.nodes[self.node.id]
        doc.go_to(self.before)
        if parent.focus is self.node:
            parent.focus = self.focus

    def redo(self, doc: Document) -> None:
        self.node.parent.children.insert(self.index, self.node)
        doc.nodes[self.node.id] = self.node
        doc.go_to(self.node)


@dataclass(eq=False)
class Splice:
    """The writer's text at the tip of a branch, edited in place."""
    node: Node
    before: list[Piece]
    after: list[Piece]
    typing: Typing | None = None

    @property
    def size(self) -> int:
        kept = {id(p) for p in self.after}
        return sum(len(p.text) for p in self.before if id(p) not in kept)

    def undo(self, doc: Document) -> None:
        self.node.pieces = list(self.before)
        doc.go_to(self.node)

    def redo(self, doc: Document) -> None:
        self.node.pieces = list(self.after)
        doc.go_to(self.node)


class History:
    def __init__(self, max_steps: int = MAX_STEPS, max_chars: int = MAX_CHARS):
        self.done: deque[AddNode | Splice] = deque()
        self.undone: list[AddNode | Splice] = []
        self.max_steps = max_steps
        self.max_chars = max_chars
        self.open = False  # the last step may still grow (typing goes on)

    def push(self, step: AddNode | Splice) -> None:
        self.done.append(step)
        self.undone.clear()
        self.open = True
        self._trim()

    def _trim(self) -> None:
        """Forget the oldest steps beyond the bounds; what they did stays in the document."""
        size = sum(step.size for step in self.done)
        while len(self.done) > self.max_steps or (size > self.max_chars and len(self.done) > 1):
            size -= self.done.popleft().size

    def grows(self, node: Node, start: int, end: int, text: str) -> AddNode | Splice | None:
        """The last step, if this edit of `node` is more of the same typing."""
        if not self.open or not self.done:
            return None
        last = self.done[-1]
        if last.node is node and last.typing is not None and last.typing.continued_by(start, end, text):
            return last
        return None

    def seal(self) -> None:
        self.open = False

    def undo(self, doc: Document) -> bool:
        if not self.done:
            return False
        step = self.done.pop()
        step.undo(doc)
        self.undone.append(step)
        self.open = False
        return True

    def redo(self, doc: Document) -> bool:
        if not self.undone:
            return False
        step = self.undone.pop()
        step.redo(doc)
        self.done.append(step)
        self.open = False
        return True
