"""The app's tabs, in order: one pane class per model the app shows (tui/panes/base.py is their base)."""
from tui.panes.anna import AnnaPane
from tui.panes.art import ArtPane
from tui.panes.hemingway import HemingwayPane
from tui.panes.translate import TranslatePane

PANES = (HemingwayPane, AnnaPane, TranslatePane, ArtPane)
