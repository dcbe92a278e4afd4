"""The frozen app's GUI entry point (c360-desktop)."""

import sys

from c360_desktop.ui.app import main

sys.exit(main())
