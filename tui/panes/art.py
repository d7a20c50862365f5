"""Latent art tab: the face VAE and the anime-face GAN, driven by single keys.

`m` switches model; `s` samples, `i` walks between two latents, `a` does the
VAE's arithmetic between the face groups (again for the next equation);
`[` `]` step the seed, `r` draws a new one, `-` `=` change how many pictures.
Every result is saved as a PNG grid in the output folder (seed and parameters
in its text chunks) like the `inkhorn art` commands do, and `y` copies its path.

A model loads the first time it is shown (tui/panes/base.py); pictures are
made in a thread worker and handed over with call_from_thread; a result that
arrives after a newer request has started is dropped.
"""
from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.widgets import Static
from textual.worker import get_current_worker

from core.art.arithmetic import ARITHMETIC_STRENGTH, analogies, expression
from core.art.png import save_grid
from core import catalog
from core.catalog import by_kind, output_dir
from core.limits import MAX_SEED
from core.safe_text import terminal_safe
from core.text.sampling import new_seed
from tui import keys
from tui.panes.base import ModelPane, ModelState, not_landed_message
from tui.paths import shown
from tui.widgets.image_preview import ImagePreview

KINDS = ("vae", "gan")  # the pane's models by kind, as `inkhorn art vae|gan` calls them
COUNTS = (1, 2, 4, 6, 8, 9, 12, 16, 20, 25, 36, 49, 64)
STEPS = (3, 4, 5, 6, 8, 10, 12, 16)
STRENGTHS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)


def _step(values: tuple[int, ...], current: int, direction: int) -> int:
    """The next value of `values` above (direction > 0) or below `current`, staying at the ends."""
    if direction > 0:
        return next((v for v in values if v > current), values[-1])
    return next((v for v in reversed(values) if v < current), values[0])


