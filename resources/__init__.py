"""Bundled data files: Jamaican reference data, icons and map assets (read with importlib.resources)."""
