"""Building documents in tests: generations recorded from hand-made steps, as the app records real ones."""
from __future__ import annotations

from core.desk.document import Document, Generation, Node
from core.desk.recorder import Recorder
from core.generate import Candidate, Step
from core.sampling import SamplerSettings


def generation(stop=()) -> Generation:
    return Generation("hemingway", "ab" * 32, SamplerSettings(seed=7).to_dict(), "cpu", stop=list(stop))


def steps(tokens: list[str], seed: int = 7) -> list[Step]:
    """One step per token; each step's alternatives are the token and two others."""
    return [Step(text, i, 0.5, [Candidate(text, 0.5), Candidate(f"<{i}a>", 0.3), Candidate(f"<{i}b>", 0.2)], i, seed)
            for i, text in enumerate(tokens)]


def generate(doc: Document, tokens: list[str], sibling: bool = False, stop=()) -> Node:
    node = doc.start_generation(generation(stop), sibling=sibling)
    recorder = Recorder(node, SamplerSettings(seed=7))
    for step in steps(tokens):
        if not recorder.add(step):
            break
    recorder.finish()
    return node


def type_text(doc: Document, text: str, at: int | None = None) -> None:
    """Type `text` one key at a time at offset `at` (default: the end)."""
    pos = len(doc.text) if at is None else at
    for ch in text:
        doc.edit(pos, pos, ch)
        pos += 1
