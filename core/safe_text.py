"""Text made safe to show: everything Inkhorn writes to a terminal or renders in the app passes here.

A prompt, a file name, a checkpoint's metadata and a model's own output can all hold bytes a
terminal obeys: C0 and C1 control characters, escape sequences (CSI, OSC, DCS and the other
string sequences, in their 7-bit ESC form and their 8-bit form) and the bidirectional
embeddings, overrides and isolates that reorder the text around them. They are removed (whole
CSI and string sequences, not just their ESC); newlines and tabs stay. Lone surrogates, which no terminal
encoding can write, become U+FFFD. `TerminalFilter` does the same for text that arrives in
pieces, holding back a sequence cut in two; `pictured` shows each of them as a visible character
instead, one for one, where offsets must not move. `decode_input` turns bytes (or command-line text
that was not valid UTF-8) into text, saying what was replaced.
"""
from __future__ import annotations

import re

# string sequences run to ST (ESC \ or 0x9C); xterm also ends them with BEL
_STRING_BODY = r"[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"               # CSI, e.g. colours, cursor moves
    r"|\x1b[\]PX^_]" + _STRING_BODY +        # OSC (titles, hyperlinks, clipboard), DCS, SOS, PM, APC
    r"|\x9b[0-?]*[ -/]*[@-~]"                # 8-bit CSI
    r"|[\x9d\x90\x98\x9e\x9f]" + _STRING_BODY   # 8-bit OSC, DCS, SOS, PM, APC
)  # the short ones (ESC c, ESC 7, ESC ( B) lose their ESC, which leaves them plain text
# what a sequence cut short at the end of a piece may look like: hold it back until the rest comes
_PARTIAL = re.compile(r"(?:\x1b(?:\[[0-?]*[ -/]*|[\]PX^_][^\x07\x1b\x9c]*\x1b?)?"
                      r"|\x9b[0-?]*[ -/]*|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*\x1b?)\Z")
MAX_HELD = 512  # longer than any sequence a terminal needs; an unended one is let go as plain text
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # embeddings, overrides, isolates
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> tuple[str, int]:
    """(`text` safe for a terminal, how many characters were removed). CR LF becomes LF and a lone
    CR goes (it would let a line overwrite itself); lone surrogates become U+FFFD (not counted)."""
    text = _SURROGATE.sub("\ufffd", text.replace("\r\n", "\n"))
    stripped = _CONTROL.sub("", _SEQUENCE.sub("", text))
    return stripped, len(text) - len(stripped)


def terminal_safe(text: str) -> str:
    """`text` with control characters, escape sequences and bidi controls removed."""
    return clean(text)[0]


def _picture(char: str) -> str:
    code = ord(char)
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd"


def pictured(text: str) -> str:
    """`text` with each character `clean` would remove or replace shown one for one instead: C0 controls
    and DEL as their Unicode pictures (ESC as ␛, so a sequence is shown, not obeyed), C1 and bidi
    controls and lone surrogates as U+FFFD. For an editor, whose offsets must stay the text's."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub(lambda m: _picture(m.group()), text))


class TerminalFilter:
    """`terminal_safe` for text written piece by piece (a model's tokens): a sequence split across
    pieces is removed whole."""

    def __init__(self) -> None:
        self.held = ""

    def feed(self, piece: str) -> str:
        text = self.held + piece
        partial = _PARTIAL.search(text)
        cut = partial.start() if partial and partial.group() and len(text) - partial.start() <= MAX_HELD \
            else len(text)
        if text[cut - 1:cut] == "\r":  # CR LF may be split too
            cut -= 1
        self.held = text[cut:]
        return terminal_safe(text[:cut])

    def close(self) -> str:
        """What is still held back, made safe (an unended sequence loses its introducer)."""
        held, self.held = self.held, ""
        return terminal_safe(held)


def decode_input(data: bytes | str) -> tuple[str, list[str]]:
    """Bytes from stdin, or command-line text Python decoded with surrogate escapes, as text: invalid
    UTF-8 becomes U+FFFD, with a note saying how many sequences were replaced."""
    if isinstance(data, str):
        if not _SURROGATE.search(data):
            return data, []
        data = data.encode("utf-8", "surrogateescape") if all(
            0xdc80 <= ord(ch) <= 0xdcff for ch in _SURROGATE.findall(data)) else data.encode("utf-8", "surrogatepass")
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    if not bad:
        return text, []
    return text, [f"the input is not valid UTF-8: {bad} invalid byte sequence(s) replaced with \ufffd"]
