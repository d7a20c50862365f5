"""Every key binding of the app, in one place.

The footer, the command palette and the F1 help screen are all built from these lists, so a
binding added here shows up everywhere.

In a text tab the document has the focus and every printable key types: the desk's commands are
on Ctrl, Alt and function keys that reach the app through SSH and tmux (plain Ctrl+letter, Alt with
a letter or an arrow, F2–F5; not Ctrl+digits, Alt+punctuation or Ctrl+Enter, which many terminals
cannot send); they work whichever part of the pane has the focus, and in the order they were
pressed, between the letters typed (tui/widgets/in_order.py). Tab moves to the settings bar, where
plain keys change the sampler while the text streams.
"""
from __future__ import annotations

from textual.binding import Binding

APP = [
    Binding("f1", "help", "help", tooltip="Show every key and how focus works"),
    Binding("ctrl+t", "next_tab", "tab", show=False, tooltip="Go to the next tab"),
    Binding("ctrl+q", "quit", "quit", tooltip="Quit Inkhorn (the text tabs' documents are autosaved: "
            "they reopen as they were at the next start)"),
]

_SIBLING = Binding.Group("sibling", compact=True)
_UP_DOWN = Binding.Group("up/down", compact=True)

TEXT_PANE = [
    Binding("ctrl+g", "continue_text", "continue",
            tooltip="Generate from the end of the text; it streams in place"),
    Binding("ctrl+r", "retry", "retry",
            tooltip="Another continuation instead of this one, kept as its sibling "
                    "(instant when one was made in the background)"),
    Binding("escape", "stop", "stop", tooltip="Stop the generation; otherwise go back to the document"),
    Binding("alt+left", "sibling(-1)", "previous sibling", group=_SIBLING,
            tooltip="Show the previous sibling of this text (2/5 → 1/5)"),
    Binding("alt+right", "sibling(1)", "next sibling", group=_SIBLING,
            tooltip="Show the next sibling of this text (2/5 → 3/5)"),
    Binding("alt+up", "parent", "up the tree", group=_UP_DOWN,
            tooltip="Up the tree: hide this text, back to where it started"),
    Binding("alt+down", "child", "down the tree", group=_UP_DOWN,
            tooltip="Down the tree: the text that was generated from here"),
    Binding("ctrl+o", "other_words", "words",
            tooltip="The other words the model weighed for the token at the cursor: take one and the text "
                    "branches there and goes on from it"),
    Binding("ctrl+z", "undo", "undo", tooltip="Undo the last edit or generation"),
    Binding("ctrl+y", "redo", "redo", tooltip="Redo what was undone", show=False),
    Binding("tab", "settings", "settings", tooltip="Move between the document and the settings bar"),
    Binding("f2", "toggle_tree", "tree",
            tooltip="Show or hide the branches of the document (arrows browse, Enter writes)"),
    Binding("f3", "toggle_probs", "probs",
            tooltip="Show or hide the token at the cursor with the words the model weighed"),
    Binding("f4", "toggle_colours", "colours", show=False,
            tooltip="Colour the model's tokens by probability (green likely, yellow, orange, red unlikely)"),
    Binding("f5", "toggle_overlap", "overlap", show=False,
            tooltip="Mark stretches of 50+ characters found verbatim in the model's training text"),
    Binding("ctrl+l", "pick_model", "model",
            tooltip="Pick the model that writes: the shipped ones, your runs under runs/, GPT-2 folders "
                    "(--gpt2, $INKHORN_GPT2, the Hugging Face cache); the document stays"),
    Binding("ctrl+s", "export", "save",
            tooltip="Export the text on show as Markdown and the whole tree as JSON into ./outputs "
                    "(or $INKHORN_OUTPUT_DIR), never overwriting"),
]

# the document's own keys, beside the TextArea's (EDITOR_KEYS below)
DESK_EDITOR = [
    Binding("ctrl+home", "document_start", "start of the text", show=False,
            tooltip="To the start of the text"),
    Binding("ctrl+end", "document_end", "end of the text", show=False,
            tooltip="To the end of the text (the view follows a stream again)"),
]

_TEMPERATURE = Binding.Group("temp", compact=True)
_TOP_K = Binding.Group("top-k", compact=True)
_TOP_P = Binding.Group("top-p", compact=True)
_MIN_P = Binding.Group("min-p", compact=True)
_REPETITION = Binding.Group("rep", compact=True)
_FIELD = Binding.Group("setting", compact=True)
_CHANGE = Binding.Group("change", compact=True)

