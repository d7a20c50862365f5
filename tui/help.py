"""F1: every binding (from tui.keys) and how focus decides which keys apply."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import keys


def help_rows(app) -> list[tuple[str, str]]:
    """(keys, what they do); a row with an empty first cell is a heading."""
    rows = []
    sections = (("Anywhere", keys.APP), ("Text tabs: the writing desk", keys.TEXT_PANE),
                ("Text tabs: the settings bar (tab to focus it)", keys.SAMPLER_BAR),
                ("Dialogs", keys.DIALOG + keys.VALUE_DIALOG + keys.LIST_DIALOG),
                ("Translate", keys.TRANSLATE_PANE), ("Latent art", keys.ART_PANE))
    for title, bindings in sections:
        rows.append(("", title))
        rows += [(app.get_key_display(b), b.tooltip or b.description) for b in bindings]
        if bindings is keys.TEXT_PANE:
            rows += list(keys.TREE_KEYS)
    rows.append(("", "Text tabs: editing the document"))
    rows += [(app.get_key_display(b), b.tooltip) for b in keys.DESK_EDITOR]
    rows += list(keys.EDITOR_KEYS)
    rows.append(("^p", "command palette: every action by name"))
    return rows


def bindings_table(app) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for i, (key, text) in enumerate(help_rows(app)):
        if key:
            table.add_row(key, text)
        else:
            if i:
                table.add_row("", "")
            table.add_row("", Text(text, style="bold underline"))
    return table


class HelpScreen(ModalScreen):
    BINDINGS = keys.HELP

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text(keys.FOCUS_NOTES), id="focus-notes")
            yield Static(bindings_table(self.app), id="keys")

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Inkhorn keys (Esc closes)"
        self.query_one("#help").focus()

    def action_close(self) -> None:
        self.dismiss()
