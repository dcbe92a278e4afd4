"""Sync's exceptions, light enough to import anywhere (the engine itself loads on first use)."""


class SyncError(Exception):
    """A one-line reason sync cannot go on; nothing has been written for the failed step."""


class Duplicate(Exception):
    """A central write hit a unique key (for an idempotency key: the change was applied before)."""
