"""A writer's document: a tree of text spans whose current branch is the text on screen.

Each node holds a run of pieces: generated tokens (with their probability and the alternatives
of their step) or text the writer typed. A generation is a child of the node it continued from;
regenerating adds a sibling. The root is empty and never shown, so that even the writer's first
words can have siblings.

A node with children is never changed again, because its text is the prompt its children were
generated from, and the model's own tokens are never rewritten. So an edit works like this:
- the writer's own text at the tip of the branch (a leaf) is edited in place;
- typing at the very end of the text adds a written child (or extends the one the writer is in);
- any other edit makes a new "edited" sibling of the first node it touches, holding that node's
  text up to the edit, the new text, and everything after it to the end of the branch, each
  untouched token still carrying its probability and alternatives. The old branch stays as it
  was, one sibling away.
Every change is one undo step (see core/desk/history.py); moving around the tree is not.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from core.text.desk.history import AddNode, History, Splice, Typing

ROOT, WRITTEN, GENERATED, EDITED, CHOICE = "root", "written", "generated", "edited", "choice"
KINDS = (ROOT, WRITTEN, GENERATED, EDITED, CHOICE)
RUN = 256  # adjacent typed pieces merge up to this length, so typing inside a long paste stays cheap


@dataclass(frozen=True)
class Piece:
    """A generated token with its probability and the top alternatives of its step (text, probability),
    or text the writer typed (prob None)."""
    text: str
    prob: float | None = None
    alternatives: tuple[tuple[str, float], ...] = ()

    @property
    def generated(self) -> bool:
        return self.prob is not None


@dataclass
class Generation:
    """What replays a generated node exactly. The prompt is the text of the branch above the node,
    which cannot change once the node exists."""
    model: str
    model_sha256: str
    settings: dict                  # SamplerSettings.to_dict() at the first token, "seed" the seed used
    device: str
    stop: list[str] = field(default_factory=list)
    banned: list[str] = field(default_factory=list)
    changes: list[tuple[int, dict]] = field(default_factory=list)  # (token index, settings from there on)
    ended: str = ""                 # "length", "stop" or "cancelled"; "" while it runs


@dataclass(eq=False)
class Node:
    id: int
    kind: str
    pieces: list[Piece] = field(default_factory=list)
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    generation: Generation | None = None
    source: int | None = None       # the node an edited or choice node was made from
    focus: Node | None = None       # the child last on the current branch: where "down" goes

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces)

    @property
    def editable(self) -> bool:
        """Edited in place: the writer's own text that nothing was generated from."""
        return self.kind in (WRITTEN, EDITED) and not self.children


def splice(pieces: list[Piece], start: int, end: int, text: str) -> list[Piece]:
    """`pieces` with characters [start, end) replaced by `text`. Tokens the edit does not touch
    keep their probabilities; a token cut by it becomes typed text."""
    before: list[Piece] = []
    after: list[Piece] = []
    head = tail = ""
    pos = 0
    for piece in pieces:
        s, e = pos, pos + len(piece.text)
        pos = e
        if s < end and e > start:  # cut or covered by the edit (an insertion: strictly inside it)
            if s < start:
                head = piece.text[:start - s]
            if e > end:
                tail = piece.text[end - s:]
        elif e <= start:
            before.append(piece)
        else:
            after.append(piece)
    typed = [Piece(t) for t in (head, text, tail) if t]
    out = before
    for piece in typed + after[:1]:
        if out and not out[-1].generated and not piece.generated and len(out[-1].text) + len(piece.text) <= RUN:
            out[-1] = Piece(out[-1].text + piece.text)
        else:
            out.append(piece)
    return out + after[1:]


