"""Latent arithmetic: the face groups, expressions such as 'men_glasses - women_glasses + women_noglasses',
and which group a result should land in. No torch here: numpy arrays and tensors alike go through `combine`."""
from __future__ import annotations

import re
from itertools import permutations
from core.files import is_file
from core.limits import MAX_IMAGES, check_number

# How far 'a - b + c' moves c along a - b by default. The difference of two group means is what
# separates the groups on average, but a single face's latent keeps much of what marks its own group,
# so the plain sum (strength 1) changes the attribute of few faces; the default was chosen on the
# training faces with the attribute judge of `inkhorn eval vae`, which reports every strength.
ARITHMETIC_STRENGTH = 2.0
STRENGTH_RANGE = (-10.0, 10.0)  # past this the result leaves the region of latents the decoder has seen
MAX_EXPRESSION_CHARS = 100_000  # 255 terms of long image paths fit easily

# the VAE checkpoint stores the mean latent of each group of training faces under these names
GROUPS = {
    "men_glasses": {"Male": 1, "Eyeglasses": 1},
    "men_noglasses": {"Male": 1, "Eyeglasses": 0},
    "women_glasses": {"Male": 0, "Eyeglasses": 1},
    "women_noglasses": {"Male": 0, "Eyeglasses": 0},
}


def check_strength(strength: float) -> float:
    return check_number("arithmetic strength", strength, *STRENGTH_RANGE)


def parse_expression(text: str) -> list[tuple[int, str]]:
    """'men_glasses - women_glasses + women_noglasses' -> [(1, 'men_glasses'), (-1, ...), (1, ...)].

    Terms are group names or image paths; spaces around + and - may be left out
    except next to a path that itself holds a '-' or '+'. Each term and the result is a picture,
    so an expression has at most MAX_IMAGES - 1 terms.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"the expression is {len(text):,} characters; at most {MAX_EXPRESSION_CHARS:,} are read")
    pieces: list[str] = []
    for token in text.split():
        if token in ("+", "-") or is_file(token):
            pieces.append(token)
        else:
            pieces += [p for p in re.split(r"([+-])", token) if p]
    terms, sign = [], None
    for piece in pieces:
        if piece in ("+", "-"):
            if sign is not None:
                raise ValueError(f"two operators in a row in {text!r}")
            sign = 1 if piece == "+" else -1
        else:
            if sign is None and terms:
                raise ValueError(f"missing + or - before {piece!r} in {text!r}")
            terms.append((sign or 1, piece))
            sign = None
    if sign is not None:
        raise ValueError(f"{text!r} ends with an operator")
    if not terms:
        raise ValueError("empty expression: write e.g. 'men_glasses - women_glasses + women_noglasses'")
    if len(terms) >= MAX_IMAGES:
        raise ValueError(f"the expression has {len(terms):,} terms and would draw {len(terms) + 1:,} pictures; "
                         f"at most {MAX_IMAGES} pictures are drawn, so at most {MAX_IMAGES - 1} terms")
    return terms


def combine(terms: list[tuple[int, str]], lookup, strength: float = 1.0):
    """The last term moved along the direction the terms before it make, scaled by `strength`:
    'a - b + c' is c + strength * (a - b), the plain sum when strength is 1. Works for numpy arrays
    and torch tensors alike."""
    *direction, (last_sign, last) = terms
    total = lookup(last) * last_sign
    for sign, name in direction:
        total = total + lookup(name) * (sign * strength)
    return total


def intended_group(terms: list[tuple[int, str]]) -> str | None:
    """The group the arithmetic should land in, from the attributes of its group terms (None if it leaves them)."""
    if any(name not in GROUPS for _, name in terms):
        return None
    result = {a: sum(sign * GROUPS[name][a] for sign, name in terms) for a in ("Male", "Eyeglasses")}
    return next((g for g, attrs in GROUPS.items() if attrs == result), None)


def analogies() -> list[tuple[str, str, str, str]]:
    """Every (a, b, c, d) of four different groups with a - b + c = d in attributes: 8 of them."""
    return [(a, b, c, d) for a, b, c in permutations(GROUPS, 3)
            if (d := intended_group([(1, a), (-1, b), (1, c)])) is not None and d not in (a, b, c)]


def expression(a: str, b: str, c: str) -> str:
    return f"{a} - {b} + {c}"
