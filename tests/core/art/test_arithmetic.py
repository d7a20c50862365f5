"""core/art/arithmetic.py: expressions, their sum with a strength, and the group they should land in."""
import numpy as np
import pytest

from core.art.arithmetic import (
    GROUPS,
    analogies,
    combine,
    intended_group,
    parse_expression,
)


def test_parse_expression():
    expected = [(1, "men_glasses"), (-1, "women_glasses"), (1, "women_noglasses")]
    assert parse_expression("men_glasses - women_glasses + women_noglasses") == expected
    assert parse_expression("men_glasses-women_glasses+women_noglasses") == expected
    assert parse_expression("- men_glasses") == [(-1, "men_glasses")]
    for bad in ("", "a - - b", "a b", "a +"):
        with pytest.raises(ValueError):
            parse_expression(bad)


def test_parse_keeps_image_paths_with_dashes(tmp_path):
    image = tmp_path / "my-face.png"
    image.write_bytes(b"")
    assert parse_expression(f"{image} - men_glasses") == [(1, str(image)), (-1, "men_glasses")]


def test_combine_and_intended_group():
    vectors = {name: np.eye(4)[i] for i, name in enumerate(GROUPS)}
    terms = parse_expression("men_glasses - women_glasses + women_noglasses")
    assert (combine(terms, vectors.__getitem__) == np.array([1, 0, -1, 1])).all()
    # strength moves the last term along the direction the others make, and only that
    assert (combine(terms, vectors.__getitem__, 2.5) == np.array([2.5, 0, -2.5, 1])).all()
    assert (combine([(1, "women_glasses")], vectors.__getitem__, 3.0) == vectors["women_glasses"]).all()
    assert intended_group(terms) == "men_noglasses"
    assert intended_group(parse_expression("men_glasses + men_glasses")) is None
    found = analogies()
    assert len(found) == 8 and ("men_glasses", "women_glasses", "women_noglasses", "men_noglasses") in found
    assert all(len({a, b, c, d}) == 4 for a, b, c, d in found)


