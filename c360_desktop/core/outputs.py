"""Writing result files safely: never onto a file that is not an earlier result of the same kind,
and all of a run's files or none of them.

Every command or pane that writes a file the user named goes through ``check_outputs`` (before
any work, so a refusal costs nothing) and ``write_all`` (temporary files beside the targets,
moved into place only once every one of them is complete).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


class OutputError(ValueError):
    """A result file that may not be written there; the message names the file and why."""


@dataclass(frozen=True)
class OutputKind:
    """A kind of result file, recognised by how its first line starts."""

    label: str  # e.g. "pairs CSV"
    header: str  # the first line of every file of this kind starts with this

    def made(self, path: Path) -> bool:
        """Whether ``path`` is an earlier result of this kind (so replacing it loses nothing)."""
        try:
            with path.open("rb") as f:
                first = f.readline(4096)
        except OSError:
            return False
        return first.decode("utf-8", "replace").lstrip("\ufeff").startswith(self.header)


@dataclass(frozen=True)
class Output:
    path: Path
    kind: OutputKind
    option: str  # how the user named it, for messages: "--out"


def check_outputs(outputs: Sequence[Output], inputs: Sequence[Path] = (), force: bool = False) -> None:
    """Refuse, with one line, outputs that would destroy data or cannot be written.

    A folder, a missing folder, two outputs on one file, or an output that is one of the inputs
    is always refused; an existing file that is not an earlier output of the same kind (a cache,
    a spreadsheet, anything) is refused unless ``force``.
    """
    seen: dict[str, str] = {}
    for out in outputs:
        where = f"{out.option} {out.path}"
        if out.path.is_dir():
            raise OutputError(f"{where} is a folder; give a file name for the {out.kind.label}")
        parent = out.path.parent
        if not parent.is_dir():
            raise OutputError(f"{where}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise OutputError(f"{where}: folder {parent} is not writable")
        key = os.path.normcase(os.path.abspath(out.path))
        if key in seen:
            raise OutputError(f"{where} is also {seen[key]}; give each output its own file")
        seen[key] = out.option
        for source in inputs:
            if out.path.exists() and source.exists() and out.path.samefile(source):
                raise OutputError(f"{where} is the input {source}; write the {out.kind.label} elsewhere")
        if out.path.exists() and not force and not out.kind.made(out.path):
            raise OutputError(f"{where} exists and is not a {out.kind.label}; "
                              "choose another name, or add --force to replace it")


def write_all(writers: Sequence[tuple[Path, Callable[[Path], None]]]) -> None:
    """Call each writer on a temporary file beside its target, then move them all into place.

    If any writer fails, no target is touched and the temporary files are removed.
    """
    temps: list[tuple[Path, Path]] = []
    try:
        for target, write in writers:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            os.close(fd)
            temps.append((Path(name), target))
            write(Path(name))
        for tmp, target in temps:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
