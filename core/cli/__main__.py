"""`python -m core.cli ...`: the command line without the app."""
import sys

from core.cli.startup import quit_on_interrupt

with quit_on_interrupt():
    from core.cli.main import main

sys.exit(main())
