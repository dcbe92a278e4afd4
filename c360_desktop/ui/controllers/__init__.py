"""Controllers that are not panes: sync, live alerts, imports. The composition root (ui/app.py)
makes them and connects them to the window and the panes."""
