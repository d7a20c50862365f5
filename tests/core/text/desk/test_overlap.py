"""Spans of a text found verbatim in the training text."""
from __future__ import annotations

import random

import pytest

from core.text.desk.overlap import OverlapIndex, window_hashes


def brute_force(text: str, train: str, span: int) -> list[tuple[int, int]]:
    ranges: list[list[int]] = []
    for i in range(len(text) - span + 1):
        if text[i:i + span] in train:
            if ranges and i <= ranges[-1][1]:
                ranges[-1][1] = i + span
            else:
                ranges.append([i, i + span])
    return [tuple(r) for r in ranges]


def test_copied_spans_are_found_where_they_are():
    rng = random.Random(0)
    train = "".join(rng.choice("abcdefghij klmnopqrstuvwxyz,.\n") for _ in range(20_000))
    fresh = "Ω" * 30 + "§" * 40
    text = fresh + train[5000:5080] + fresh + train[100:150] + train[160:209] + "é" + train[300:420]
    index = OverlapIndex(train)
    found = index.find(text)
    a = len(fresh)
    b = a + 80 + len(fresh)
    assert found == [(a, a + 80), (b, b + 50), (b + 50 + 49 + 1, b + 50 + 49 + 1 + 120)]  # 49 chars: too few
    assert all(text[s:e] in train for s, e in found[:1])


def test_adjacent_windows_merge_into_one_span():
    train = "x" * 10 + "The sun also rises and the old man walks down to the sea at dawn." + "y" * 10
    text = "The sun also rises and the old man walks down to the sea at dawn, slowly."
    assert OverlapIndex(train).find(text) == [(0, 64)]
    assert OverlapIndex(train).find(text[:49]) == []
    assert OverlapIndex("").find(text) == [] and OverlapIndex(train).find("") == []


@pytest.mark.parametrize("seed", range(5))
def test_matches_a_brute_force_search(seed):
    rng = random.Random(seed)
    train = "".join(rng.choice("ab") for _ in range(3000))
    text = "".join(rng.choice("abc") for _ in range(400)) + train[:200]
    for span in (6, 9, 50):
        assert OverlapIndex(train, span).find(text) == brute_force(text, train, span)


def test_hashes_depend_on_every_character_and_its_place():
    text = "".join(random.Random(1).choice("abcdefgh") for _ in range(500))
    hashes = window_hashes(text, 50)
    distinct = {text[i:i + 50] for i in range(451)}
    assert len(hashes) == 451 and len(set(hashes.tolist())) == len(distinct)
    assert window_hashes("ab" + "c" * 48, 50)[0] != window_hashes("ba" + "c" * 48, 50)[0]
    assert window_hashes("short", 50).size == 0


def test_the_catalog_names_the_training_text_each_recipe_reads():
    from core.catalog import MODELS
    from core.train.recipes import ANNA, HEMINGWAY

    assert [str(p) for p in MODELS["hemingway"].training_texts] == [HEMINGWAY.data.train, *HEMINGWAY.data.pretrain]
    assert [str(p) for p in MODELS["anna"].training_texts] == [ANNA.data.train]


def test_training_index_reads_every_corpus_and_never_joins_two(tmp_path, monkeypatch):
    import lzma

    import core.catalog
    from core.text.desk.overlap import training_index

    (tmp_path / "hemingway").mkdir()
    (tmp_path / "anna").mkdir()
    (tmp_path / "en-fr").mkdir()
    first = "".join(random.Random(1).choice("abcdefgh ") for _ in range(400))
    second = "".join(random.Random(2).choice("abcdefgh ") for _ in range(400))
    (tmp_path / "hemingway" / "train.txt.xz").write_bytes(lzma.compress(first.encode()))
    (tmp_path / "anna" / "train.txt.xz").write_bytes(lzma.compress(second.encode()))
    (tmp_path / "en-fr" / "train.tsv.xz").write_bytes(lzma.compress("The cat sleeps.\tLe chat dort.\n".encode()))
    monkeypatch.setattr(core.catalog, "ASSETS", tmp_path)
    index = training_index("hemingway")
    assert index.find("x" + second[100:160] + "x") == [(1, 61)]
    assert index.find(first[-30:] + second[:30]) == []  # the two texts were never one
    assert "Le chat" not in index.train_text and "The cat sleeps." in index.train_text  # English side only
