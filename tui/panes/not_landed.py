"""A tab whose model has not landed: says so and names the command that trains it."""
from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.containers import Center, Middle
from textual.widgets import Static

from core.paths import checkpoint_dir
from tui.paths import shown


def not_landed_message(title: str, checkpoints: list[str], commands: list[str]) -> Text:
    files = " or ".join(shown(checkpoint_dir() / name) for name in checkpoints)
    text = Text()
    text.append(f"{title} has not landed yet.\n\n", "bold")
    text.append(f"There is no checkpoint at {files}.\nTrain one with:\n\n")
    text.append("\n".join(f"    {command}" for command in commands), "bold")
    return text


class NotLanded(Static):
    """The message itself, used by every pane whose checkpoint is missing."""

    def __init__(self, title: str, checkpoints: list[str], commands: list[str], **kwargs):
        super().__init__(not_landed_message(title, checkpoints, commands), **kwargs)


class NotLandedPane(Middle):
    """A pane for a model this version of the app cannot run yet (Translate, Latent art)."""

    TITLE: ClassVar[str]
    CHECKPOINTS: ClassVar[list[str]]
    COMMANDS: ClassVar[list[str]]

    def compose(self):
        with Center():
            found = [checkpoint_dir() / name for name in self.CHECKPOINTS if (checkpoint_dir() / name).exists()]
            if found:
                yield Static(f"{self.TITLE}: found {shown(found[0])}, but this version of Inkhorn "
                             "has no pane for it yet.", classes="notice")
            else:
                yield NotLanded(self.TITLE, self.CHECKPOINTS, self.COMMANDS, classes="notice")
