"""Run the desktop app with ``python -m c360_desktop``."""

from c360_desktop.ui.app import main

raise SystemExit(main())
