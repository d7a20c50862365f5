"""InkhornApp: the tabs, the keys that work everywhere, the status line and the footer.

Only Textual and torch-free core modules are imported here, so the first
paint does not wait for torch; each text pane loads its model in a worker.
"""
from __future__ import annotations

from functools import partial
from typing import Iterable

from textual.app import App, ComposeResult, SystemCommand
from textual.widgets import Static, TabbedContent, TabPane

from core.safe_text import terminal_safe
from core.text.session import Session, save_session
from tui import keys
from tui.help import HelpScreen
from tui.panes import PANES
from tui.panes.base import ModelPane
from tui.panes.text_pane import TextPane
from tui.widgets.keybar import KeyBar


class InkhornApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "Inkhorn"
    BINDINGS = keys.APP

    def __init__(self) -> None:
        super().__init__()
        self.session = Session()

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            for pane in PANES:
                with TabPane(pane.TITLE, id=pane.TITLE.lower().replace(" ", "-")):
                    yield pane(self.session) if issubclass(pane, TextPane) else pane()
        yield Static(id="status")
        yield KeyBar()

    @property
    def active_pane(self):
        tab = self.query_one(TabbedContent).active_pane
        return tab.children[0] if tab is not None and tab.children else None

    def _pane_changed(self) -> None:
        pane = self.active_pane
        live = isinstance(pane, ModelPane)
        self.query_one("#status", Static).update(pane.status if live else "")
        if live and pane.landed:
            pane.focus_prompt()
        else:
            self.query_one(TabbedContent).query_one("Tabs").focus()

    def on_mount(self) -> None:
        self._pane_changed()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._pane_changed()

    def on_model_pane_status_changed(self, message: ModelPane.StatusChanged) -> None:
        if message.pane is self.active_pane:
            self.query_one("#status", Static).update(message.pane.status)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_next_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        ids = [pane.id for pane in tabs.query(TabPane)]
        tabs.active = ids[(ids.index(tabs.active) + 1) % len(ids)]

    def action_save(self) -> None:
        if not self.session.generations:
            self.notify("nothing to save yet: generate some text first", severity="warning")
            return
        try:
            path = save_session(self.session)
        except OSError as e:
            self.notify(terminal_safe(f"could not save the session: {e}"), severity="error", markup=False)
            return
        self.notify(terminal_safe(f"saved {path}"), title="session", markup=False)

    def get_system_commands(self, screen) -> Iterable[SystemCommand]:
        """The palette lists every binding of tui.keys (pane keys for the pane on show)."""
        yield from super().get_system_commands(screen)
        for binding in keys.APP:
            yield SystemCommand(binding.description.capitalize(), self._key_help(binding),
                                partial(self.run_action, binding.action))
        pane = self.active_pane
        if isinstance(pane, ModelPane) and pane.landed:
            for binding in pane.BINDINGS:  # each pane's list from tui.keys
                yield SystemCommand(f"{pane.TITLE}: {binding.description}", self._key_help(binding),
                                    partial(self.run_action, binding.action, pane))

    def _key_help(self, binding) -> str:
        key = self.get_key_display(binding)
        return f"{key} · {binding.tooltip}" if binding.tooltip else f"key {key}"


def main() -> None:
    InkhornApp().run()