class ArtPane(ModelPane):
    TITLE = "Latent art"
    MODELS = tuple(by_kind(kind).name for kind in KINDS)
    BINDINGS = keys.ART_PANE
    can_focus = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kind = "vae" if self.kind_state("vae") is ModelState.WAITING or not self.landed else "gan"
        self.mode = "sample"           # sample, interpolate or arithmetic
        self.seed = new_seed()
        self.count = 16                # pictures per sample
        self.steps = 8                 # pictures per interpolation
        self.equation = 0              # index into core.art.arithmetic.analogies()
        self.strength = ARITHMETIC_STRENGTH  # how far arithmetic moves the last term
        self.request = 0               # id of the newest request; older results are dropped
        self.shown_request = 0         # id of the request whose pictures are on screen
        self.saved = None              # Path of the PNG on show

    def kind_state(self, kind: str) -> ModelState:
        return self.states[by_kind(kind).name]

    @property
    def artist(self):
        """The current kind's core.art.artists.VAEArtist / GANArtist, once loaded."""
        return self.models.get(by_kind(self.kind).name)

    # ----- layout -------------------------------------------------------------------------------
    def compose_pane(self):
        yield Static(id="art-header")
        yield ImagePreview(id="art-preview")
        yield Static(id="art-footer")

    @property
    def preview(self) -> ImagePreview:
        return self.query_one(ImagePreview)

    def on_mount(self) -> None:
        if self.landed:
            self._show_header()
            self._show_footer()

    def focus_prompt(self) -> None:
        """The app's hook for 'this pane takes the keys now' (text panes focus their prompt)."""
        if self.landed:
            self.focus()

    def on_show(self) -> None:
        # coming back to the tab keeps the pictures on screen rather than drawing (and saving) again
        if self.landed and (self.kind_state(self.kind) is not ModelState.READY or self.shown_request == 0):
            self._model_shown()

    def _show_header(self) -> None:
        text = Text()
        for kind in KINDS:
            missing = self.kind_state(kind) is ModelState.MISSING
            style = "reverse bold" if kind == self.kind else ("dim strike" if missing else "")
            text.append(f" {by_kind(kind).title} ", style)
            text.append(" ")
        text.append("  ")
        if self.mode == "arithmetic" and self.kind == "vae":
            a, b, c, d = analogies()[self.equation]
            text.append(f"arithmetic {self.equation + 1}/8 · {c} + {self.strength:g}×({a} − {b}) → {d}?")
        elif self.mode == "interpolate":
            text.append(f"interpolate · seed {self.seed} · {self.steps} steps")
        else:
            text.append(f"sample · seed {self.seed} · {self.count} pictures")
        self.query_one("#art-header", Static).update(text)

    def _show_footer(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(terminal_safe(f"saved {shown(self.saved)}  (y copies the path)") if self.saved else
                    "nothing saved yet")
        text.append("\n" + by_kind(self.kind).licence, "dim italic")
        self.query_one("#art-footer", Static).update(text)

    def _model_status(self, extra: str = "") -> str:
        return self.model_status(self.kind, self.artist.num_params(), extra)

    # ----- loading ------------------------------------------------------------------------------
    def _model_shown(self) -> None:
        """Show whatever the current model has: pictures, a loading spinner, or why there are none."""
        name = by_kind(self.kind).name
        state = self.states[name]
        self.preview.loading = state is ModelState.LOADING
        if state is ModelState.MISSING:
            self.preview.show_message(not_landed_message([name]))
            self.set_status(f"{self.kind}: no checkpoint")
        elif state is ModelState.FAILED:
            self.preview.show_message(Text(f"Could not load the {self.kind}.\n\n{self.errors[name]}", "bold red"))
            self.set_status(f"{self.kind}: not loaded")
        elif state is ModelState.WAITING:
            self.load(name)
        elif state is ModelState.READY:
            self.set_status(self._model_status())
            self.make()

    def build(self, name: str, device):
        from core.art.artists import load_artist

        return load_artist(catalog.MODELS[name].kind, name, device)

    def model_loading(self, name: str) -> None:
        self.preview.loading = True

    def model_ready(self, name: str) -> None:
        if name == by_kind(self.kind).name:
            self._model_shown()

    model_failed = model_ready

    # ----- making pictures ----------------------------------------------------------------------
    def make(self) -> None:
        """Make the pictures the current model, mode, seed and count call for."""
        if self.kind_state(self.kind) is not ModelState.READY:
            return
        if self.mode == "arithmetic" and self.kind == "gan":
            self.mode = "sample"  # the anime faces have no labels, so no groups to do arithmetic with
        self._show_header()
        self.request += 1
        self.set_status(self._model_status("drawing…"))
        self.make_pictures(self.request, self.kind, self.mode, self.seed, self.count, self.steps, self.equation,
                           self.strength)

    @work(thread=True, exclusive=True, group="art-make")
    def make_pictures(self, request: int, kind: str, mode: str, seed: int, count: int, steps: int,
                      equation: int, strength: float) -> None:
        from core.art.artists import sample_path

        artist = self.models[by_kind(kind).name]
        start = time.perf_counter()
        meta = {"model": kind, "command": mode, "checkpoint": artist.path.name, "licence": by_kind(kind).licence,
                "source": "inkhorn app"}
        try:
            if mode == "sample":
                pictures = artist.sample(count, seed)
                meta.update(seed=seed, n=count)
                name = f"{kind}-sample-seed{seed}"
            elif mode == "interpolate":
                pictures = sample_path(artist, steps, seed)
                meta.update(seed=seed, steps=steps)
                name = f"{kind}-interpolate-seed{seed}"
            else:
                text = expression(*analogies()[equation][:3])
                _, expected, pictures = artist.arithmetic(text, strength)
                meta.update(expression=text, strength=strength, layout="each term, then the result",
                            expected_group=expected or "")
                name = f"{kind}-arithmetic"
            if get_current_worker().is_cancelled:
                return  # a newer request replaced this one: do not save what nobody will see
            path = save_grid(pictures, output_dir(), meta, name=name)
        except Exception as e:  # report it, keep the app
            self.from_worker(self._failed, request, f"{type(e).__name__}: {e}")
        else:
            self.from_worker(self._show, request, pictures, path, time.perf_counter() - start)

    def _show(self, request: int, pictures, path, seconds: float) -> None:
        if request != self.request:
            return
        self.saved, self.shown_request = path, request
        self.preview.show(pictures)
        self._show_footer()
        self.set_status(self._model_status(f"{len(pictures)} pictures in {seconds:.2f} s"))

    def _failed(self, request: int, message: str) -> None:
        if request == self.request:
            self.set_status(self._model_status("failed"))
            self.notify(message, title="latent art", severity="error")

    # ----- keys ---------------------------------------------------------------------------------
    def action_switch_model(self) -> None:
        self.kind = "gan" if self.kind == "vae" else "vae"
        self._show_header()
        self._show_footer()
        self._model_shown()

    def _mode(self, mode: str) -> None:
        self.mode = mode
        self._show_header()
        self.make()

    def action_sample(self) -> None:
        self._mode("sample")

    def action_interpolate(self) -> None:
        self._mode("interpolate")

    def action_arithmetic(self) -> None:
        if self.kind != "vae":
            self.notify("arithmetic needs the VAE's labelled face groups: press m for the VAE", severity="warning")
            return
        if self.mode == "arithmetic":
            self.equation = (self.equation + 1) % len(analogies())
        self._mode("arithmetic")

    def action_seed(self, delta: int) -> None:
        self.seed = min(MAX_SEED, max(0, self.seed + delta))
        self._reseeded()

    def action_new_seed(self) -> None:
        self.seed = new_seed()
        self._reseeded()

    def _reseeded(self) -> None:
        if self.mode == "arithmetic":
            self._show_header()  # arithmetic uses the stored group means: no seed involved
            self.notify("arithmetic does not use the seed; s or i draws with it")
            return
        self._mode(self.mode)

    def action_count(self, direction: int) -> None:
        if self.mode == "interpolate":
            self.steps = _step(STEPS, self.steps, direction)
        elif self.mode == "sample":
            self.count = _step(COUNTS, self.count, direction)
        else:
            self.strength = _step(STRENGTHS, self.strength, direction)
        self._mode(self.mode)

    def action_copy(self) -> None:
        if self.saved is None:
            self.notify("nothing saved yet", severity="warning")
            return
        self.app.copy_to_clipboard(str(self.saved))
        self.notify(f"copied {self.saved}")
