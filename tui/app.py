"""InkhornApp: the tabs, the keys that work everywhere, the status line and the footer, and the
preferences (last sampler settings, presets, stop strings, banned words, theme) kept across starts.

Only Textual and torch-free core modules are imported here, so the first
paint does not wait for torch; each text pane loads its model in a worker.
"""
from __future__ import annotations

import argparse
import copy
from dataclasses import replace
from functools import partial
from typing import Iterable

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.widgets import Static, TabbedContent, TabPane

from core.safe_text import terminal_safe
from core.text.desk.preferences import load_preferences, save_preferences
from core.text.sampling import SamplerSettings
from tui import keys
from tui.help import HelpScreen
from tui.panes import PANES
from tui.panes.base import ModelPane
from tui.panes.text_pane import TextPane
from tui.widgets.keybar import KeyBar
from tui.widgets.sampler_bar import SamplerBar


class InkhornApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "Inkhorn"
    BINDINGS = keys.APP

    PREFERENCES_SECONDS = 0.5  # a burst of key presses is saved once

    def __init__(self, gpt2_folders: list[str] = ()) -> None:
        super().__init__()
        self.gpt2_folders = list(gpt2_folders)  # offered by the text panes' model picker, besides $INKHORN_GPT2
        self.preferences, self._preference_notes = load_preferences()
        self._preferences_timer = None
        self._quit_unsaved = False

    def compose(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            for pane in PANES:
                with TabPane(pane.TITLE, id=pane.TITLE.lower().replace(" ", "-")):
                    yield pane(self.preferences) if issubclass(pane, TextPane) else pane()
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

    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification is plain text, made safe (core/safe_text.py): most are built from a
        prompt, a path, a setting read from disk or an error about them, where markup would be read
        as markup (and a stray `[/]` raise and take the app down)."""
        super().notify(terminal_safe(str(message)), title=terminal_safe(title), severity=severity,
                       timeout=timeout, markup=False)

    def on_mount(self) -> None:
        theme = self.preferences.theme
        if theme in self.available_themes:
            self.theme = theme
        elif theme is not None:
            self.notify(f"theme '{theme}' is not one of this Textual's themes: using the default", severity="warning")
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for note in self._preference_notes:
            self.notify(note, title="settings", severity="warning", timeout=15)
        self._pane_changed()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._pane_changed()

    def on_model_pane_status_changed(self, message: ModelPane.StatusChanged) -> None:
        if message.pane is self.active_pane:
            self.query_one("#status", Static).update(message.pane.status, layout=False)  # one row, always

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_next_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        ids = [pane.id for pane in tabs.query(TabPane)]
        tabs.active = ids[(ids.index(tabs.active) + 1) % len(ids)]

    # ----- preferences -------------------------------------------------------------------------
    def settings_changed(self, settings: SamplerSettings) -> None:
        """A text pane's sampler settings changed: they are now the last settings."""
        self.preferences.sampler = replace(settings)
        self.save_preferences()

    def _theme_changed(self, theme) -> None:
        self.preferences.theme = theme.name
        self.save_preferences()

    def save_preferences(self) -> None:
        if self._preferences_timer is not None:
            self._preferences_timer.stop()
        self._preferences_timer = self.set_timer(self.PREFERENCES_SECONDS, self._write_preferences)

    def _write_preferences(self) -> None:
        self._preferences_timer = None
        self._save_preferences(copy.deepcopy(self.preferences))

    @work(thread=True, exclusive=True, group="preferences")
    def _save_preferences(self, snapshot) -> None:
        try:
            save_preferences(snapshot)
        except OSError as e:
            self.call_from_thread(self.notify, f"could not save the settings: {e}", severity="error")

    async def action_quit(self) -> None:
        """Write what is not saved yet, then quit; if a document cannot be written, say so and stay
        (a second ctrl+q quits anyway)."""
        if self._preferences_timer is not None:
            self._preferences_timer.stop()
            self._preferences_timer = None
            try:
                save_preferences(self.preferences)
            except OSError as e:
                self.notify(f"could not save the settings: {e}", severity="error")
        errors = [f"{pane.TITLE}: {error}" for pane in self.query(TextPane) if (error := pane.save_now())]
        if errors and not self._quit_unsaved:
            self._quit_unsaved = True
            self.notify("\n".join(errors) + "\nctrl+q again quits without it", title="not saved", severity="error")
            return
        self.exit()

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
            for bar in pane.query(SamplerBar):
                for binding in bar.BINDINGS:
                    yield SystemCommand(f"{pane.TITLE} settings: {binding.description}", self._key_help(binding),
                                        partial(self.run_action, binding.action, bar))

    def _key_help(self, binding) -> str:
        key = self.get_key_display(binding)
        return f"{key} · {binding.tooltip}" if binding.tooltip else f"key {key}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="inkhorn", description="The Inkhorn app (any other argument: the command line).")
    parser.add_argument("--gpt2", nargs="+", default=[], metavar="DIR",
                        help="local GPT-2-family folders for the text tabs' model picker (ctrl+l), besides those of "
                             "$INKHORN_GPT2 and the Hugging Face cache")
    InkhornApp(parser.parse_args(argv).gpt2).run()
