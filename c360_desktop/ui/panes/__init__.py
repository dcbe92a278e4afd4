"""Panes: each a package with pane.py (widget), model.py (Qt model) and a plugin entry."""
