"""Keys handled in the order they were pressed, also when they come in a burst.

Textual hands each key to the widget focused when the key arrives and resolves bindings only once
the key has bubbled up to the app, while a TextArea types a letter as soon as it sees it. In a
burst (fast typing on a busy app, keys batched over SSH, tmux send-keys) a letter would then be
typed before the backspace that came first, and keys that came after one that moved the focus
(Tab) or opened a dialog (Enter on a setting) would still reach the widget that had it. So these
widgets pass a key on to the widget focused now, on the screen on top (a dialog still being put up is
waited for), and each runs the binding of a key (its own, the pane's, the screen's, the app's) as the
key reaches it; a TextBox, which types letters, only for keys that do not type.
"""
from __future__ import annotations

from textual import events
from textual.widgets import TextArea


WAIT_S = 0.005  # between looks at a screen still being put up
WAIT_TRIES = 2000  # at most 10 s; then the keys go to the app, which routes them as any other


class KeysInOrder:
    _held: list[events.Key] | None = None  # keys waiting for the screen on top to focus a widget
    BIND_PRINTABLE = True  # a printable key's binding runs too (False: the widget types letters)

    async def _on_key(self, event: events.Key) -> None:
        top = self.app.screen
        if self._held or top is not self.screen or top.focused not in (None, self):
            event.stop()
            event.prevent_default()
            self._pass_on(events.Key(event.key, event.character))
            return
        if (self.BIND_PRINTABLE or not event.is_printable) and await self.app._check_bindings(event.key):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def _pass_on(self, key: events.Key) -> None:
        if self._held is None:
            self._held = []
        self._held.append(key)
        if len(self._held) == 1:
            self._release(WAIT_TRIES)

    def _release(self, tries: int) -> None:
        top = self.app.screen
        if not top.is_mounted and tries:  # its on_mount sets its focus
            self.set_timer(WAIT_S, lambda: self._release(tries - 1))
            return
        target = top.focused or self.app
        for key in self._held:
            target.post_message(key)
        self._held = []


class TextBox(KeysInOrder, TextArea):
    BIND_PRINTABLE = False
