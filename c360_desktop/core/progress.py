"""Progress and cancellation for long work, without Qt (the UI adapts it; the CLI prints it)."""

from __future__ import annotations

from collections.abc import Callable

Step = Callable[[float, str], None]


class Cancelled(Exception):
    """Raised inside long work when the user cancelled it."""


class Progress:
    """Handed to background functions: ``update(fraction, message)`` and ``cancelled``.

    ``update`` raises ``Cancelled`` once ``cancel()`` has been called, so work stops at its next
    checkpoint and callers need no flag-checking of their own.
    """

    def __init__(self, callback: Callable[[float, str], None] | None = None) -> None:
        self._callback = callback
        self._cancelled = False
        self.fraction = 0.0
        self.message = ""
        # Optional structured detail for a UI that wants more than one bar (e.g. the sync's
        # per-table figures); replaced as a whole, so readers on other threads see a consistent value.
        self.detail: object = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        self._cancelled = True

    def update(self, fraction: float, message: str = "") -> None:
        if self._cancelled:
            raise Cancelled()
        self.fraction = max(0.0, min(1.0, fraction))
        self.message = message
        if self._callback is not None:
            self._callback(self.fraction, message)


def step_of(progress: Progress | None) -> Step:
    """The plain step reporter inside long work that was handed a ``Progress`` (or none): each
    step reports, and raises ``Cancelled`` once the work was cancelled."""
    return progress.update if progress is not None else (lambda _f, _m: None)


def cancel_check(progress: Progress | None) -> Callable[[], bool]:
    """Whether the work handed ``progress`` was cancelled, for loops between reports."""
    return (lambda: progress.cancelled) if progress is not None else (lambda: False)


def checkpoints(progress: Step | None, cancelled: Callable[[], bool] | None, what: str) -> Step:
    """A step reporter for long work told progress and cancel as plain callables: each step
    first stops the work (``Cancelled``, saying ``what`` stays as it was) if it was cancelled."""
    say = progress or (lambda _f, _m: None)

    def step(fraction: float, message: str) -> None:
        if cancelled and cancelled():
            raise Cancelled(f"cancelled; {what}")
        say(fraction, message)

    return step
