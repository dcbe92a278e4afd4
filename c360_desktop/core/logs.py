"""Logs: JSON lines in the per-user log folder (rotated), readable text on the console.

Every line carries a correlation id, a short token that follows one user action from the GUI
through the worker that runs it to its SQL (the central connection's ``application_name``), its
sync batches and the Kafka messages it leads to, so support can pull one story out of the log
with one search. Ids live in a context variable: ``correlated()`` sets one, ``ui.workers`` copies
it into the worker thread.

Nothing personal or secret reaches a log file: every record passes ``Scrubber``, which masks
passwords in URLs and ``key=value`` pairs, e-mail addresses and digit runs shaped like phone
numbers or TRNs, whatever the code that logged it wrote.

Environment: ``C360_LOG_DIR`` (the folder), ``C360_LOG_LEVEL`` (DEBUG for more detail).
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import re
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs

from c360_desktop.core.private import create_private, make_private_dir

APP_NAME = "c360-desktop"
LOG_FILE = "c360.jsonl"
MAX_BYTES = 2_000_000
BACKUPS = 5
CONSOLE_FORMAT = "%(asctime)s %(levelname)s [%(cid)s] %(name)s: %(message)s"

_cid: ContextVar[str] = ContextVar("c360_correlation_id", default="")


def log_dir() -> Path:
    """The per-user log folder (``C360_LOG_DIR`` overrides it)."""
    return Path(os.environ.get("C360_LOG_DIR") or platformdirs.user_log_dir(APP_NAME, False))


# -- correlation ids -------------------------------------------------------------------------------

def new_id() -> str:
    """A fresh correlation id: 12 hex digits, unique enough within one support case."""
    return uuid.uuid4().hex[:12]


def current() -> str:
    """The correlation id of the work running now, or "" outside any."""
    return _cid.get()


@contextlib.contextmanager
def correlated(cid: str | None = None) -> Iterator[str]:
    """Run a block under ``cid`` (a new id if None or empty); yields the id in force."""
    token = _cid.set(cid or new_id())
    try:
        yield _cid.get()
    finally:
        _cid.reset(token)


# -- scrubbing -------------------------------------------------------------------------------------

_SCRUBS: tuple[tuple[re.Pattern[str], str], ...] = (
    # user:password@ in a URL (a database or broker address)
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*):[^\s@/]+@", re.I), r"\1:***@"),
    # password=..., "token": "...", api_key: ...
    (re.compile(r"""((?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|sasl\.password)["']?\s*[=:]\s*["']?)"""
                r"""[^\s"',;&]+""", re.I), r"\1***"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<e-mail>"),
    # phones and TRNs, separated (+1 876 555 0100, (876) 555-0100, 555-0100, 123-456-789) or as
    # one run of 9 to 15 digits; shorter plain numbers (counts, milliseconds) stay readable
    (re.compile(r"(?<![\w-])(?:(?:\+?1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])?\d{3}[ .-]\d{3,4}|\+?\d{9,15})(?![\w-])"),
     "<number>"),
)


_KNOWN: set[str] = set()  # secrets this process has handled: masked wherever they appear


def known_secret(value: str | bytes | None) -> None:
    """Mask ``value`` in every later log line and crash text, whatever its shape (a password
    read from the keyring, a token key): patterns only catch secrets written as ``password=``."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if value and len(value) >= 6:
        _KNOWN.add(value)


def scrub(text: str) -> str:
    """``text`` with known secrets, secret-looking assignments, e-mail addresses and phone- or
    TRN-shaped numbers masked."""
    for secret in sorted(_KNOWN, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


def scrub_data(value: Any) -> Any:
    """``value`` (JSON-like data) with ``scrub`` applied to every string in it; numbers stay."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_data(v) for v in value]
    return value


