"""Sampler settings and the one next-token picker shared by every language model.

The picker reads the settings object at every call, so a change made while a
generation runs (a key press in the app) applies from the next token on. It
filters the top-k slice of the logits, not the sorted vocabulary, and draws
every row of a batch with that row's own seeded generator.
torch is imported where it is used, so the app can build its settings bar
before the (slow) import.
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from core.limits import check_int, check_number, check_seed

if TYPE_CHECKING:
    import torch

# Below MIN_TEMPERATURE sampling is greedy in all but name, and logits divided by a tiny temperature
# overflow to inf; past MAX_TEMPERATURE every token is as likely as any other.
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 10.0
MAX_TOP_K = 1_000_000  # more than any vocabulary: the same as off
REPETITION_RANGE = (0.1, 10.0)  # a penalty of 1e-300 or 1e300 turns logits into inf
MAX_NEW_TOKENS = 20_000  # one generation; `c` continues a text past it


@dataclass
class SamplerSettings:
    temperature: float = 0.8        # 0 means greedy
    top_k: int = 40                 # 0 turns it off
    top_p: float = 0.95             # 1.0 turns it off
    min_p: float = 0.0              # 0 turns it off
    repetition_penalty: float = 1.0  # 1.0 turns it off
    max_new_tokens: int = 300
    seed: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    def validate(self) -> "SamplerSettings":
        """Raise ValueError with a plain message for a setting of the wrong type or out of range; the
        command line and the app both call this, so a value is refused in the same words in both."""
        temperature = check_number("temperature", self.temperature, 0.0, MAX_TEMPERATURE)
        if 0 < temperature < MIN_TEMPERATURE:
            raise ValueError(f"temperature must be 0 (greedy) or at least {MIN_TEMPERATURE:g}, not {temperature:g}")
        check_int("top-k", self.top_k, 0, MAX_TOP_K)
        if check_number("top-p", self.top_p, 0.0, 1.0) == 0:
            raise ValueError("top-p must be above 0 (1.0 turns it off)")
        if check_number("min-p", self.min_p, 0.0, 1.0) == 1:
            raise ValueError("min-p must be below 1 (0 turns it off)")
        check_number("repetition penalty", self.repetition_penalty, *REPETITION_RANGE)
        check_int("max new tokens", self.max_new_tokens, 0, MAX_NEW_TOKENS)
        if self.seed is not None:
            check_seed(self.seed)
        return self


def new_seed() -> int:
    return secrets.randbelow(2**31)


@dataclass
class Filtered:
    """The head of each row's next-token distribution after every filter, best first: probabilities
    (zeros where top-p or min-p cut) and token ids, (rows, W) each. Working on the top-k slice spares
    a sort of the whole vocabulary at every token. `tied` (rows,) marks rows where the token after
    the slice ties with its last one: the top-k filter keeps every tie, so their slice must widen."""
    probs: torch.Tensor
    ids: torch.Tensor
    tied: torch.Tensor | None = None


def penalised(logits: torch.Tensor, settings: SamplerSettings, history: torch.Tensor | None = None) -> torch.Tensor:
    """Float logits (rows, V), the tokens in each row of `history` (rows, L) lowered by the repetition
    penalty (through a mask of the vocabulary: no sync with a GPU, however many tokens repeat)."""
    import torch

    logits = logits.reshape(-1, logits.size(-1)).float()
    if settings.repetition_penalty != 1.0 and history is not None:
        seen = torch.zeros_like(logits, dtype=torch.bool)
        seen.scatter_(1, history.reshape(logits.size(0), -1).to(logits.device), True)
        lowered = torch.where(logits > 0, logits / settings.repetition_penalty, logits * settings.repetition_penalty)
        logits = torch.where(seen, lowered, logits)
    return logits


def filtered_top(logits: torch.Tensor, settings: SamplerSettings, history: torch.Tensor | None = None,
                 top_k: int | None = None) -> Filtered:
    """The distribution the next token is drawn from, for logits (rows, V) or (V,). In order: repetition
    penalty over each row of `history` (rows, L), temperature (0: the argmax alone), top-k (`top_k`
    overrides the settings'), top-p, min-p, renormalised."""
    import torch

    logits = penalised(logits, settings, history)
    if settings.temperature == 0:
        ids = logits.argmax(-1, keepdim=True)
        return Filtered(torch.ones(ids.shape, device=logits.device), ids)
    vocab = logits.size(1)
    k = settings.top_k if top_k is None else top_k
    tied = None
    if 0 < k < vocab:  # dividing by the temperature keeps the order: only the slice needs it
        vals, ids = logits.topk(k + 1, dim=-1)
        vals = vals / settings.temperature
        tied = vals[:, k] == vals[:, k - 1]
        vals, ids = vals[:, :k], ids[:, :k]
    else:
        vals, ids = logits.sort(dim=-1, descending=True)
        vals = vals / settings.temperature
    probs = vals.softmax(-1)
    if settings.top_p < 1.0:
        before = probs.cumsum(-1) - probs  # mass ranked strictly above each token
        probs = probs.masked_fill(before >= settings.top_p, 0.0)
    if settings.min_p > 0:
        probs = probs.masked_fill(probs < settings.min_p * probs[:, :1], 0.0)
    return Filtered(probs / probs.sum(-1, keepdim=True), ids, tied)


def _widened(logits: torch.Tensor, settings: SamplerSettings, history: torch.Tensor | None) -> Filtered:
    """One row's distribution with every token tied with the k-th in its slice (rare: one sync more)."""
    scaled = penalised(logits, settings, history) / settings.temperature
    kth = scaled.topk(settings.top_k, dim=-1).values[:, -1:]
    return filtered_top(logits, settings, history, top_k=int((scaled >= kth).sum()))


@dataclass
class Draw:
    """One token per row: on the logits' device (to feed the model without a copy back) and on the host,
    with the probability it had and the row's filtered distribution (probabilities and ids, best first)."""
    tokens: torch.Tensor
    ids: list[int]
    probs: list[float]
    heads: list[tuple[torch.Tensor, torch.Tensor]]


class Picker:
    """Draws one row's next tokens with a seeded generator; `seed` is the seed in use. Without its own
    `seed` it follows settings.seed, so a new seed asked for mid-run applies from the next token."""

    def __init__(self, settings: SamplerSettings, seed: int | None = None):
        self.settings = settings
        self.follows_settings = seed is None
        self.seed = seed if seed is not None else settings.seed if settings.seed is not None else new_seed()
        self.generator: torch.Generator | None = None

    def generator_on(self, device: torch.device) -> torch.Generator:
        import torch

        wanted = self.settings.seed
        if self.follows_settings and wanted is not None and wanted != self.seed:
            self.seed = wanted
            self.generator = None
        if self.generator is None or self.generator.device != device:
            self.generator = torch.Generator(device).manual_seed(self.seed)
        return self.generator

    def __call__(self, logits: torch.Tensor, history: torch.Tensor | None = None) -> Draw:
        return draw([self], logits.reshape(1, -1), None if history is None else history.reshape(1, -1))


def _pick(pickers: list[Picker], probs: torch.Tensor, greedy: bool) -> torch.Tensor:
    """Index (rows, 1) into each row's slice: the first (the argmax) when greedy, else the row's own
    generator's uniform number read through the slice's cumulative distribution (in float64, so the
    number never lands past the last token kept)."""
    import torch

    if greedy:
        return torch.zeros(probs.size(0), 1, dtype=torch.long, device=probs.device)
    cdf = probs.double().cumsum(-1)
    u = [torch.rand(1, dtype=torch.float64, generator=p.generator_on(probs.device), device=probs.device)
         for p in pickers]
    u = u[0] if len(u) == 1 else torch.cat(u)
    return torch.searchsorted(cdf, (u[:, None] * cdf[:, -1:]), right=True)


def draw(pickers: list[Picker], logits: torch.Tensor, history: torch.Tensor | None = None) -> Draw:
    """The next token of every row of logits (rows, V), row i drawn by pickers[i] (all share one settings
    object). The host reads one small tensor per call: the tokens, their probabilities, the ties."""
    import torch

    settings = pickers[0].settings
    top = filtered_top(logits, settings, history)
    picks = _pick(pickers, top.probs, settings.temperature == 0)
    tokens = top.ids.gather(1, picks)[:, 0]
    parts = [tokens, top.probs.gather(1, picks)[:, 0]] + ([top.tied] if top.tied is not None else [])
    host = torch.cat(parts).tolist()
    rows = len(pickers)
    ids, probs = [int(t) for t in host[:rows]], host[rows:2 * rows]
    heads = [(top.probs[row], top.ids[row]) for row in range(rows)]
    for row in range(rows):
        if top.tied is not None and host[2 * rows + row]:
            wide = _widened(logits[row], settings, None if history is None else history[row])
            pick = _pick([pickers[row]], wide.probs, False)
            ids[row], probs[row] = int(wide.ids[0, pick]), float(wide.probs[0, pick])
            heads[row] = (wide.probs[0], wide.ids[0])
            tokens[row] = ids[row]
    return Draw(tokens, ids, probs, heads)
