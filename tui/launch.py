"""The `inkhorn` console script: the app with no arguments, the command line otherwise.

It lives on the UI side so that core never imports tui.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:  # Ctrl+C while the modules load, before the app or main() can catch it
        if not argv:
            from tui.app import main as run_app

            run_app()
            return 0
        from core.cli.main import main as cli_main
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