class Scrubber(logging.Filter):
    """Masks what ``scrub`` masks in a record's message and traceback, before any handler
    formats it (attached to handlers, so it covers every library's loggers too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_c360_scrubbed", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        record._c360_scrubbed = True
        return True


class CorrelationFilter(logging.Filter):
    """Gives each record the correlation id of the work that logged it (``-`` outside any)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "cid", None):
            record.cid = _cid.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC), level, logger, cid, thread, msg, and exc if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "cid": getattr(record, "cid", "-"),
            "thread": record.threadName, "msg": record.getMessage()}
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class _PrivateRotatingHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler whose files are readable by their owner only."""

    def _open(self):  # type: ignore[no-untyped-def]
        create_private(Path(self.baseFilename))
        return super()._open()


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (the CLI wraps it for a command's run)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


# -- set-up ----------------------------------------------------------------------------------------

def _ours(handler: logging.Handler) -> bool:
    return bool(getattr(handler, "_c360", False))


def setup(folder: Path | None = None, console: bool = True, level: str | None = None,
          console_level: int = logging.NOTSET, to_file: bool = True) -> Path | None:
    """Send every logger's records to ``folder``/c360.jsonl (rotated at 2 MB, 5 kept) unless not
    ``to_file``, and, if ``console``, as text to stderr (only from ``console_level`` up). Calling
    it again replaces the handlers it installed before. Returns the log file's path."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if _ours(h)]:
        root.removeHandler(handler)
        handler.close()
    name = (level or os.environ.get("C360_LOG_LEVEL") or "INFO").upper()
    numeric = logging.getLevelName(name)
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
    handlers: list[logging.Handler] = []
    path = None
    if to_file:
        folder = folder or log_dir()
        make_private_dir(folder)
        path = folder / LOG_FILE
        file_handler = _PrivateRotatingHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
        file_handler.setFormatter(JsonFormatter())
        handlers.append(file_handler)
    if console:
        text = _Stderr()
        text.setFormatter(logging.Formatter(CONSOLE_FORMAT))
        text.setLevel(console_level)
        handlers.append(text)
    for handler in handlers:
        handler._c360 = True  # type: ignore[attr-defined]
        handler.addFilter(CorrelationFilter())
        handler.addFilter(Scrubber())
        root.addHandler(handler)
    return path


def log_files(folder: Path | None = None) -> list[Path]:
    """The log file and its rotated predecessors that exist, newest first."""
    folder = folder or log_dir()
    paths = [folder / LOG_FILE] + [folder / f"{LOG_FILE}.{n}" for n in range(1, BACKUPS + 1)]
    return [p for p in paths if p.exists()]


def recent(count: int = 200, folder: Path | None = None) -> list[dict[str, Any]]:
    """The last ``count`` log entries, oldest first; lines that are not JSON come back as a
    ``msg`` of their own text."""
    lines: list[str] = []
    for path in log_files(folder):
        with contextlib.suppress(OSError):
            lines = path.read_text("utf-8", errors="replace").splitlines() + lines
        if len(lines) >= count:
            break
    out: list[dict[str, Any]] = []
    for line in lines[-count:]:
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        out.append(entry if isinstance(entry, dict) else {"msg": line})
    return out


# -- crashes ---------------------------------------------------------------------------------------

def install_crash_handler(on_crash: Callable[[str], None] | None = None) -> None:
    """Log every uncaught exception, on the main thread or any other, as CRITICAL with its
    traceback, then call ``on_crash`` with the scrubbed traceback text (the GUI shows a dialog
    instead of vanishing). Ctrl+C still interrupts."""
    crash_log = logging.getLogger("c360_desktop.crash")

    def report(exc_type: type[BaseException], exc: BaseException, tb: Any, where: str) -> None:
        crash_log.critical("uncaught exception in %s", where, exc_info=(exc_type, exc, tb))
        if on_crash is not None:
            try:
                on_crash(scrub("".join(traceback.format_exception(exc_type, exc, tb))))
            except Exception:
                crash_log.exception("the crash dialog failed")

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        report(exc_type, exc, tb, "the main thread")

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        report(args.exc_type, args.exc_value, args.exc_traceback,
               f"thread {args.thread.name if args.thread else '?'}")

    sys.excepthook = hook
    threading.excepthook = thread_hook
