"""Whether a text is English: a warning for input the English→French model was not made for.

lingua (offline; its models ship inside the package) scores a text against a
set of likely languages. Its fast mode alone wrongly flags about one plain
English sentence in sixty (Tatoeba's valid split: 37 of 2,301), its accurate
mode none, but the accurate mode takes seconds to load. So the fast mode
screens every text, and only a text it takes for another language is checked
again in the accurate mode, which loads on first need. A text too short to
tell ("Hi", "ok") is never flagged.
"""
from __future__ import annotations

import functools

LANGUAGES = ("ENGLISH", "FRENCH", "GERMAN", "SPANISH", "ITALIAN", "PORTUGUESE", "DUTCH", "SWEDISH", "POLISH",
             "TURKISH", "RUSSIAN", "ARABIC", "CHINESE", "JAPANESE", "KOREAN")
MOST_LIKELY = 0.5   # the other language must score at least this...
ENGLISH_AT_MOST = 0.1  # ...and English at most this
MIN_LETTERS = 3


@functools.lru_cache(maxsize=2)
def _detector(accurate: bool):
    from lingua import Language, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_languages(*(getattr(Language, name) for name in LANGUAGES))
    return (builder if accurate else builder.with_low_accuracy_mode()).build()


def _foreign(text: str, accurate: bool) -> tuple[str, float] | None:
    values = _detector(accurate).compute_language_confidence_values(text)
    english = next(v.value for v in values if v.language.name == "ENGLISH")
    top = values[0]
    if top.language.name != "ENGLISH" and top.value >= MOST_LIKELY and english <= ENGLISH_AT_MOST:
        return top.language.name.capitalize(), top.value
    return None


def foreign_language(text: str) -> tuple[str, float] | None:
    """(language, confidence) when `text` is most likely not English, else None."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS or _foreign(text, accurate=False) is None:
        return None
    return _foreign(text, accurate=True)


def language_warning(text: str) -> str | None:
    """A one-line warning for a text that is not English, else None."""
    found = foreign_language(text)
    if found is None:
        return None
    language, confidence = found
    return f"this looks like {language} ({confidence:.0%}), not English: the translator reads English only"
