"""core/translate/language.py: a warning for text that is not English, never for plain English."""
import pytest

from core.catalog import asset
from core.translate.evaluate import group_references, read_pairs
from core.translate.language import foreign_language, language_warning


@pytest.mark.parametrize("text, language", [("Wie geht es dir heute?", "German"), ("Je suis très fatigué ce soir.", "French"),
                                            ("我爱你", "Chinese"), ("¿Dónde está la estación de tren?", "Spanish")])
def test_other_languages_are_named(text, language):
    found = foreign_language(text)
    assert found is not None and found[0] == language and 0.5 <= found[1] <= 1
    assert language_warning(text).startswith(f"this looks like {language}")


def test_english_as_people_type_it_is_never_flagged():
    for text in ("Hello", "Hi", "ok", "Thanks", "good morning", "how are you", "I like cats", "Tom is vulgar.",
                 "He is heroic.", "Hands off."):
        assert language_warning(text) is None, text
    sources, _ = group_references(read_pairs(asset("en-fr", "valid.tsv.xz")))
    assert [s for s in sources[:400] if foreign_language(s)] == []
