"""C360 Desktop: an offline-first customer 360 workstation."""

__version__ = "0.1.0"
