"""`python -m bot` does what `reportbot` does."""

import sys

from bot.cli import main

sys.exit(main())
