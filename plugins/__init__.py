"""First-party plugins (source connectors, extra panes), registered like third-party ones.

The built-in panes and these connectors register through the same ``c360_desktop.plugins``
entry-point group (see pyproject.toml): quickbooks.py, directory.py. The generic column-mapping
connector (TableConnector) stays in the core, which the CLI's --map and the import dialog use.
"""