# the settings bar takes no text, so plain keys are safe here; changes reach a running generation at its next token
SAMPLER_BAR = [
    Binding("left", "select(-1)", "previous setting", group=_FIELD),
    Binding("right", "select(1)", "next setting", group=_FIELD),
    Binding("up", "change(1)", "more", group=_CHANGE),
    Binding("down", "change(-1)", "less", group=_CHANGE),
    Binding("enter", "edit", "type", tooltip="Type a value for the setting (a preset: save these settings "
            "under a name; stop strings and banned words: one per line)"),
    Binding("backspace", "reset", "default", tooltip="Back to the default (seed: auto; stop, ban: none; "
            "a preset you saved: remove it)"),
    Binding("left_square_bracket", "temperature(-0.1)", "temperature down", group=_TEMPERATURE, show=False),
    Binding("right_square_bracket", "temperature(0.1)", "temperature up", group=_TEMPERATURE, show=False),
    Binding("minus", "top_k(-1)", "top-k down", group=_TOP_K, show=False),
    Binding("equals_sign", "top_k(1)", "top-k up", group=_TOP_K, show=False),
    Binding("left_curly_bracket", "top_p(-0.05)", "top-p down", group=_TOP_P, show=False),
    Binding("right_curly_bracket", "top_p(0.05)", "top-p up", group=_TOP_P, show=False),
    Binding("left_parenthesis", "min_p(-0.05)", "min-p down", group=_MIN_P, show=False),
    Binding("right_parenthesis", "min_p(0.05)", "min-p up", group=_MIN_P, show=False),
    Binding("less_than_sign", "repetition(-0.05)", "repetition penalty down", group=_REPETITION, show=False),
    Binding("greater_than_sign", "repetition(0.05)", "repetition penalty up", group=_REPETITION, show=False),
    Binding("r", "new_seed", "seed", tooltip="Pin a new random seed (applies at the next token)", show=False),
    Binding("g", "greedy", "greedy", tooltip="Greedy decoding (temperature 0) on or off", show=False),
]

DIALOG = [
    Binding("escape", "cancel", "cancel", tooltip="Close without changing anything"),
]

VALUE_DIALOG = [
    Binding("enter", "keep", "keep", tooltip="Keep the value as it is written"),  # before the text box's line break
]

LIST_DIALOG = [
    Binding("ctrl+s", "keep", "keep", tooltip="Keep the list as it is written"),
]

_HISTORY = Binding.Group("history", compact=True)

TRANSLATE_PANE = [
    # the input (tui/widgets/source_area.py) sends Enter and the history keys as messages; these rows
    # list them in the footer, palette and help, and run the same actions from the palette
    Binding("enter", "translate", "translate", tooltip="Translate the text (several lines and sentences welcome)"),
    Binding("ctrl+j", "newline", "new line", tooltip="A new line in the text (Shift+Enter too, where the terminal "
            "tells it from Enter); a pasted text keeps every line"),
    # priority, so the input's own up/down do not hide them; elsewhere in the text they move the cursor
    Binding("up", "history(-1)", "previous text", group=_HISTORY, priority=True,
            tooltip="On the first line of the text: the text translated before"),
    Binding("down", "history(1)", "next text", group=_HISTORY, priority=True,
            tooltip="On the last line of the text: the text translated after"),
    Binding("ctrl+g", "toggle_beam", "beam/greedy", tooltip="Switch between beam search (beam 4) and greedy "
            "decoding; translates the text on show again"),
    Binding("f3", "copy", "copy", tooltip="Copy the translation to the clipboard (OSC 52)"),
]

_SEED = Binding.Group("seed", compact=True)
_COUNT = Binding.Group("count", compact=True)

ART_PANE = [
    Binding("m", "switch_model", "VAE/GAN", tooltip="Switch between the face VAE and the anime-face GAN"),
    Binding("s", "sample", "sample", tooltip="Pictures from random latents of the seed"),
    Binding("i", "interpolate", "interpolate", tooltip="The path between pictures 0 and 1 of the seed"),
    Binding("a", "arithmetic", "arithmetic",
            tooltip="VAE: arithmetic between the face groups' mean latents; again for the next equation"),
    Binding("left_square_bracket", "seed(-1)", "seed down", group=_SEED),
    Binding("right_square_bracket", "seed(1)", "seed up", group=_SEED),
    Binding("r", "new_seed", "new seed", tooltip="Draw a new random seed"),
    Binding("minus", "count(-1)", "fewer pictures", group=_COUNT,
            tooltip="Fewer pictures; in arithmetic, a weaker move along the groups' direction"),
    Binding("equals_sign", "count(1)", "more pictures", group=_COUNT,
            tooltip="More pictures; in arithmetic, a stronger move along the groups' direction"),
    Binding("y", "copy", "copy path", tooltip="Copy the saved PNG's path to the clipboard (OSC 52)"),
]

HELP = [
    Binding("escape,f1,q", "close", "close", show=False),
]

# what the document does with the TextArea's own keys (F1 lists them; they are Textual's, not bound here)
EDITOR_KEYS = (
    ("arrows", "move the cursor (pgup/pgdn, home/end too); with shift they select; ctrl+←/→ by words"),
    ("^c ^x ^v", "copy, cut, paste (OSC 52: works over SSH; in tmux `set -g set-clipboard on`)"),
    ("f6 f7", "select the line, select everything"),
    ("^w ^k ^u", "delete the word before the cursor, to the end of the line, to its start"),
)

TREE_KEYS = (
    ("↑ ↓", "in the branches panel (f2): browse; the document shows each branch as it goes"),
    ("⏎", "in the branches panel: write on that branch (focus goes to the document)"),
)

FOCUS_NOTES = (
    "In a text tab you write in the document: every letter, digit and punctuation key types. "
    "Ctrl+G lets the model go on from the end of the text; typing, undo or a move in the tree stops a "
    "running generation first. Each generation is a node of a tree: Ctrl+R writes a sibling, Alt+arrows "
    "move between siblings and up and down, F2 lists every branch. Tab moves to the settings bar, where "
    "←/→ pick a setting and ↑/↓ change it, live while text streams. Everything is autosaved, so Ctrl+Q "
    "never loses text; Ctrl+S exports. Ctrl+L picks the model that writes (yours too). Ctrl+P finds any "
    "action by name."
)
