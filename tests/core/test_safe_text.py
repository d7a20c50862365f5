"""The one sanitiser for terminal output: escape sequences whole, controls, bidi controls, surrogates, input bytes."""
import pytest

from core.safe_text import TerminalFilter, clean, decode_input, pictured, terminal_safe

HOSTILE = [
    ("x\x1b]2;TITLE\x07y", "xy"),                       # OSC set-title, BEL-terminated
    ("x\x1b]52;c;aGk=\x1b\\y", "xy"),                   # OSC 52 clipboard write, ST-terminated
    ("\x1b]8;;http://e.vil\x1b\\link\x1b]8;;\x1b\\", "link"),  # hyperlink
    ("a\x1b[2J\x1b[1;1Hb", "ab"),                       # clear screen, cursor home
    ("a\x1b[31;1mred\x1b[0m", "ared"),
    ("a\x1bP1$tx\x1b\\b", "ab"),                        # DCS
    ("a\x1b_apc\x1b\\b", "ab"),                         # APC
    ("a\x9b31mb", "ab"),                                # 8-bit CSI
    ("a\x9d0;t\x9cb", "ab"),                            # 8-bit OSC ended by 8-bit ST
    ("a\x1bcb", "acb"),                                 # ESC c (reset) loses its ESC
    ("a\x00b\x08c\x7fd\x85e", "abcde"),                 # C0, DEL, C1
    ("abc\u202edcba\u202c", "abcdcba"),                 # right-to-left override
    ("x\u2066y\u2067z\u2068w\u2069", "xyzw"),           # isolates
    ("line\r\nnext\rover", "line\nnextover"),           # CR LF kept as LF, a lone CR (overwrites a line) goes
    ("tab\tand\nnewline", "tab\tand\nnewline"),
    ("Café — “naïve” 日本", "Café — “naïve” 日本"),
]


@pytest.mark.parametrize("text, safe", HOSTILE)
def test_escape_sequences_and_controls_are_removed_whole(text, safe):
    assert terminal_safe(text) == safe


@pytest.mark.parametrize("text, _", HOSTILE)
def test_pictured_shows_what_it_would_remove_one_for_one(text, _):
    shown = pictured(text)
    assert len(shown) == len(text) and terminal_safe(shown) == shown
    assert [a for a, b in zip(text, shown) if a != b] == [c for c in text if terminal_safe(c) != c]


def test_pictured_names_the_controls():
    assert pictured("a\x1b[2J\rb\x7f\u202e\udcff\n\t") == "a␛[2J␍b␡\ufffd\ufffd\n\t"


def test_clean_counts_what_it_removed():
    assert clean("a\x07b\x1b[0mc") == ("abc", 5)
    assert clean("plain") == ("plain", 0)


def test_lone_surrogates_become_replacement_characters():
    assert terminal_safe("a\udcffb\ud800") == "a\ufffdb\ufffd"
    terminal_safe("a\udcffb").encode("utf-8")  # now writable to any UTF-8 terminal


@pytest.mark.parametrize("text, safe", HOSTILE)
def test_a_sequence_cut_into_pieces_is_still_removed_whole(text, safe):
    for size in (1, 2, 3):
        f = TerminalFilter()
        out = "".join(f.feed(text[i:i + size]) for i in range(0, len(text), size)) + f.close()
        assert out == safe, (size, out)


def test_an_unended_sequence_is_let_go_as_text_not_held_forever():
    f = TerminalFilter()
    shown = f.feed("a\x1b]2;" + "x" * 600)  # longer than any real sequence
    assert "\x1b" not in shown and shown.startswith("a]2;xxx")
    f = TerminalFilter()
    assert f.feed("a\x1b]2;ti") == "a" and f.close() == "]2;ti"


def test_invalid_input_bytes_are_replaced_with_a_note():
    text, notes = decode_input(b"ok \xff\xfe end \xe2\x82")
    assert text == "ok \ufffd\ufffd end \ufffd" and "3 invalid byte sequence(s)" in notes[0]
    assert decode_input("already text") == ("already text", [])
    assert decode_input(b"caf\xc3\xa9 \xef\xbf\xbd") == ("café \ufffd", [])  # a real U+FFFD is no error


def test_command_line_text_with_undecodable_bytes_is_replaced():
    argv = b"caf\xc3\xa9 \xff".decode("utf-8", "surrogateescape")  # how Python hands over such an argument
    text, notes = decode_input(argv)
    assert text == "café \ufffd" and notes
