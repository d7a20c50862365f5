"""The `inkhorn` console script: the app with no arguments (or its one option, --gpt2 DIR...), the command
line otherwise.

It lives on the UI side so that core never imports tui.
"""
from __future__ import annotations

import sys

from core.cli.startup import quit_on_interrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    app = not argv or argv[0] == "--gpt2"  # the app's one option
    with quit_on_interrupt():  # Ctrl+C while the modules load (core/cli/startup.py)
        if app:
            from tui.app import main as run_app
        else:
            from core.cli.main import main as cli_main
    if app:
        run_app(argv)
        return 0
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