class Document:
    def __init__(self, history: History | None = None):
        self.root = Node(0, ROOT)
        self.nodes: dict[int, Node] = {0: self.root}
        self.current = self.root
        self.next_id = 1
        self.history = history if history is not None else History()

    # --- reading -----------------------------------------------------------------------------

    def branch(self, node: Node | None = None) -> list[Node]:
        """The nodes from the root down to `node` (default: the current node), root included."""
        node = node if node is not None else self.current
        path = []
        while node is not None:
            path.append(node)
            node = node.parent
        return path[::-1]

    def branch_text(self, node: Node | None = None) -> str:
        """The text from the top down to the end of `node`: the document, or a generation's prompt."""
        return "".join(n.text for n in self.branch(node))

    @property
    def text(self) -> str:
        return self.branch_text()

    def spans(self) -> Iterator[tuple[int, Node, int, Piece]]:
        """(offset in the text, node, index in the node, piece) for every piece of the current branch."""
        pos = 0
        for node in self.branch():
            for index, piece in enumerate(node.pieces):
                yield pos, node, index, piece
                pos += len(piece.text)

    def locate(self, offset: int) -> tuple[Node, int] | None:
        """The node and piece index holding the character at `offset` of the text."""
        for pos, node, index, piece in self.spans():
            if pos <= offset < pos + len(piece.text):
                return node, index
        return None

    def walk(self) -> Iterator[tuple[int, Node]]:
        """(depth, node) for every node but the root, parents before children, siblings in order."""
        stack = [(0, child) for child in reversed(self.root.children)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(node.children))

    # --- moving around -----------------------------------------------------------------------

    def go_to(self, node: Node) -> None:
        """Make `node` current; each node above it remembers the way down."""
        self.current = node
        while node.parent is not None:
            node.parent.focus = node
            node = node.parent
        self.history.seal()

    def siblings(self, node: Node | None = None) -> list[Node]:
        node = node if node is not None else self.current
        return node.parent.children if node.parent is not None else [node]

    def sibling_position(self, node: Node | None = None) -> tuple[int, int]:
        """(1-based place, count) among the siblings, shown as "2/5"."""
        node = node if node is not None else self.current
        siblings = self.siblings(node)
        return siblings.index(node) + 1, len(siblings)

    def fork(self) -> Node:
        """Where the current branch last parted from another: the current node, or the nearest node
        above it that has siblings (the continuation of a word taken has none of its own)."""
        node = self.current
        while node.parent is not None and node.parent is not self.root and len(self.siblings(node)) == 1:
            node = node.parent
        return node

    def go_sibling(self, step: int) -> bool:
        """To the next branch at the fork above; from the end of a branch, to the end of that one."""
        fork, at_end = self.fork(), not self.current.children
        siblings = self.siblings(fork)
        index = siblings.index(fork) + step
        if not 0 <= index < len(siblings):
            return False
        self.go_to(siblings[index])
        while at_end and self.current.focus in self.current.children:
            self.go_to(self.current.focus)
        return True

    def go_parent(self) -> bool:
        """Up one node; the top node of a branch is as far as it goes (the root holds no text)."""
        parent = self.current.parent
        if parent is None or parent is self.root:
            return False
        self.go_to(parent)
        return True

    def go_child(self) -> bool:
        """Down one node: the child last visited, else the newest."""
        node = self.current
        if not node.children:
            return False
        self.go_to(node.focus if node.focus in node.children else node.children[-1])
        return True

    # --- changes: each one an undo step ------------------------------------------------------

    def _add(self, kind: str, parent: Node, pieces: list[Piece], typing: Typing | None = None,
             **fields) -> Node:
        node = Node(self.next_id, kind, pieces, parent, **fields)
        self.next_id += 1
        step = AddNode(node, len(parent.children), self.current, parent.focus, typing)
        parent.children.append(node)
        self.nodes[node.id] = node
        self.go_to(node)
        self.history.push(step)
        return node

    def start_generation(self, generation: Generation, sibling: bool = False) -> Node:
        """A new, empty generated node that tokens are then appended to: a child of the current
        node (continue) or, with `sibling`, a sibling of the current generated node (regenerate)."""
        parent = self.current
        if sibling:
            if self.current.kind != GENERATED:
                raise ValueError("only a generated text can be regenerated")
            parent = self.current.parent
        return self._add(GENERATED, parent, [], generation=generation)

    def choose_alternative(self, node: Node, index: int, alternative: int) -> Node:
        """A sibling of `node` that keeps its first `index` pieces and then takes alternative number
        `alternative` of piece `index`; a generation continues from it."""
        piece = node.pieces[index]
        if not piece.generated:
            raise ValueError("the writer typed this text: there are no alternatives to it")
        text, prob = piece.alternatives[alternative]
        if text == piece.text:
            raise ValueError(f"{text!r} is already the token there")
        chosen = Piece(text, prob, piece.alternatives)
        return self._add(CHOICE, node.parent, node.pieces[:index] + [chosen], source=node.id)

    def edit(self, start: int, end: int, text: str) -> Node:
        """Replace characters [start, end) of the document text with `text`; return the node that
        is current afterwards (see the module docstring for where the change goes)."""
        branch = self.branch()
        starts = [0]
        for node in branch:
            starts.append(starts[-1] + len(node.text))
        total = starts[-1]
        if not 0 <= start <= end <= total:
            raise ValueError(f"edit [{start}, {end}) is outside the text (0 to {total})")
        if start == end and not text:
            return self.current
        k = len(branch) - 1 if start == total else next(i for i, n in enumerate(branch)
                                                         if starts[i] <= start < starts[i + 1])
        typing = Typing.of(start, end, text)
        node = branch[k]
        if node is self.current and node.editable:
            offset = starts[k]
            after = splice(node.pieces, start - offset, end - offset, text)
            step = self.history.grows(node, start, end, text)
            if step is None:
                self.history.push(Splice(node, node.pieces, after, typing))
            else:
                if isinstance(step, Splice):
                    step.after = after
                step.typing = typing
            node.pieces = after
            return node
        if start == total:
            return self._add(WRITTEN, self.current, [Piece(text)], typing)
        rest = [piece for n in branch[k:] for piece in n.pieces]
        pieces = splice(rest, start - starts[k], end - starts[k], text)
        return self._add(EDITED, node.parent, pieces, typing, source=node.id)

    def replace_text(self, new: str) -> Node:
        """Make the document text `new`, as one edit of the stretch that differs."""
        old = self.text
        start = 0
        limit = min(len(old), len(new))
        while start < limit and old[start] == new[start]:
            start += 1
        end = 0
        while end < limit - start and old[-1 - end] == new[-1 - end]:
            end += 1
        return self.edit(start, len(old) - end, new[start:len(new) - end])

    def undo(self) -> bool:
        return self.history.undo(self)

    def redo(self) -> bool:
        return self.history.redo(self)
