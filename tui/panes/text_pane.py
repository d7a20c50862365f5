"""Shared base of the two text panes (Hemingway, Anna): the writing desk.

One editable document (tui/widgets/desk_editor.py) over a Document tree (core/text/desk), the
settings bar under it and, beside it on demand, the branches (F2) or the token at the cursor (F3).

Generation runs in a thread worker that reads the pane's one SamplerSettings object at every
token. Its steps come back to the UI thread in batches, at most every FLUSH_SECONDS (the first at
once), where a Recorder writes them into the node and the editor shows the new text. The tree is
only ever changed on the UI thread, and an edit, an undo or a move in the tree first stops a
running generation, so nothing races and no token lands in the wrong place.

While the writer reads, a background worker writes a few siblings of the generation on show
(tui/panes/pregenerate.py); a retry with the same settings takes one at once.

The tree is autosaved at most AUTOSAVE_SECONDS after a change and at the end of each generation:
the snapshot is taken here and written by a worker, atomically.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.containers import Horizontal

from core.text.desk.document import CHOICE, EDITED, GENERATED, ROOT, WRITTEN, Generation, Node, Piece
from core.text.desk.preferences import Preferences
from core.text.desk.recorder import Recorder
from core.text.desk.store import (
    autosave_path,
    export_markdown,
    export_tree,
    open_document,
    to_dict,
    write_document,
)
from tui import keys
from tui.panes.base import ModelPane, ModelState
from tui.panes.pregenerate import Pregenerator
from tui.paths import shown
from tui.widgets.desk_editor import DeskEditor
from tui.widgets.dialogs import ModelDialog, WordsDialog
from tui.widgets.probability_view import ProbabilityView, choices
from tui.widgets.sampler_bar import SamplerBar
from tui.widgets.tree_view import TreeView

FLUSH_SECONDS = 0.05
STATUS_SECONDS = 0.5  # how often the speed is updated while text streams: each update is a repaint
AUTOSAVE_SECONDS = 1.0
OVERLAP_SECONDS = 0.5  # the overlap marks follow the text this long after it changes
KIND_LABELS = {ROOT: "new document", WRITTEN: "your text", EDITED: "edited", GENERATED: "generated",
               CHOICE: "your word"}


class TextPane(ModelPane):
    PLACEHOLDER: ClassVar[str] = "Write here, or press ctrl+g and the model begins."

    BINDINGS = keys.TEXT_PANE

    def __init__(self, prefs: Preferences, **kwargs):
        super().__init__(**kwargs)
        self.prefs = prefs
        self.settings = replace(prefs.sampler)  # this pane's own, saved as the last settings when changed
        self.name_on_disk = self.MODELS[0]
        self.picked = self.MODELS[0]          # the model that writes: the pane's own, or one picked with ctrl+l
        self.doc, self.open_notes = open_document(self.name_on_disk) if self.landed else (None, [])
        self.generation = 0                   # id of the generation on show; a stale worker's steps are dropped
        self.cancel: threading.Event | None = None
        self.recorder: Recorder | None = None
        self.stats = None
        self._status_at = 0.0
        self.steps_shown = 0                  # batches that reached the screen (tests use it)
        self.pregenerator = Pregenerator(self)
        self.overlap_indexes = {}             # model name -> its training text's index, built when first asked for
        self.overlap_on = False
        self._dirty = False
        self._save_timer = None
        self._overlap_timer = None
        self._save_lock = threading.Lock()
        self._snapshots = 0                   # autosave snapshots taken; only a newer one overwrites the file
        self._written = 0

    @property
    def model_name(self) -> str:
        return self.picked

    @property
    def lm(self):
        """The loaded core.text.lm.LanguageModel, or None."""
        return self.models.get(self.picked)

    @property
    def running(self) -> bool:
        return self.recorder is not None

    # ----- layout -------------------------------------------------------------------------------
    def compose_pane(self):
        with Horizontal(id="body"):
            yield DeskEditor(self.doc, self.stop_generation, self._changed, id="document",
                             placeholder=self.PLACEHOLDER)
            yield TreeView(id="tree")
            yield ProbabilityView(id="probs")
        yield SamplerBar(self.settings, self.prefs, id="sampler")

    @property
    def editor(self) -> DeskEditor:
        return self.query_one(DeskEditor)

    def on_mount(self) -> None:
        if not self.landed:
            return
        self.editor.move_cursor(self.editor.document.end)
        self.show_state()
        for note in self.open_notes:
            self.notify(note, title="document", severity="warning", timeout=15)
        if self.doc.text:
            self.notify(f"reopened from {shown(autosave_path(self.name_on_disk))}", title=f"{self.TITLE}: autosaved text")

    def _focus(self, widget) -> None:
        """Focus `widget` before the next key is handled (Widget.focus waits for the keys already queued,
        which would then reach the widget that had the focus: a fast Tab then → would move the cursor)."""
        self.screen.set_focus(widget)

    def focus_prompt(self) -> None:
        if self.landed:
            self.editor.focus()

    def on_show(self) -> None:
        if self.landed:
            self.load(self.picked)

    def on_unmount(self) -> None:
        if self.cancel is not None:
            self.cancel.set()
        self.pregenerator.cancel()
        self.save_now()

    # ----- loading ------------------------------------------------------------------------------
    def build(self, name: str, device):
        from core.text.lm import load_language_model

        lm = load_language_model(name, device)
        lm.sha256  # hashed here, in the worker, so that the first generation does not wait for it
        return lm

    def model_loading(self, name: str) -> None:
        self.editor.border_subtitle = "loading the model…"

    def model_ready(self, name: str) -> None:
        if name != self.picked:
            return  # another was picked while this one loaded
        self.editor.border_subtitle = ""
        self.set_status(self._model_status())
        self.show_state()
        self.pregenerator.schedule()

    def model_failed(self, name: str) -> None:
        title = self.titles[name]
        self.notify(f"Could not load {title}: {self.errors[name]}", title="model", severity="error", timeout=30)
        if name == self.picked:
            self.editor.border_subtitle = ""
            self.set_status(f"{title}: not loaded · ctrl+l picks another model")

    def action_pick_model(self) -> None:
        self._list_models(list(self.app.gpt2_folders))

    @work(thread=True, exclusive=True, group="models")
    def _list_models(self, gpt2: list[str]) -> None:
        from core.text.choices import list_text_models

        try:
            found = list_text_models(gpt2)
        except OSError as e:
            self.from_worker(self.notify, f"could not list the models: {e}", severity="error")
            return
        self.from_worker(self._show_models, found)

    def _show_models(self, found: list) -> None:
        self.app.push_screen(ModelDialog(found, self.picked), self._model_picked)

    def _model_picked(self, choice) -> None:
        if choice is None or choice.spec == self.picked:
            return
        self.stop_generation()
        self.pregenerator.cancel()
        self.picked = choice.spec
        self.offer(choice.spec, choice.name)
        if self.states[choice.spec] is ModelState.FAILED:  # it may load now: the file may have been fixed
            self.states[choice.spec] = ModelState.WAITING
        if self.state is ModelState.READY:
            self.model_ready(choice.spec)
        else:
            self.load(choice.spec)

    def _model_status(self, extra: str = "") -> str:
        return self.model_status(self.lm.name, self.lm.num_params(), extra)

    def _ready(self) -> bool:
        if self.state is ModelState.READY:
            return True
        self.notify(f"{self.titles[self.picked]} is still loading" if self.state is ModelState.LOADING else self.status,
                    severity="warning")
        return False

    # ----- what is on screen --------------------------------------------------------------------
    def show_state(self) -> None:
        """The document's title (where in the tree the text on show is) and the side panels."""
        doc = self.doc
        place, count = doc.sibling_position(doc.fork())
        title = KIND_LABELS[doc.current.kind]
        if count > 1:
            title += f" {place}/{count}"
        ready = self.pregenerator.ready()
        if ready:
            title += f" · {ready} more ready"
        editor = self.editor
        editor.border_title = title
        editor.border_subtitle = "unsaved" if self._dirty else "autosaved"
        tree = self.query_one(TreeView)
        if tree.display:
            tree.fill(doc)
        self._show_token()

    def _token_at_cursor(self) -> tuple[int, Node, int, Piece] | None:
        offset = self.editor.offset
        if offset and offset == len(self.editor.text):
            offset -= 1  # at the very end: the last token, the newest while text streams
        for pos, node, index, piece in self.doc.spans():
            if pos <= offset < pos + len(piece.text):
                return pos, node, index, piece
        return None

    def _show_token(self) -> None:
        view = self.query_one(ProbabilityView)
        if not view.display:
            return
        found = self._token_at_cursor()
        view.show_piece(found[3] if found else None)
        mark = (found[0], found[0] + len(found[3].text)) if found and found[3].generated else None
        if mark != self.editor.mark:
            self.editor.mark = mark
            self.editor.restyle()

    @on(DeskEditor.SelectionChanged)
    def _cursor_moved(self) -> None:
        self._show_token()

    def _moved(self, cursor_at_change: bool = True) -> None:
        """The tree changed the text (undo, a move): show it, the cursor where it changed."""
        start, stop = self.editor.show()
        self.editor.move_cursor(self.editor.document.get_location_from_index(start if cursor_at_change else stop))
        self._changed()

    # ----- generation ---------------------------------------------------------------------------
    def action_continue_text(self) -> None:
        if self._ready():
            self._generate(sibling=False)

    def action_retry(self) -> None:
        if not self._ready():
            return
        if self.doc.current.kind != GENERATED:
            self.notify("nothing generated here to retry: ctrl+g continues the text", severity="warning")
            return
        if self.settings.seed is not None or self.settings.temperature == 0:
            why = f"seed {self.settings.seed} is pinned" if self.settings.seed is not None else "decoding is greedy"
            self.notify(f"{why}: the same settings write the same text again", severity="warning")
        self.stop_generation()
        steps = self.pregenerator.take()
        if steps is None:
            self._generate(sibling=True)
            return
        settings, steps = steps
        node = self.doc.start_generation(self._record(), sibling=True)
        recorder = Recorder(node, settings)
        for step in steps:
            recorder.add(step)
        recorder.finish()
        self.editor.show(cursor=len(self.doc.branch_text(node.parent)))
        self._changed()
        self.autosave()
        self.pregenerator.schedule()

    def _record(self) -> Generation:
        lm = self.lm
        return Generation(lm.name, lm.sha256, self.settings.to_dict(), str(lm.device),
                          stop=list(self.prefs.stop), banned=list(self.prefs.banned))

    def _generate(self, sibling: bool) -> None:
        self.stop_generation()
        self.pregenerator.cancel()
        node = self.doc.start_generation(self._record(), sibling=sibling)
        self.recorder = Recorder(node, self.settings)
        self.generation += 1
        self.cancel = threading.Event()
        prompt = self.doc.branch_text(node.parent)
        self.editor.show(cursor=len(prompt))  # the cursor at the end: the view follows the stream
        self._changed()
        self.set_status(self._model_status("generating…"))
        self.run_generation(self.generation, prompt, self.cancel, node.generation.banned)

    @work(thread=True, exclusive=True, group="generate")
    def run_generation(self, generation: int, prompt: str, cancel: threading.Event, banned: list[str]) -> None:
        from core.text.generate import GenerationStats

        stats = GenerationStats()
        pending = []
        flushed_at = 0.0
        error = None
        try:
            for step in self.lm.stream(prompt, self.settings, cancel, stats, banned=banned):
                pending.append((step, self.settings.to_dict()))  # what this token was drawn with
                if time.monotonic() - flushed_at >= FLUSH_SECONDS:
                    self.from_worker(self._show_steps, generation, pending, stats)
                    pending = []
                    flushed_at = time.monotonic()
        except Exception as e:  # e.g. a model that fails mid-run: report it, keep the app
            error = f"{type(e).__name__}: {e}"
        self.from_worker(self._finish, generation, pending, stats, error)

    def _add_steps(self, steps) -> None:
        for step, settings in steps:
            if not self.recorder.add(step, settings):
                self.cancel.set()  # a stop string ended the text
                break
        self.editor.show()
        self.steps_shown += 1
        self._unsaved()

    def _show_steps(self, generation: int, steps, stats) -> None:
        if generation != self.generation:
            return
        self._add_steps(steps)
        self.stats = stats
        if time.monotonic() - self._status_at >= STATUS_SECONDS:
            self._status_at = time.monotonic()
            self.set_status(self._model_status(f"generating · {stats.tokens_per_second:.1f} tok/s"))

    def _finish(self, generation: int, steps, stats, error: str | None) -> None:
        if generation != self.generation:
            return
        if steps:
            self._add_steps(steps)
        self.recorder.finish(cancelled=stats.cancelled)
        ended = self.recorder.node.generation.ended
        self.recorder = self.cancel = None
        self.stats = stats
        self.query_one(SamplerBar).show(stats.seed)
        stopped = {"stop": " · stop string", "cancelled": " · stopped"}.get(ended, "")
        self.set_status(self._model_status(f"{stats.tokens} tokens · {stats.tokens_per_second:.1f} tok/s{stopped}"))
        for note in stats.notes:
            self.notify(note, title="prompt")
        if error:
            self.notify(error, title="generation failed", severity="error")
        self._changed()
        self.autosave()
        self.pregenerator.schedule()

    def stop_generation(self) -> None:
        """End a running generation where it is (its tokens so far stay); steps still on their way are dropped."""
        if not self.running:
            return
        self.cancel.set()
        self.recorder.finish(cancelled=True)
        tokens = len(self.recorder.node.pieces)
        self.recorder = self.cancel = None
        self.generation += 1
        self.set_status(self._model_status(f"{tokens} tokens · stopped"))
        self._changed()

    def action_stop(self) -> None:
        if self.running:
            self.stop_generation()
        elif not self.editor.has_focus:
            self._focus(self.editor)

    # ----- the tree -----------------------------------------------------------------------------
    def action_undo(self) -> None:
        self.stop_generation()
        self._history(self.doc.undo(), "nothing to undo")

    def action_redo(self) -> None:
        self.stop_generation()
        self._history(self.doc.redo(), "nothing to redo")

    def _history(self, done: bool, why: str) -> None:
        if done:
            self._moved(cursor_at_change=False)
        else:
            self.notify(why)

    def _go(self, moved: bool, why: str) -> None:
        if moved:
            self._moved()
            self.pregenerator.schedule()
        else:
            self.notify(why)

    def action_sibling(self, step: int) -> None:
        self.stop_generation()
        self._go(self.doc.go_sibling(step), "no more siblings that way: ctrl+r writes another")

    def action_parent(self) -> None:
        self.stop_generation()
        self._go(self.doc.go_parent(), "this is the top of the tree")

    def action_child(self) -> None:
        self.stop_generation()
        self._go(self.doc.go_child(), "nothing was generated from here yet: ctrl+g continues")

    @on(TreeView.OptionHighlighted)
    def _tree_browsed(self, event: TreeView.OptionHighlighted) -> None:
        run = self.query_one(TreeView).run_at(event.option_index)
        if run is not None and self.doc.current not in run:
            self.stop_generation()
            self.doc.go_to(run[-1])
            self._moved()

    @on(TreeView.OptionSelected)
    def _tree_chosen(self) -> None:
        self._focus(self.editor)
        self.pregenerator.schedule()

    def action_other_words(self) -> None:
        found = self._token_at_cursor()
        if found is None or not found[3].generated:
            self.notify("put the cursor on a word the model wrote", severity="warning")
            return
        _, node, index, piece = found
        if not choices(piece):
            self.notify("the model weighed no other word there", severity="warning")
            return
        if self._ready():
            self.app.push_screen(WordsDialog(piece), lambda taken: self._take_word(node, index, taken))

    def _take_word(self, node: Node, index: int, alternative: int | None) -> None:
        if alternative is None:
            return
        self.stop_generation()
        self.doc.choose_alternative(node, index, alternative)
        self._generate(sibling=False)

    # ----- views --------------------------------------------------------------------------------
    def _toggle_side(self, shown_one, other) -> None:
        other.display = False
        shown_one.display = not shown_one.display
        self.show_state()

    def action_toggle_tree(self) -> None:
        tree, probs = self.query_one(TreeView), self.query_one(ProbabilityView)
        self._toggle_side(tree, probs)
        if tree.display:
            self._focus(tree)
        else:
            self._focus(self.editor)
        self._unmark()

    def action_toggle_probs(self) -> None:
        self._toggle_side(self.query_one(ProbabilityView), self.query_one(TreeView))
        if not self.query_one(TreeView).has_focus and not self.query_one(SamplerBar).has_focus:
            self._focus(self.editor)
        self._unmark()

    def _unmark(self) -> None:
        if not self.query_one(ProbabilityView).display and self.editor.mark is not None:
            self.editor.mark = None
            self.editor.restyle()

    def action_toggle_colours(self) -> None:
        editor = self.editor
        editor.colours = not editor.colours
        editor.restyle()
        self.notify("colours: green likely · yellow · orange · red unlikely" if editor.colours else "colours off")

    def action_toggle_overlap(self) -> None:
        self.overlap_on = not self.overlap_on
        if not self.overlap_on:
            self.editor.overlaps = []
            self.editor.restyle()
            self.notify("training-text overlap marks off")
            return
        if self.picked not in self.overlap_indexes:
            self.notify(f"reading {self.titles[self.picked]}'s training text (a few seconds)…", title="overlap")
        self._find_overlaps(self.doc.text)

    @work(thread=True, exclusive=True, group="overlap")
    def _find_overlaps(self, text: str, first: bool = True) -> None:
        from core.text.desk.overlap import training_index

        name = self.picked
        try:
            if name not in self.overlap_indexes:
                self.overlap_indexes[name] = training_index(name)
            found = self.overlap_indexes[name].find(text)
        except (OSError, ValueError) as e:
            self.from_worker(self.notify, f"cannot read the training text: {e}", severity="error")
            return
        self.from_worker(self._show_overlaps, text, found, first)

    def _show_overlaps(self, text: str, found: list[tuple[int, int]], first: bool) -> None:
        if not self.overlap_on:
            return
        if text != self.doc.text:
            self._overlaps_later()
            return
        self.editor.overlaps = found
        self.editor.restyle()
        if first:
            chars = sum(end - start for start, end in found)
            self.notify(f"{len(found)} stretch(es), {chars} characters, found verbatim in the training text"
                        if found else "no stretch of 50+ characters is in the training text", title="overlap")

    def _overlaps_later(self) -> None:
        if self._overlap_timer is not None:
            self._overlap_timer.stop()
        self._overlap_timer = self.set_timer(OVERLAP_SECONDS, self._overlaps_now)

    def _overlaps_now(self) -> None:
        self._overlap_timer = None
        self._find_overlaps(self.doc.text, first=False)

    def action_settings(self) -> None:
        bar = self.query_one(SamplerBar)
        self._focus(self.editor if bar.has_focus else bar)

    @on(SamplerBar.Changed)
    def _settings_changed(self) -> None:
        self.app.settings_changed(self.settings)
        self.pregenerator.schedule()

    # ----- saving -------------------------------------------------------------------------------
    def _changed(self) -> None:
        """The tree changed: save it soon, and show where the text on show sits in it."""
        self._unsaved()
        if self.overlap_on:
            self._overlaps_later()
        self.show_state()

    def _unsaved(self) -> None:
        self._dirty = True
        if self._save_timer is None:  # not pushed back by later changes: at most this long unsaved
            self._save_timer = self.set_timer(AUTOSAVE_SECONDS, self.autosave)

    def autosave(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if not self._dirty:
            return
        self._dirty = False
        self._snapshots += 1
        self._write(self._snapshots, to_dict(self.doc))
        self.editor.border_subtitle = "autosaved"

    @work(thread=True, group="autosave")
    def _write(self, snapshot: int, data: dict) -> None:
        error = self._write_now(snapshot, data)
        if error:
            self.from_worker(self._not_saved, error)

    def _write_now(self, snapshot: int, data: dict) -> str | None:
        """Write a snapshot unless a newer one is on disk already; the error, if it failed."""
        with self._save_lock:
            if snapshot <= self._written:
                return None
            try:
                write_document(data, autosave_path(self.name_on_disk))
            except OSError as e:
                return str(e)
            self._written = snapshot
            return None

    def _not_saved(self, error: str) -> None:
        self._dirty = True
        self.editor.border_subtitle = "not saved"
        self.notify(f"could not autosave: {error}", title="document", severity="error")

    def save_now(self) -> str | None:
        """Write the document at once, on this thread (the app is closing); the error, if it failed."""
        if self.doc is None or not self._dirty:
            return None
        self._dirty = False
        self._snapshots += 1
        error = self._write_now(self._snapshots, to_dict(self.doc))
        if error:
            self._dirty = True
        return error

    def action_export(self) -> None:
        if not self.doc.text:
            self.notify("nothing to export yet: write or generate some text first", severity="warning")
            return
        try:
            markdown = export_markdown(self.doc, self.name_on_disk)
            tree = export_tree(self.doc, self.name_on_disk)
        except OSError as e:
            self.notify(f"could not export: {e}", severity="error")
            return
        self.notify(f"{shown(markdown)} (the text on show)\n{shown(tree)} (the whole tree)", title="exported")
