"""Running work off the GUI thread: ``run_query`` for reads, ``run_mutation`` for writes.

Modelled on Anki's QueryOp / CollectionOp. Background functions are plain functions that take a
core ``Progress`` (so they are tested without Qt); results, errors and progress come back to the
GUI thread through queued signals. Mutations run one at a time on a single writer thread.
"""

from __future__ import annotations

import contextvars
import gc
import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from c360_desktop.core import logs
from c360_desktop.core.progress import Cancelled, Progress

log = logging.getLogger(__name__)


def collect_garbage_on_gui_thread(parent: QObject, interval_ms: int = 100,
                                  full_every_s: float = 120.0) -> QTimer:
    """Python's cycle collector runs on whichever thread happens to cross its allocation
    threshold. On a worker thread it can destroy Qt objects caught in reference cycles (a closed
    pane and its callbacks) off the GUI thread, which crashes. So automatic collection is turned
    off and a timer collects on the GUI thread instead (as Anki does), generation by generation
    as the interpreter would, with a full collection (the one that costs tens of milliseconds on
    a big heap and would stall the event loop) at most every ``full_every_s`` seconds. Objects
    alive once the window is up can be set aside for good with ``gc.freeze()``."""
    gc.disable()
    last_full = [time.monotonic()]

    def collect() -> None:
        counts, limits = gc.get_count(), gc.get_threshold()
        if counts[2] > limits[2] and time.monotonic() - last_full[0] > full_every_s:
            gc.collect(2)
            last_full[0] = time.monotonic()
        elif counts[1] > limits[1]:
            gc.collect(1)
        elif counts[0] > limits[0]:
            gc.collect(0)

    timer = QTimer(parent)
    timer.timeout.connect(collect)
    timer.start(interval_ms)
    return timer


class TaskHandle(QObject):
    """One background task. Lives in the GUI thread; its slots call the callbacks there."""

    sig_finished = Signal(object)
    """The task returned a value."""
    sig_failed = Signal(object)
    """The task raised; carries the exception."""
    sig_progressed = Signal(float, str)
    """The task reported progress (fraction 0..1, message)."""

    def __init__(self, on_done: Callable[[Any], None] | None,
                 on_error: Callable[[BaseException], None] | None,
                 on_progress: Callable[[float, str], None] | None,
                 on_settled: Callable[[TaskHandle], None],
                 on_cancelled: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.progress = Progress(lambda f, msg: self.sig_progressed.emit(f, msg))
        self.done = False
        self.cid = ""
        """The correlation id the task's log lines carry."""
        self._on_done, self._on_error, self._on_progress = on_done, on_error, on_progress
        self._on_settled, self._on_cancelled = on_settled, on_cancelled
        self.sig_finished.connect(self._finished)
        self.sig_failed.connect(self._failed)
        self.sig_progressed.connect(self._progressed)

    def cancel(self) -> None:
        self.progress.cancel()

    @property
    def cancelled(self) -> bool:
        return self.progress.cancelled

    @Slot(object)
    def _finished(self, value: Any) -> None:
        self.done = True
        try:
            if self._on_done is not None and not self.cancelled:
                self._on_done(value)
        finally:
            self._on_settled(self)

    @Slot(object)
    def _failed(self, exc: BaseException) -> None:
        self.done = True
        try:
            if isinstance(exc, Cancelled) or self.cancelled:
                if self._on_cancelled is not None:
                    self._on_cancelled()
                return
            if self._on_error is not None:
                self._on_error(exc)
            else:
                log.error("background task failed: %s", "".join(traceback.format_exception(exc)))
        finally:
            self._on_settled(self)

    @Slot(float, str)
    def _progressed(self, fraction: float, message: str) -> None:
        if self._on_progress is not None and not self.done:
            self._on_progress(fraction, message)


def task_name(fn: Callable[..., Any]) -> str:
    """A short readable name of a background function, for the log."""
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    return name.replace(".<locals>", "")


class _Job(QRunnable):
    """Runs ``fn`` in a copy of the starter's context, so the correlation id of the user action
    that started it (``core.logs``) is on every line the work logs, on whichever thread."""

    def __init__(self, fn: Callable[[Progress], Any], handle: TaskHandle, writes: bool) -> None:
        super().__init__()
        self._fn, self._handle, self._writes = fn, handle, writes
        with logs.correlated(logs.current() or None) as self.cid:
            self._context = contextvars.copy_context()

    def run(self) -> None:
        self._context.run(self._run)

    def _run(self) -> None:
        name = task_name(self._fn)
        level = logging.INFO if self._writes else logging.DEBUG
        log.log(level, "task %s started", name)
        started = time.perf_counter()
        try:
            value = self._fn(self._handle.progress)
        except BaseException as exc:  # reported on the GUI thread
            ms = (time.perf_counter() - started) * 1000
            if isinstance(exc, Cancelled) or self._handle.cancelled:
                log.info("task %s cancelled after %.0f ms", name, ms)
            else:
                log.warning("task %s failed after %.0f ms: %s: %s", name, ms, type(exc).__name__, exc)
            self._handle.sig_failed.emit(exc)
        else:
            log.log(level, "task %s finished in %.0f ms", name, (time.perf_counter() - started) * 1000)
            self._handle.sig_finished.emit(value)


class TaskRunner(QObject):
    """Owns the thread pools. Keeps each handle alive until its task has finished."""

    def __init__(self, parent: QObject | None = None, readers: int = 3) -> None:
        super().__init__(parent)
        self._readers = QThreadPool(self)
        self._readers.setMaxThreadCount(readers)
        self._writer = QThreadPool(self)
        self._writer.setMaxThreadCount(1)
        self._live: set[TaskHandle] = set()

    def run_query(self, fn: Callable[[Progress], Any], on_done: Callable[[Any], None] | None = None,
                  on_error: Callable[[BaseException], None] | None = None,
                  on_progress: Callable[[float, str], None] | None = None,
                  on_cancelled: Callable[[], None] | None = None) -> TaskHandle:
        """Run ``fn(progress)`` on a reader thread; every callback runs on the GUI thread."""
        return self._start(self._readers, fn, on_done, on_error, on_progress, on_cancelled, False)

    def run_mutation(self, fn: Callable[[Progress], Any], on_done: Callable[[Any], None] | None = None,
                     on_error: Callable[[BaseException], None] | None = None,
                     on_progress: Callable[[float, str], None] | None = None,
                     on_cancelled: Callable[[], None] | None = None) -> TaskHandle:
        """Like run_query, on the single writer thread, so writes never overlap."""
        return self._start(self._writer, fn, on_done, on_error, on_progress, on_cancelled, True)

    def _start(self, pool: QThreadPool, fn: Callable[[Progress], Any], on_done: Any, on_error: Any,
               on_progress: Any, on_cancelled: Any, writes: bool) -> TaskHandle:
        # Callbacks are called from the handle's slots (GUI thread), never connected to its
        # signals directly: PySide runs a plain function connected to a signal in the emitting
        # (worker) thread. For the same reason the handle is released from a slot.
        handle = TaskHandle(on_done, on_error, on_progress, self._live.discard, on_cancelled)
        self._live.add(handle)
        job = _Job(fn, handle, writes)
        handle.cid = job.cid
        pool.start(job)
        return handle

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until all tasks finished (shutdown and tests only)."""
        return self._readers.waitForDone(msecs) and self._writer.waitForDone(msecs)
