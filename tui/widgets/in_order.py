"""Keys handled in the order they were pressed, also when they come in a burst.

Textual hands each key to the widget focused when the key arrives and resolves bindings only once
the key has bubbled up to the app, while a TextArea types a letter as soon as it sees it. In a
burst (fast typing on a busy app, keys batched over SSH, tmux send-keys) a letter would then be
typed before the backspace that came first, and keys that came after one that moved the focus
(Tab) would still reach the widget that had it. So these widgets pass a key on to the widget
focused now, and a TextBox runs the binding of a key (its own, the pane's, the screen's, the app's)
as the key reaches it.
"""
from __future__ import annotations

from textual import events
from textual.widgets import TextArea


class KeysInOrder:
    async def _on_key(self, event: events.Key) -> None:
        focused = self.screen.focused
        if focused is not None and focused is not self:
            event.stop()
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))
            return
        await super()._on_key(event)


class TextBox(KeysInOrder, TextArea):
    async def _on_key(self, event: events.Key) -> None:
        if self.screen.focused is self and not event.is_printable and await self.app._check_bindings(event.key):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)
