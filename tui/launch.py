"""The `inkhorn` console script: the app with no arguments, the command line otherwise.

It lives on the UI side so that core never imports tui.
"""
from __future__ import annotations

import sys

from core.cli.startup import quit_on_interrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with quit_on_interrupt():  # Ctrl+C while the modules load (core/cli/startup.py)
        if argv:
            from core.cli.main import main as cli_main
        else:
            from tui.app import main as run_app
    if not argv:
        run_app()
        return 0
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
