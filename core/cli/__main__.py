"""`python -m core.cli ...`: the command line without the app."""
import sys

try:
    from core.cli.main import main
except KeyboardInterrupt:  # Ctrl+C while the modules (torch) load, before main() can catch it
    print("interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
