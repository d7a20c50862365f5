"""Latent art tab: the face VAE and the anime-face GAN, driven by single keys.

`m` switches model; `s` samples, `i` walks between two latents, `a` does the
VAE's arithmetic between the face groups (again for the next equation);
`[` `]` step the seed, `r` draws a new one, `-` `=` change how many pictures.
Every result is saved as a PNG grid in the output folder (seed and parameters
in its text chunks) like the `inkhorn art` commands do, and `y` copies its path.

A model loads in a thread worker the first time it is shown (torch is imported
there only, so the app paints at once); pictures are made in another thread
worker and handed over with call_from_thread; a result that arrives after a
newer request has started is dropped.
"""
from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.containers import Center, Middle, Vertical
from textual.widgets import Static
from textual.worker import get_current_worker

from core.art import (
    ARITHMETIC_STRENGTH,
    GAN_CHECKPOINT,
    LICENCES,
    VAE_CHECKPOINT,
    analogies,
    expression,
    save_grid,
)
from core.paths import checkpoint_dir
from core.sampling import new_seed
from core.session import output_dir
from tui import keys
from tui.panes.not_landed import NotLanded, not_landed_message
from tui.panes.text_pane import TextPane
from tui.panes.worker_calls import WorkerCalls
from tui.paths import shown
from tui.widgets.image_preview import ImagePreview

# kind -> (label, checkpoint file, train command)
MODELS = {
    "vae": ("VAE · faces", VAE_CHECKPOINT, "inkhorn train vae"),
    "gan": ("GAN · anime faces", GAN_CHECKPOINT, "inkhorn train gan"),
}
COUNTS = (1, 2, 4, 6, 8, 9, 12, 16, 20, 25, 36, 49, 64)
STEPS = (3, 4, 5, 6, 8, 10, 12, 16)
STRENGTHS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)


def _step(values: tuple[int, ...], current: int, direction: int) -> int:
    """The next value of `values` above (direction > 0) or below `current`, staying at the ends."""
    if direction > 0:
        return next((v for v in values if v > current), values[-1])
    return next((v for v in reversed(values) if v < current), values[0])


