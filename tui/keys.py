"""Every key binding of the app, in one place.

The footer, the command palette and the F1 help screen are all built from
these lists, so a binding added here shows up everywhere. Plain character keys
(`[`, `r`, ...) reach a text pane only while its prompt is not focused: Enter
in the prompt starts a generation and moves focus to the output, so they work
while text streams; Tab and Esc move focus back and forth.
"""
from __future__ import annotations

from textual.binding import Binding

_TEMPERATURE = Binding.Group("temp", compact=True)
_TOP_K = Binding.Group("top-k", compact=True)
_TOP_P = Binding.Group("top-p", compact=True)
_MIN_P = Binding.Group("min-p", compact=True)
_REPETITION = Binding.Group("rep", compact=True)

APP = [
    Binding("f1", "help", "help", tooltip="Show every key and how focus works"),
    Binding("ctrl+s", "save", "save", tooltip="Save the session (prompts, outputs, settings, seeds) as Markdown"),
    Binding("ctrl+t", "next_tab", "tab", tooltip="Go to the next tab"),
    Binding("ctrl+q", "quit", "quit", tooltip="Quit Inkhorn"),
]

TEXT_PANE = [
    Binding("escape", "stop", "stop", tooltip="Stop the generation; when idle, move focus between prompt and output"),
    Binding("enter", "generate", "new", tooltip="Generate afresh from the prompt"),
    Binding("c", "continue_text", "continue", tooltip="Continue the current text"),
    Binding("p", "toggle_probs", "probs", tooltip="Show or hide the next-token probabilities"),
    Binding("y", "copy", "copy", tooltip="Copy the text to the clipboard (OSC 52)"),
    Binding("left_square_bracket", "temperature(-0.1)", "temperature down", group=_TEMPERATURE),
    Binding("right_square_bracket", "temperature(0.1)", "temperature up", group=_TEMPERATURE),
    Binding("minus", "top_k(-1)", "top-k down", group=_TOP_K),
    Binding("equals_sign", "top_k(1)", "top-k up", group=_TOP_K),
    Binding("left_curly_bracket", "top_p(-0.05)", "top-p down", group=_TOP_P),
    Binding("right_curly_bracket", "top_p(0.05)", "top-p up", group=_TOP_P),
    Binding("left_parenthesis", "min_p(-0.05)", "min-p down", group=_MIN_P),
    Binding("right_parenthesis", "min_p(0.05)", "min-p up", group=_MIN_P),
    Binding("less_than_sign", "repetition(-0.05)", "repetition penalty down", group=_REPETITION),
    Binding("greater_than_sign", "repetition(0.05)", "repetition penalty up", group=_REPETITION),
    Binding("r", "new_seed", "seed", tooltip="Pin a new random seed (applies at the next token)"),
    Binding("g", "greedy", "greedy", tooltip="Greedy decoding (temperature 0) on or off"),
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

FOCUS_NOTES = (
    "Type a prompt and press Enter: focus moves to the output, where the single keys below change "
    "the sampler live (the running generation uses the new value at its next token). While the "
    "prompt has focus, characters such as [ ] r g are typed into it instead. Esc stops a generation; "
    "Esc when idle, or Tab, moves focus between prompt and output. Ctrl+T goes to the next tab.\n\n"
    "Copying uses OSC 52, which works over SSH; inside tmux it needs `set -g set-clipboard on`."
)
