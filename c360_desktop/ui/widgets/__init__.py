"""Reusable widgets shared by panes."""
