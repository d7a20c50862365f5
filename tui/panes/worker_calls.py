"""What the panes share about thread workers: handing results to the UI thread, and loading a model.

A model loads in a thread worker (torch is imported there only, so the app
paints at once, and the CPU thread count is set there, before any model
runs); the worker reports back on the UI thread either the loaded
model and the device's label, or a message that says why it could not load.
"""
from __future__ import annotations

from typing import Any, Callable


class WorkerCalls:
    """Mixin for a Textual widget whose thread workers report back to it."""

    def _from_worker(self, callback: Callable, *args) -> None:
        """call_from_thread that tolerates the app closing under a running worker."""
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            pass  # the app has closed under the worker

    def _load_in_worker(self, make: Callable[[Any], Any], loaded: Callable, failed: Callable, *args) -> None:
        """Call from a thread worker: make(device) builds the model; then loaded(*args, model, device label)
        or failed(*args, message) runs on the UI thread. A broken install or file never takes the app down."""
        from core.checkpoints import CheckpointError
        from core.device import choose_device, set_threads

        try:
            set_threads("decode")  # $INKHORN_THREADS, else one thread: the app decodes a row at a time
            device = choose_device()
            model = make(device.device)
        except CheckpointError as e:
            self._from_worker(failed, *args, str(e))
        except Exception as e:
            self._from_worker(failed, *args, f"{type(e).__name__}: {e}")
        else:
            self._from_worker(loaded, *args, model, device.label)
