"""Key-to-screen latency of the writing desk in a real terminal: tmux at 80x24, the shipped Hemingway model.

    python tests/tui/key_latency.py [--presses 20] [--json]

A key is sent with `send-keys` and the screen is read back with `capture-pane` as fast as it will
go, both through one tmux control-mode client, until the screen shows the key's effect; the time
between is one measurement. Measured:
- while text streams: a settings key (temperature up and down, shown in the settings bar) and a
  desk key (F3: the token panel shown and hidden);
- while background siblings are being written: a letter typed into the document;
- idle: a letter typed into the document.
The app runs with its own empty data and config folders (nothing of the user's is read or written).
Not a test: it needs the shipped checkpoint and takes about a minute.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOCKET = f"inkhorn-latency-{os.getpid()}"
TMUX = ["tmux", "-L", SOCKET, "-f", "/dev/null"]


class Control:
    """One tmux control-mode client: keys are sent and the screen read back over its pipe, with no process
    started per command (a tmux process started for each poll and key took 5-12 ms, as much as a fifth of
    what is measured)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(TMUX + ["-C", "attach-session", "-f", "no-output,ignore-size", "-t", "ink"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.reply()  # the attach command's own reply

    def run(self, command: str) -> str:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.reply()

    def reply(self) -> str:
        lines = []
        while not (line := self.proc.stdout.readline()).startswith("%begin"):
            if not line:
                raise RuntimeError("the tmux control client ended")
        while not (line := self.proc.stdout.readline()).startswith(("%end", "%error")):
            lines.append(line)
        if line.startswith("%error"):
            raise RuntimeError(f"tmux: {''.join(lines)}")
        return "".join(lines)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


CONTROL: Control | None = None


def screen() -> str:
    return CONTROL.run("capture-pane -p -t ink")


def keys(*names: str, literal: bool = False) -> None:
    CONTROL.run(" ".join(["send-keys", "-t", "ink"] + (["-l"] if literal else []) + [shlex.quote(n) for n in names]))


def wait_for(predicate, timeout: float = 120.0) -> float:
    """Seconds until predicate(screen()) holds."""
    start = time.perf_counter()
    while not predicate(screen()):
        if time.perf_counter() - start > timeout:
            raise TimeoutError(screen())
    return time.perf_counter() - start


def press(key: str, shows, literal: bool = False) -> float:
    """Milliseconds from sending `key` until the screen `shows` its effect."""
    start = time.perf_counter()
    keys(key, literal=literal)
    while not shows(screen()):
        if time.perf_counter() - start > 10:
            raise TimeoutError(screen())
    return (time.perf_counter() - start) * 1000


def summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"n": len(samples), "median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)], 1), "max_ms": round(ordered[-1], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20, help="measurements of each kind")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="inkhorn-latency-"))
    env = {"INKHORN_DATA_DIR": str(folder / "data"), "INKHORN_CONFIG_DIR": str(folder / "config"),
           "INKHORN_OUTPUT_DIR": str(folder / "outputs"), "PYTHONPATH": str(ROOT)}
    command = f"cd {shlex.quote(str(ROOT))} && env " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command += f" {shlex.quote(sys.executable)} -m tui"
    subprocess.run(TMUX + ["new-session", "-d", "-x", "80", "-y", "24", "-s", "ink", command], check=True,
                   env={**os.environ, "TERM": "xterm-256color"})
    global CONTROL
    CONTROL = Control()
    results = {}
    try:
        wait_for(lambda s: "params" in s)
        keys("The sun also rose over the hills and we walked down to the river.", literal=True)
        keys("Tab", *["Right"] * 5, "Enter")  # the settings bar: max new tokens, typed
        wait_for(lambda s: "esc closes" in s)
        keys("BSpace", "BSpace", "BSpace", "2000", "Enter")
        wait_for(lambda s: "max 2000" in s)
        keys("Left", "Left", "Left", "Left", "Left")  # back to the temperature
        keys("C-g")
        wait_for(lambda s: "generating" in s)
        streaming = []
        for _ in range(args.presses):
            streaming.append(press("]", lambda s: "temp 0.90" in s))
            streaming.append(press("[", lambda s: "temp 0.80" in s))
        results["settings key while streaming"] = summary(streaming)
        keys("Tab")
        desk = []
        for _ in range(args.presses):
            desk.append(press("F3", lambda s: "token at the cursor" in s))
            desk.append(press("F3", lambda s: "token at the cursor" not in s))
        assert "generating" in screen(), "the generation ended before the measurements did"
        results["desk key while streaming"] = summary(desk)
        keys("Escape")
        wait_for(lambda s: "stopped" in s)
        keys("Tab", *["Right"] * 5, "BSpace", "Tab")  # back to 300 new tokens for the background siblings
        keys("C-r")
        wait_for(lambda s: "generated 2/2" in s and "300 tokens" in s)
        time.sleep(1.5)  # the background siblings are being written now
        typed, busy = [], []
        keys("C-End")  # the cursor at the end of the text, on screen, where the writer goes on
        assert "more ready" not in screen(), "the background siblings were written before the measurements"
        for i in range(args.presses):
            mark = f"q{i}z"
            busy.append(press(mark, lambda s, m=mark: m in s, literal=True))
        results["typing while siblings are written in the background"] = summary(busy)
        keys("C-z")  # the letters typed, undone: the retried text is on show again
        wait_for(lambda s: "3 more ready" in s, timeout=300)  # the background is done
        for i in range(args.presses):
            mark = f"k{i}x"
            typed.append(press(mark, lambda s, m=mark: m in s, literal=True))
        results["typing, idle"] = summary(typed)
    finally:
        CONTROL.close()
        subprocess.run(TMUX + ["kill-server"], capture_output=True)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for what, numbers in results.items():
            print(f"{what:55} median {numbers['median_ms']:6.1f} ms  p95 {numbers['p95_ms']:6.1f} ms  "
                  f"max {numbers['max_ms']:6.1f} ms  (n={numbers['n']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
