"""The footer: every active binding, wrapped over as many rows as the width needs.

Textual's Footer keeps to one row and scrolls sideways (with a mouse); at
80 columns a text pane has more keys than one row holds, so this footer wraps
between entries, never inside one. Bindings that share a group show as one
entry: `[] temp`.
"""
from __future__ import annotations

from itertools import groupby

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

GAP = 2
DIM = Style(dim=True)


def joined(keys: list[str]) -> str:
    """The keys of one group as one entry, a modifier they share written once: alt+←→, not alt+←alt+→."""
    modifier = keys[0].rpartition("+")[0] + "+"
    if len(keys) > 1 and modifier != "+" and all(k.startswith(modifier) for k in keys):
        return modifier + "".join(k[len(modifier):] for k in keys)
    return "".join(keys)


class KeyBar(Widget):
    COMPONENT_CLASSES = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyBar {
        height: auto;
        padding: 0 1;
        background: $footer-background;
        & > .keybar--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        & > .keybar--description { color: $footer-description-foreground; }
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        self.refresh(layout=True)

    def entries(self) -> list[tuple[str, str, bool]]:
        """(keys, description, enabled) for each entry, in the order shown."""
        focused = self.screen.focused
        unique = {}
        for key, (_, binding, enabled, _) in self.screen.active_bindings.items():
            # Textual already hides keys a focused Input would type, except "minus" (no character is known for it)
            if key == "minus" and focused is not None and focused.check_consume_key(key, "-"):
                continue
            if binding.show and binding.action not in unique:
                unique[binding.action] = (binding, enabled)
        result = []
        for group, members in groupby(unique.values(), key=lambda item: item[0].group):
            members = list(members)
            if group is None:
                result += [(self.app.get_key_display(b), b.description, on) for b, on in members]
            else:
                result.append((joined([self.app.get_key_display(b) for b, _ in members]), group.description,
                               all(on for _, on in members)))
        return result

    def _rows(self, width: int) -> list[list[tuple[str, str, bool]]]:
        rows: list[list] = [[]]
        used = 0
        for entry in self.entries():
            size = len(entry[0]) + 1 + len(entry[1])
            if rows[-1] and used + GAP + size > width:
                rows.append([])
                used = 0
            used += size + (GAP if rows[-1] else 0)
            rows[-1].append(entry)
        return rows

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._rows(width))

    def render(self) -> Text:
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        text = Text(no_wrap=True, overflow="crop")
        for r, row in enumerate(self._rows(self.content_region.width)):
            if r:
                text.append("\n")
            for i, (keys, description, enabled) in enumerate(row):
                if i:
                    text.append(" " * GAP)
                extra = Style() if enabled else DIM
                text.append(keys, key_style + extra)
                text.append(" " + description, description_style + extra)
        return text
