"""`inkhorn` (the console script) in a real terminal: tmux at 80x24, keys only (modified keys included, as
tmux passes them on), screen read back with capture-pane."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.cells import cell_len

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def inkhorn_command() -> list[str]:
    script = Path(sys.executable).parent / "inkhorn"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui"]


def wait_until(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_inkhorn_in_tmux(checkpoint_dir, tmp_path):
    out = tmp_path / "outputs"
    tmux = ["tmux", "-L", f"inkhorn-test-{os.getpid()}", "-f", "/dev/null"]
    env = {"INKHORN_CHECKPOINTS": str(checkpoint_dir), "INKHORN_DEVICE": "cpu", "INKHORN_OUTPUT_DIR": str(out),
           "INKHORN_DATA_DIR": str(tmp_path / "data"), "INKHORN_CONFIG_DIR": str(tmp_path / "config")}
    command = "env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + " " + shlex.join(inkhorn_command())

    def screen() -> str:
        return subprocess.run(tmux + ["capture-pane", "-p", "-t", "ink"], capture_output=True, text=True).stdout

    def keys(*names: str) -> None:
        subprocess.run(tmux + ["send-keys", "-t", "ink", *names], check=True)

    subprocess.run(tmux + ["new-session", "-d", "-x", "80", "-y", "24", "-s", "ink", command], check=True,
                   env={**os.environ, "TERM": "xterm-256color"})
    try:
        wait_until(lambda: "params" in screen(), what="the model to load")
        first = screen()
        assert "Hemingway" in first and "Latent art" in first and "cpu · hemingway" in first
        keys("-l", "The sun [rg] (c)")  # plain keys type, whatever they are
        wait_until(lambda: "The sun [rg] (c)" in screen(), what="the typed text")
        keys("C-g")
        wait_until(lambda: " tokens · " in screen(), what="the generation to finish")
        shown = screen()
        assert "tok/s" in shown and "temp 0.80" in shown and "generated" in shown
        keys("C-Home")  # the view followed the stream: the typed text may be above it now
        wait_until(lambda: "The sun [rg] (c)" in screen(), what="the typed text at the start of the document")
        lines = shown.splitlines()
        # the bars below the document fit 80 columns (the random model's text may hold zero-width characters)
        assert len(lines) == 24 and all(cell_len(line) <= 80 for line in lines[-5:])
        keys("Tab", "]")  # in the settings bar ] is a key, not text
        wait_until(lambda: "temp 0.90" in screen(), what="the temperature key")
        keys("Tab", "M-Left")  # back to the document; no sibling to go to yet
        keys("C-r")
        wait_until(lambda: "generated 2/2" in screen(), what="the retry")
        keys("C-s")
        wait_until(lambda: list(out.glob("*.md")) and list(out.glob("*.json")), what="the exports")
        keys("C-q")
        wait_until(lambda: subprocess.run(tmux + ["has-session", "-t", "ink"], capture_output=True).returncode,
                   timeout=15, what="the app to quit")
        assert (tmp_path / "data" / "documents" / "hemingway.json").exists()
        assert json.loads((tmp_path / "config" / "settings.json").read_text())["sampler"]["temperature"] == 0.9
    finally:
        subprocess.run(tmux + ["kill-server"], capture_output=True)
