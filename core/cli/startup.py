"""Ctrl+C while a command starts up: importing torch takes seconds, and is no place for KeyboardInterrupt.

An interrupt that lands inside the import of a C extension can leave it half loaded, and some libraries
swallow it, so the command would go on regardless or fail later with a traceback. Until the command
itself runs, Ctrl+C ends the process at once with the status of an interrupt; from then on it raises
KeyboardInterrupt, which every command turns into one line and exit status 130 (core/cli/main.py).
"""
from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from typing import Iterator

INTERRUPTED = 130


@contextmanager
def quit_on_interrupt() -> Iterator[None]:
    def quit_now(signum, frame):
        os.write(2, b"interrupted\n")
        os._exit(INTERRUPTED)  # nothing is written yet, so nothing is lost

    previous = signal.signal(signal.SIGINT, quit_now)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
