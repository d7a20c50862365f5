import pytest

from core.tokenizer import Tokenizer

ROUND_TRIP = [
    "“Hello,” she said. ‘Fine’ — isn’t it?",
    "Paragraph one.\n\nParagraph two.\n\n\nThree newlines.",
    "  leading and   runs of spaces  ",
    "MiXeD CaSe, punctuation!?;:()[]",
    "Unicode: 日本語, émigré, ☃, 🙂, Ω",
    "tab\there\r\n and a bell \x07",
    "",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip(tiny_tokenizer, text):
    assert tiny_tokenizer.decode(tiny_tokenizer.encode(text)) == text


def test_unseen_characters_fall_back_to_bytes(tiny_tokenizer):
    ids = tiny_tokenizer.encode("☃")
    assert len(ids) == 3  # three UTF-8 bytes
    assert tiny_tokenizer.unk_id not in ids


def test_newline_is_one_token(tiny_tokenizer):
    assert len(tiny_tokenizer.encode("\n")) == 1


def test_model_bytes_reload(tiny_tokenizer):
    again = Tokenizer(tiny_tokenizer.model_bytes)
    text = "We walked down the road."
    assert again.encode(text) == tiny_tokenizer.encode(text)
    assert again.vocab_size == tiny_tokenizer.vocab_size == 300
