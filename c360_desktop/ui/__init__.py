"""The PySide6 user interface: composition root, main window, panes and workers."""
