"""`python -m core.cli ...`: the command line without the app."""
import sys

from core.cli.main import main

sys.exit(main())
