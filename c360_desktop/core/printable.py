"""Text from imported data made safe to show in a terminal or to open in a spreadsheet.

A name can hold anything a source file held: ``ESC[2J`` clears a terminal, ``=HYPERLINK(...)``
runs as a formula when a CSV is opened in Excel. ``printable`` drops control characters;
``safe_cell`` neutralises formula injection as OWASP's CSV-injection guidance describes (a
cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading ``'``).
"""

from __future__ import annotations

import re
from typing import Any, TextIO

# C0 controls but tab and newline, DEL, and C1 controls (8-bit CSI and friends).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_KEEP_CR = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str, keep_cr: bool = False) -> str:
    """``text`` without control characters (tab and newline kept; carriage return if asked)."""
    return (_CONTROL_KEEP_CR if keep_cr else _CONTROL).sub("", text)


def safe_cell(value: Any) -> Any:
    """A value as a spreadsheet cell that cannot run as a formula (text only; numbers as they are)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame whose text columns went through ``safe_cell``."""
    import pandas as pd

    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(safe_cell)
    return safe


class PrintableStream:
    """A text stream that passes everything through ``printable`` (for sys.stdout / sys.stderr)."""

    def __init__(self, inner: TextIO, keep_cr: bool = False) -> None:
        self.inner, self.keep_cr = inner, keep_cr

    def write(self, text: str) -> int:
        return self.inner.write(printable(text, self.keep_cr))

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding...
        return getattr(self.inner, name)
