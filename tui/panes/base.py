"""What every tab of the app shares: its catalog models, their loading, its status line, its worker plumbing.

A pane names the catalog models it runs (MODELS). Each loads in a thread
worker the first time it is needed (torch is imported there only, so the app
paints at once, and the CPU thread count is set there, before any model
runs); the worker posts `ModelLoaded` or `LoadFailed` back to the
pane, which subclasses handle in `model_ready` / `model_failed`. A model
whose checkpoint is missing never loads: the pane says so and names the
command that trains it. The app shows the status of the pane on screen,
which each pane announces with `StatusChanged`.
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Callable, ClassVar

from rich.text import Text
from textual import work
from textual.containers import Center, Middle, Vertical
from textual.message import Message
from textual.widgets import Static

from core import catalog
from core.safe_text import terminal_safe
from tui.paths import shown


class ModelState(str, Enum):
    MISSING = "missing"  # no checkpoint file: it cannot load
    WAITING = "waiting"  # found, not loaded: it loads when first needed
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


def not_landed_message(names: list[str]) -> Text:
    """What to say where a model's checkpoint is missing: where it was looked for, and how to train it."""
    entries = [catalog.MODELS[name] for name in names]
    text = Text()
    text.append(f"{' and '.join(e.title for e in entries)} {'has' if len(entries) == 1 else 'have'} "
                "not landed yet.\n\n", "bold")
    places = terminal_safe(" or ".join(shown(e.path) for e in entries))  # $INKHORN_CHECKPOINTS may hold anything
    text.append(f"There is no checkpoint at {places}.\nTrain one with:\n\n")
    text.append("\n".join(f"    {e.train}" for e in entries), "bold")
    return text


def size_label(params: int) -> str:
    return f"{params / 1e6:.1f}M" if params >= 1e5 else f"{params / 1e3:.0f}k"


class ModelPane(Vertical):
    TITLE: ClassVar[str]                  # its tab; by default its first model's title in the catalog
    MODELS: ClassVar[tuple[str, ...]]     # catalog names of the models it runs, the default first

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "TITLE" not in cls.__dict__ and "MODELS" in cls.__dict__:
            cls.TITLE = catalog.MODELS[cls.MODELS[0]].title

    class StatusChanged(Message):
        def __init__(self, pane: "ModelPane") -> None:
            super().__init__()
            self.pane = pane

    class ModelLoaded(Message):
        def __init__(self, name: str, model: Any, device_label: str) -> None:
            super().__init__()
            self.name, self.model, self.device_label = name, model, device_label

    class LoadFailed(Message):
        def __init__(self, name: str, error: str) -> None:
            super().__init__()
            self.name, self.error = name, error

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.states = {name: ModelState.WAITING if catalog.MODELS[name].shipped else ModelState.MISSING
                       for name in self.MODELS}
        self.titles = {name: catalog.MODELS[name].title for name in self.MODELS}  # what the status line calls each
        self.landed = any(state is ModelState.WAITING for state in self.states.values())
        self.models: dict[str, Any] = {}    # name -> the loaded model, once READY
        self.errors: dict[str, str] = {}    # name -> why it did not load, once FAILED
        self.device_label = ""
        self.status = "" if self.landed else f"{self.TITLE.lower()}: no checkpoint"

    @property
    def model_name(self) -> str:
        """The model the pane runs now: its default one unless a pane lets the user pick another."""
        return self.MODELS[0]

    @property
    def state(self) -> ModelState:
        return self.states[self.model_name]

    # ----- layout -------------------------------------------------------------------------------
    def compose(self):
        if not self.landed:
            with Middle(), Center():
                yield Static(not_landed_message(list(self.MODELS)), classes="notice")
            return
        yield from self.compose_pane()

    def compose_pane(self):
        """The pane's widgets, when at least one of its models has a checkpoint."""
        raise NotImplementedError

    def focus_prompt(self) -> None:
        """Give the keys to the pane's main widget (the app calls this when the tab is shown)."""

    # ----- status -------------------------------------------------------------------------------
    def set_status(self, status: str) -> None:
        self.status = terminal_safe(status)  # it may hold a model's or a file's name
        self.post_message(self.StatusChanged(self))

    def model_status(self, label: str, params: int, extra: str = "") -> str:
        status = f"{self.device_label} · {label} · {size_label(params)} params"
        return f"{status} · {extra}" if extra else status

    # ----- loading ------------------------------------------------------------------------------
    def offer(self, name: str, title: str) -> None:
        """Make a model outside the catalog loadable: `name` is what `build` takes (a path), `title` how it is shown."""
        if name not in self.states:
            self.states[name], self.titles[name] = ModelState.WAITING, title

    def load(self, name: str) -> None:
        """Start loading `name` if it is waiting; a no-op otherwise."""
        if self.states[name] is ModelState.WAITING:
            self.states[name] = ModelState.LOADING
            self.set_status(f"loading {self.titles[name]}…")
            self.model_loading(name)
            self.call_after_refresh(self._load, name)

    def build(self, name: str, device) -> Any:
        """Load model `name` (a catalog name, or one given to `offer`) on `device` (runs in a thread worker)."""
        raise NotImplementedError

    @work(thread=True, group="load")
    def _load(self, name: str) -> None:
        from core.checkpoints import CheckpointError
        from core.device import choose_device
        from core.threads import set_threads

        try:
            set_threads("decode")  # $INKHORN_THREADS, else one thread: the app decodes a row at a time
            device = choose_device()
            model = self.build(name, device.device)
        except CheckpointError as e:
            self.post_message(self.LoadFailed(name, terminal_safe(str(e))))
        except Exception as e:  # a broken install or file never takes the app down
            self.post_message(self.LoadFailed(name, terminal_safe(f"{type(e).__name__}: {e}")))
        else:
            self.post_message(self.ModelLoaded(name, model, device.label))

    def on_model_pane_model_loaded(self, message: ModelLoaded) -> None:
        message.stop()
        self.models[message.name], self.device_label = message.model, message.device_label
        self.states[message.name] = ModelState.READY
        self.model_ready(message.name)

    def on_model_pane_load_failed(self, message: LoadFailed) -> None:
        message.stop()
        self.states[message.name], self.errors[message.name] = ModelState.FAILED, message.error
        self.model_failed(message.name)

    def model_loading(self, name: str) -> None:
        """Hook: `name` started loading."""

    def model_ready(self, name: str) -> None:
        """Hook: `name` is loaded, in self.models."""

    def model_failed(self, name: str) -> None:
        """Hook: `name` could not load; self.errors says why."""

    # ----- workers ------------------------------------------------------------------------------
    def from_worker(self, callback: Callable, *args) -> None:
        """call_from_thread that tolerates the app closing under a running worker."""
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            pass  # the app has closed under the worker
