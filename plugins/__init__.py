"""First-party plugins (source connectors, extra panes), registered like third-party ones.

The built-in lookup and 360 panes register through the same ``c360_desktop.plugins``
entry-point group (see pyproject.toml); connectors arrive with the identity issue.
"""
