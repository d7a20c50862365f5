"""Sampler settings and the one next-token picker shared by every language model.

The picker reads the settings object at every call, so a change made while a
generation runs (a key press in the app) applies from the next token on.
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


def filtered_probs(logits: torch.Tensor, settings: SamplerSettings,
                   history: torch.Tensor | None = None) -> torch.Tensor:
    """The distribution the next token is drawn from: 1-D probabilities over the vocabulary."""
    import torch

    logits = logits.detach().float().flatten().clone()
    if settings.repetition_penalty != 1.0 and history is not None and history.numel():
        seen = torch.unique(history.flatten().to(logits.device))
        vals = logits[seen]
        logits[seen] = torch.where(vals > 0, vals / settings.repetition_penalty, vals * settings.repetition_penalty)
    if settings.temperature == 0:
        probs = torch.zeros_like(logits)
        probs[logits.argmax()] = 1.0
        return probs
    logits = logits / settings.temperature
    if 0 < settings.top_k < logits.numel():
        kth = torch.topk(logits, settings.top_k).values[-1]
        logits[logits < kth] = float("-inf")
    probs = torch.softmax(logits, dim=-1)
    if settings.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        before = sorted_probs.cumsum(0) - sorted_probs  # mass ranked strictly above each token
        drop = before >= settings.top_p
        probs[order[drop]] = 0.0
    if settings.min_p > 0:
        probs[probs < settings.min_p * probs.max()] = 0.0
    return probs / probs.sum()


class Picker:
    """Draws next tokens with a seeded generator; `seed` is the seed in use."""

    def __init__(self, settings: SamplerSettings):
        import torch

        self.settings = settings
        self.seed = settings.seed if settings.seed is not None else new_seed()
        self.generator = torch.Generator().manual_seed(self.seed)

    def __call__(self, logits: torch.Tensor, history: torch.Tensor | None = None) -> tuple[int, torch.Tensor]:
        """Return (token id, the distribution it was drawn from)."""
        import torch

        wanted = self.settings.seed
        if wanted is not None and wanted != self.seed:  # the user asked for a new seed mid-run
            self.seed = wanted
            self.generator.manual_seed(wanted)
        probs = filtered_probs(logits, self.settings, history).cpu()
        if self.settings.temperature == 0:
            return int(probs.argmax()), probs
        return int(torch.multinomial(probs, 1, generator=self.generator)), probs
