"""Stop strings and banned phrases: what a generation loop needs, as plain objects without torch."""
from __future__ import annotations

from typing import Iterable, Protocol, Sequence


class Encoder(Protocol):
    def encode(self, text: str) -> list[int]: ...


class StopStrings:
    """Generation ends when its text contains one of these (e.g. "\\n\\n", the end of a paragraph);
    the text is kept up to where the stop string begins."""

    def __init__(self, stops: Iterable[str]):
        self.stops = [s for s in dict.fromkeys(stops) if s]

    def find(self, text: str, start: int = 0) -> int | None:
        """Where the earliest stop string in `text` begins, looking only at occurrences that end
        after `start` (the length the text had at the last check); None if there is none."""
        found = [i for s in self.stops if (i := text.find(s, max(0, start - len(s) + 1))) >= 0]
        return min(found, default=None)


class BannedPhrases:
    """Words or phrases the model may not write, as the token sequences that spell them (as given
    and after a space, the way a word inside a sentence is spelled). Before each draw, the token
    that would complete a sequence is blocked; a one-token word is blocked always."""

    def __init__(self, tokenizer: Encoder, phrases: Iterable[str]):
        sequences = set()
        for phrase in phrases:
            if not phrase.strip():
                continue
            variants = [phrase] if phrase[0].isspace() else [phrase, " " + phrase]
            sequences.update(tuple(ids) for v in variants if (ids := tokenizer.encode(v)))
        self.sequences = sorted(sequences)
        self._last: dict[tuple[int, ...], set[int]] = {}  # the tokens before the last -> the last ones
        for seq in self.sequences:
            self._last.setdefault(seq[:-1], set()).add(seq[-1])
        self._lengths = sorted({len(prefix) for prefix in self._last})

    def blocked(self, history: Sequence[int]) -> set[int]:
        """The tokens that may not come next after the token ids `history` (prompt and text so far)."""
        out: set[int] = set()
        for n in self._lengths:
            if n <= len(history):
                out |= self._last.get(tuple(history[len(history) - n:]), set())
        return out

    def apply(self, logits, history: Sequence[int]):
        """Set the logits (a 1-D torch tensor or numpy array) of blocked tokens to -inf, in place."""
        blocked = self.blocked(history)
        if blocked:
            logits[sorted(blocked)] = float("-inf")
        return logits


class Banning:
    """A decoder (see core.text.generate.Decoder) whose logits never let a banned phrase be completed,
    so core.text.generate.stream and stream_siblings run over it unchanged; blocked tokens get
    probability 0 and so never show up among a step's alternatives either."""

    def __init__(self, decoder, banned: BannedPhrases):
        self.decoder = decoder
        self.banned = banned
        self.histories: list[list[int]] = [[]]  # per row: the prompt and every token fed since

    @property
    def history(self) -> list[int]:
        """The first row's history: the only row, but while sibling continuations run."""
        return self.histories[0]

    def prefill(self, ids: list[int]):
        self.histories = [list(ids)]
        return self.banned.apply(self.decoder.prefill(ids), self.history)

    def advance(self, token: int):
        self.history.append(token)
        return self.banned.apply(self.decoder.advance(token), self.history)

    def fork(self, n: int) -> None:
        self.decoder.fork(n)
        self.histories = [list(self.history) for _ in range(n)]

    def keep(self, rows: list[int]) -> None:
        self.decoder.keep(rows)
        self.histories = [self.histories[row] for row in rows]

    def advance_rows(self, tokens):
        logits = self.decoder.advance_rows(tokens)
        for history, token, row in zip(self.histories, tokens.tolist(), logits):
            history.append(token)
            self.banned.apply(row, history)
        return logits
