"""Building documents in tests: generations recorded from hand-made steps, as the app records real ones."""
from __future__ import annotations

import pytest
import torch

from core.text.desk.document import Document, Generation, Node
from core.text.desk.recorder import Recorder
from core.text.generate import Step
from core.text.sampling import SamplerSettings


def _generation(stop=()) -> Generation:
    return Generation("hemingway", "ab" * 32, SamplerSettings(seed=7).to_dict(), "cpu", stop=list(stop))


class _Spelled:
    """Spells the ids of hand-made steps: step i's token is id 3i, its two alternatives 3i + 1 and 3i + 2."""

    def __init__(self, tokens: list[str]):
        self.pieces = [p for i, text in enumerate(tokens) for p in (text, f"<{i}a>", f"<{i}b>")]

    def piece(self, token_id: int) -> str:
        return self.pieces[token_id]


def _steps(tokens: list[str], seed: int = 7) -> list[Step]:
    """One step per token; each step's alternatives are the token and two others."""
    spelled, probs = _Spelled(tokens), torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    return [Step(text, 3 * i, 0.5, i, seed, (probs, torch.arange(3 * i, 3 * i + 3)), spelled)
            for i, text in enumerate(tokens)]


def _generate(doc: Document, tokens: list[str], sibling: bool = False, stop=()) -> Node:
    node = doc.start_generation(_generation(stop), sibling=sibling)
    recorder = Recorder(node, SamplerSettings(seed=7))
    for step in _steps(tokens):
        if not recorder.add(step):
            break
    recorder.finish()
    return node


def _type_text(doc: Document, text: str, at: int | None = None) -> None:
    """Type `text` one key at a time at offset `at` (default: the end)."""
    pos = len(doc.text) if at is None else at
    for ch in text:
        doc.edit(pos, pos, ch)
        pos += 1


@pytest.fixture(scope="session")
def generation():
    """generation(stop=()) -> a Generation record as the app makes one."""
    return _generation


@pytest.fixture(scope="session")
def steps():
    """steps(tokens, seed=7) -> one Step per token, each with the token and two alternatives."""
    return _steps


@pytest.fixture(scope="session")
def generate():
    """generate(doc, tokens, sibling=False, stop=()) -> the node recorded from those tokens."""
    return _generate


@pytest.fixture(scope="session")
def type_text():
    """type_text(doc, text, at=None): type `text` one key at a time."""
    return _type_text
