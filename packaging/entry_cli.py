"""The frozen app's command-line entry point (c360)."""

import sys

from c360_desktop.cli import main

sys.exit(main())
