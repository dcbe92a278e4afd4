"""Files that hold customer data or settings are readable by their owner only.

On POSIX the mode is 0600 (folders 0700), set when the file is created, so there is no moment
when another user can open it. On Windows the files live in the user's profile folders, whose
inherited ACL already admits only that user (and administrators); the mode bits are not used.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600, or tighten it if it exists (``tighten``)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Write text to a new or existing file, which ends with mode 0600."""
    create_private(path)
    path.write_text(text, "utf-8")


def make_private_dir(folder: Path) -> None:
    """Create a folder (and its parents) the way ``mkdir -p -m 700`` does; an existing one is kept."""
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)


def tighten(path: Path) -> None:
    """Take group and other permissions off a file of ours that has them (an older version's
    cache, a file copied in); files of other users and non-POSIX systems are left alone."""
    if os.name != "posix":
        return
    try:
        st = path.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077)
            log.info("made %s readable by its owner only", path)
    except OSError:
        pass  # missing or not ours to change: opening it will say what is wrong