class ArtPane(WorkerCalls, Vertical):
    TITLE = "Latent art"
    BINDINGS = keys.ART_PANE
    can_focus = True
    DEFAULT_CSS = """
    ArtPane { height: 1fr; }
    ArtPane #art-header { height: auto; padding: 0 1; background: $boost; }
    ArtPane #art-preview { height: 1fr; }
    ArtPane #art-footer { height: 2; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        folder = checkpoint_dir()
        self.states = {kind: "waiting" if (folder / file).exists() else "missing"
                       for kind, (_, file, _) in MODELS.items()}  # then loading, ready or failed
        self.landed = any(state == "waiting" for state in self.states.values())
        self.kind = "vae" if self.states["vae"] == "waiting" or not self.landed else "gan"
        self.artists: dict = {}        # kind -> core.latent.VAEArtist / GANArtist once loaded
        self.errors: dict[str, str] = {}
        self.device_label = ""
        self.mode = "sample"           # sample, interpolate or arithmetic
        self.seed = new_seed()
        self.count = 16                # pictures per sample
        self.steps = 8                 # pictures per interpolation
        self.equation = 0              # index into core.art.analogies()
        self.strength = ARITHMETIC_STRENGTH  # how far arithmetic moves the last term
        self.request = 0               # id of the newest request; older results are dropped
        self.shown_request = 0         # id of the request whose pictures are on screen
        self.saved = None              # Path of the PNG on show
        self.status = "" if self.landed else "latent art: no checkpoint"

    # ----- layout -------------------------------------------------------------------------------
    def compose(self):
        if not self.landed:
            commands = [command for _, _, command in MODELS.values()]
            with Middle(), Center():
                yield NotLanded(self.TITLE, [VAE_CHECKPOINT, GAN_CHECKPOINT], commands, classes="notice")
            return
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
        if self.landed and (self.states[self.kind] != "ready" or self.shown_request == 0):
            self._model_shown()

    def _set_status(self, status: str) -> None:
        self.status = status
        self.post_message(TextPane.StatusChanged(self))  # the app's status line shows any pane's status

    def _show_header(self) -> None:
        text = Text()
        for kind, (label, _, _) in MODELS.items():
            style = "reverse bold" if kind == self.kind else ("dim strike" if self.states[kind] == "missing" else "")
            text.append(f" {label} ", style)
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
        text.append(f"saved {shown(self.saved)}  (y copies the path)" if self.saved else "nothing saved yet")
        text.append("\n" + LICENCES[self.kind], "dim italic")
        self.query_one("#art-footer", Static).update(text)

    def _model_status(self, extra: str = "") -> str:
        artist = self.artists[self.kind]
        params = artist.num_params()
        size = f"{params / 1e6:.1f}M" if params >= 1e5 else f"{params / 1e3:.0f}k"
        status = f"{self.device_label} · {self.kind} · {size} params"
        return f"{status} · {extra}" if extra else status

    # ----- loading ------------------------------------------------------------------------------
    def _model_shown(self) -> None:
        """Show whatever the current model has: pictures, a loading spinner, or why there are none."""
        kind = self.kind
        state = self.states[kind]
        self.preview.loading = state == "loading"
        if state == "missing":
            label, file, command = MODELS[kind]
            self.preview.show_message(not_landed_message(label, [file], [command]))
            self._set_status(f"{kind}: no checkpoint")
        elif state == "failed":
            self.preview.show_message(Text(f"Could not load the {kind}.\n\n{self.errors[kind]}", "bold red"))
            self._set_status(f"{kind}: not loaded")
        elif state == "waiting":
            self.states[kind] = "loading"
            self.preview.loading = True
            self._set_status(f"loading the {kind}…")
            self.call_after_refresh(self.load_model, kind)
        elif state == "ready":
            self._set_status(self._model_status())
            self.make()

    @work(thread=True, group="art-load")
    def load_model(self, kind: str) -> None:
        from core.latent import load_artist

        self._load_in_worker(lambda device: load_artist(kind, checkpoint_dir() / MODELS[kind][1], device),
                             self._loaded, self._load_failed, kind)

    def _loaded(self, kind: str, artist, device_label: str) -> None:
        self.artists[kind], self.device_label, self.states[kind] = artist, device_label, "ready"
        if kind == self.kind:
            self._model_shown()

    def _load_failed(self, kind: str, message: str) -> None:
        self.states[kind], self.errors[kind] = "failed", message
        if kind == self.kind:
            self._model_shown()

    # ----- making pictures ----------------------------------------------------------------------
    def make(self) -> None:
        """Make the pictures the current model, mode, seed and count call for."""
        if self.states[self.kind] != "ready":
            return
        if self.mode == "arithmetic" and self.kind == "gan":
            self.mode = "sample"  # the anime faces have no labels, so no groups to do arithmetic with
        self._show_header()
        self.request += 1
        self._set_status(self._model_status("drawing…"))
        self.make_pictures(self.request, self.kind, self.mode, self.seed, self.count, self.steps, self.equation,
                           self.strength)

    @work(thread=True, exclusive=True, group="art-make")
    def make_pictures(self, request: int, kind: str, mode: str, seed: int, count: int, steps: int,
                      equation: int, strength: float) -> None:
        from core.latent import sample_path

        artist = self.artists[kind]
        start = time.perf_counter()
        meta = {"model": kind, "command": mode, "checkpoint": artist.path.name, "licence": LICENCES[kind],
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
            self._from_worker(self._failed, request, f"{type(e).__name__}: {e}")
        else:
            self._from_worker(self._show, request, pictures, path, time.perf_counter() - start)

    def _show(self, request: int, pictures, path, seconds: float) -> None:
        if request != self.request:
            return
        self.saved, self.shown_request = path, request
        self.preview.show(pictures)
        self._show_footer()
        self._set_status(self._model_status(f"{len(pictures)} pictures in {seconds:.2f} s"))

    def _failed(self, request: int, message: str) -> None:
        if request == self.request:
            self._set_status(self._model_status("failed"))
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
        self.seed = max(0, self.seed + delta)
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
