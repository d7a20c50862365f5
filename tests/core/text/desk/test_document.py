"""The document tree: branches, navigation, edits that keep every branch, alternative tokens, undo."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.text.desk.document import (
    CHOICE,
    EDITED,
    GENERATED,
    ROOT,
    WRITTEN,
    Document,
    Piece,
    splice,
)
from core.text.desk.history import History


@pytest.fixture(scope="session")
def story(type_text, generate):
    def story() -> tuple[Document, list]:
        """Typed prompt, then two generations: "The sun| rose over| the hill"."""
        doc = Document()
        type_text(doc, "The sun")
        first = generate(doc, [" rose", " over"])
        second = generate(doc, [" the", " hill"])
        return doc, [doc.root.children[0], first, second]

    return story


def test_branch_text_is_the_document(story):
    doc, (prompt, first, second) = story()
    assert doc.text == "The sun rose over the hill"
    assert [n.kind for n in doc.branch()] == [ROOT, WRITTEN, GENERATED, GENERATED]
    assert doc.branch_text(first) == "The sun rose over"
    assert second.parent is first and first.parent is prompt and prompt.parent is doc.root
    assert [p.prob for p in second.pieces] == [0.5, 0.5]
    assert second.pieces[1].alternatives == ((" hill", 0.5), ("<1a>", 0.3), ("<1b>", 0.2))
    assert second.generation.settings["seed"] == 7 and second.generation.ended == "length"


def test_spans_and_locate_map_offsets_to_tokens(story):
    doc, (prompt, first, second) = story()
    starts = [(pos, node, i) for pos, node, i, _ in doc.spans()]
    assert starts[-2:] == [(17, second, 0), (21, second, 1)]
    assert doc.locate(0) == (prompt, 0)
    assert doc.locate(len("The sun rose")) == (first, 1)   # the space that opens " over"
    assert doc.locate(len(doc.text) - 1) == (second, 1)
    assert doc.locate(len(doc.text)) is None


def test_regenerate_makes_a_sibling_and_navigation_moves_between_them(generate, story):
    doc, (prompt, first, second) = story()
    third = generate(doc, [" a", " cloud"], sibling=True)
    assert third.parent is first and doc.sibling_position() == (2, 2)
    assert doc.text == "The sun rose over a cloud"
    assert doc.go_sibling(-1) and doc.current is second and doc.sibling_position() == (1, 2)
    assert doc.text == "The sun rose over the hill"
    assert not doc.go_sibling(-1)
    assert doc.go_sibling(+1) and doc.current is third
    assert not doc.go_sibling(+1)
    assert doc.go_parent() and doc.current is first and doc.text == "The sun rose over"
    assert doc.go_child() and doc.current is third  # the child last visited, not the first one
    doc.go_to(prompt)
    assert not doc.go_parent()  # the root holds no text: the top node is as far as it goes
    assert doc.go_child() and doc.go_child() and doc.current is third
    assert not doc.go_child()
    doc.go_to(prompt)
    with pytest.raises(ValueError, match="regenerated"):
        doc.start_generation(None, sibling=True)


def test_editing_the_models_text_makes_an_edited_sibling_and_keeps_the_old_branch(story):
    doc, (prompt, first, second) = story()
    at = doc.text.index("rose")
    node = doc.edit(at, at + 4, "sank")
    assert doc.text == "The sun sank over the hill"
    assert node.kind == EDITED and node.parent is prompt and node.source == first.id
    assert doc.sibling_position() == (2, 2)
    # the untouched tokens keep their probabilities; the one cut by the edit is typed text now
    assert [(p.text, p.generated) for p in node.pieces] == [
        (" sank", False), (" over", True), (" the", True), (" hill", True)]
    assert first.text == " rose over" and second.text == " the hill"
    assert doc.go_sibling(-1) and doc.text == "The sun rose over the hill"  # from the end of a branch, to the end


def test_editing_the_prompt_after_generating_keeps_the_generations(story):
    doc, (prompt, _, second) = story()
    doc.edit(0, 3, "A")
    assert doc.text == "A sun rose over the hill"
    assert doc.current.parent is doc.root and len(doc.root.children) == 2
    assert prompt.text == "The sun" and doc.branch_text(second) == "The sun rose over the hill"


def test_typing_after_a_generation_adds_written_text_that_is_then_edited_in_place(type_text, generate, story):
    doc, (_, _, second) = story()
    type_text(doc, ", slowly")
    written = doc.current
    assert written.kind == WRITTEN and written.parent is second and written.text == ", slowly"
    doc.edit(len(doc.text) - 6, len(doc.text), "quickly")  # inside the writer's own leaf: in place
    assert doc.current is written and written.text == ", quickly"
    assert doc.text == "The sun rose over the hill, quickly"
    generate(doc, [" and"])
    doc.edit(len("The sun rose over the hill, q"), len("The sun rose over the hill, qu"), "")
    assert written.text == ", quickly"  # it has a child now: never changed again
    assert doc.current.kind == EDITED and doc.text == "The sun rose over the hill, qickly and"


def test_choosing_an_alternative_token_makes_a_branch_that_generation_continues(generate, story):
    doc, (prompt, first, second) = story()
    choice = doc.choose_alternative(first, 1, 1)  # "<1a>" in place of " over"
    assert choice.kind == CHOICE and choice.parent is prompt and choice.source == first.id
    assert choice.pieces[0] == first.pieces[0]
    assert choice.pieces[1] == Piece("<1a>", 0.3, first.pieces[1].alternatives)
    assert doc.current is choice and doc.text == "The sun rose<1a>"
    after = generate(doc, [" again"])
    assert after.parent is choice and doc.text == "The sun rose<1a> again"
    assert doc.branch_text(second) == "The sun rose over the hill"
    assert doc.fork() is choice and doc.sibling_position(doc.fork()) == (2, 2)  # `after` has no siblings
    assert doc.go_sibling(-1) and doc.current is second  # the other branch, to its end
    assert doc.go_sibling(+1) and doc.current is after
    with pytest.raises(ValueError, match="already"):
        doc.choose_alternative(first, 1, 0)
    with pytest.raises(ValueError, match="typed"):
        doc.choose_alternative(prompt, 0, 0)


def test_undo_and_redo_cover_edits_and_generations(type_text, generate):
    doc = Document()
    type_text(doc, "It was late")
    generate(doc, [" and", " cold"])
    doc.edit(0, 2, "It really")
    states = ["", "It was late", "It was late and cold", "It really was late and cold"]
    assert doc.text == states[3]
    assert doc.undo() and doc.text == states[2]
    assert doc.undo() and doc.text == states[1]
    assert doc.undo() and doc.text == "It was "  # typing is undone a word at a time
    assert doc.undo() and doc.undo() and doc.text == states[0]
    assert not doc.undo()
    for _ in range(3):
        assert doc.redo()
    assert doc.text == states[1]
    assert doc.redo() and doc.text == states[2] and doc.current.kind == GENERATED
    assert doc.redo() and doc.text == states[3]
    assert not doc.redo()
    doc.undo()
    type_text(doc, "!")  # a new change drops what could be redone
    assert not doc.redo() and doc.text == states[2] + "!"


def test_undoing_a_generation_removes_it_and_redo_brings_back_the_same_text(type_text, generate):
    doc = Document()
    type_text(doc, "Go")
    node = generate(doc, [" on", " home"])
    assert doc.undo() and doc.text == "Go" and node.id not in doc.nodes and not doc.current.children
    assert doc.redo() and doc.current is node and doc.text == "Go on home"


def test_typing_groups_into_words_and_backspacing_groups_too(type_text):
    doc = Document()
    type_text(doc, "one two")
    for _ in range(3):
        doc.edit(len(doc.text) - 1, len(doc.text), "")
    assert doc.text == "one "
    assert doc.undo() and doc.text == "one two"
    assert doc.undo() and doc.text == "one "
    assert doc.undo() and doc.text == ""


def test_history_is_bounded_in_steps_and_in_characters():
    doc = Document(History(max_steps=5))
    for word in "abcdefgh":
        doc.edit(len(doc.text), len(doc.text), word + " x")  # pastes: one step each
    assert len(doc.history.done) == 5
    undone = 0
    while doc.undo():
        undone += 1
    assert undone == 5 and doc.text == "a xb xc x"

    doc = Document(History(max_chars=1000))
    doc.edit(0, 0, "x" * 600)
    for _ in range(5):
        doc.edit(0, 600, "y" * 600 if doc.text[0] == "x" else "x" * 600)  # each replaces 600 characters
    assert sum(step.size for step in doc.history.done) <= 1000
    assert 1 <= len(doc.history.done) < 6


def test_replace_text_edits_only_the_stretch_that_differs(story):
    doc, (_, first, _) = story()
    doc.replace_text("The sun rose over the green hill")
    assert doc.text == "The sun rose over the green hill"
    assert doc.current.kind == EDITED and doc.current.parent is first
    assert [(p.text, p.generated) for p in doc.current.pieces] == [(" the", True), (" green hill", False)]


def test_splice_keeps_untouched_tokens_and_merges_typed_text():
    g = [Piece("ab", 0.5), Piece("cd", 0.5), Piece("ef", 0.5)]
    assert splice(g, 2, 2, "X") == [g[0], Piece("X"), g[1], g[2]]
    assert splice(g, 3, 3, "X") == [g[0], Piece("cXd"), g[2]]
    assert splice(g, 1, 5, "") == [Piece("af")]
    assert splice(g, 2, 4, "") == [g[0], g[2]]
    assert splice([Piece("ab"), g[1], Piece("ef")], 2, 4, "") == [Piece("abef")]


EDIT = st.tuples(st.floats(0, 1), st.floats(0, 1), st.text(alphabet="ab \n", max_size=3))


@settings(max_examples=150, deadline=None)
@given(st.lists(EDIT, min_size=1, max_size=12), st.booleans())
def test_any_edits_change_exactly_the_text_and_undo_restores_it(generate, story, edits, regenerate):
    doc, _ = story()
    if regenerate:
        generate(doc, [" a", " b"], sibling=True)
    frozen = {n: doc.branch_text(n) for _, n in doc.walk()}  # nothing below is ever edited in place
    doc.history = History()  # undo goes back to here
    texts = [doc.text]
    for x, y, new in edits:
        old = doc.text
        start, end = sorted((round(x * len(old)), round(y * len(old))))
        doc.edit(start, end, new)
        assert doc.text == old[:start] + new + old[end:]
        texts.append(doc.text)
    for node, text in frozen.items():
        assert doc.branch_text(node) == text
    while doc.undo():
        pass
    assert doc.text == texts[0]
    while doc.redo():
        pass
    assert doc.text == texts[-1]


def test_undoing_a_new_branch_restores_the_way_down(generate, story):
    doc, (_, first, second) = story()
    generate(doc, [" a", " cloud"], sibling=True)
    doc.go_sibling(-1)
    doc.go_parent()
    doc.edit(len(doc.text), len(doc.text), " quickly")  # a third child of `first`
    assert doc.undo() and doc.current is first
    assert doc.go_child() and doc.current is second  # the child visited before, not the newest
