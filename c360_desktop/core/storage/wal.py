"""Spotting committed transactions a damaged WAL file is about to lose.

When a cache is opened after a crash, SQLite replays its write-ahead log up to the first frame
whose checksum fails and silently drops the rest. If frames of the same log generation (the
same salts) follow that point and one of them ends a transaction, committed work is being
lost: the file was truncated or overwritten in the middle (a failing disk, a copy taken while
the app was writing, a sync tool). ``lost_commits`` reads the log before SQLite opens it and
says how many such transactions there are; the caller reports it once.

Format: https://www.sqlite.org/fileformat2.html#the_write_ahead_log
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

MAGIC_LE, MAGIC_BE = 0x377F0682, 0x377F0683
HEADER, FRAME_HEADER = 32, 24
MAX_CHECKED = 256 * 1024 * 1024  # a log bigger than this is not checked (and said so in the log)


@dataclass(frozen=True)
class WalCheck:
    frames: int  # frames in the file
    replayed_commits: int  # transactions SQLite will recover
    lost_commits: int  # committed transactions after the damage, which it will drop
    damaged_frame: int | None  # 1-based frame where the checksums stop holding

    @property
    def short(self) -> str | None:
        """The same in a status bar's width."""
        if not self.lost_commits:
            return None
        return (f"{self.lost_commits} recent change set(s) were lost from a damaged log file; "
                "sync restores what the centre has")

    @property
    def message(self) -> str | None:
        if not self.lost_commits:
            return None
        return (f"the cache's write-ahead log is damaged at frame {self.damaged_frame} of {self.frames}: "
                f"{self.lost_commits} committed change set(s) after it could not be recovered; changes made "
                "just before the app last stopped may be missing (a sync brings back what the centre has)")


def _checksum(data: bytes, big_endian: bool, s0: int, s1: int) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    mask = 0xFFFFFFFF
    for x0, x1 in zip(words[0::2], words[1::2], strict=True):
        s0 = (s0 + x0 + s1) & mask
        s1 = (s1 + x1 + s0) & mask
    return s0, s1


def check(db_path: Path) -> WalCheck | None:
    """What opening ``db_path`` will do with its WAL file; None when there is no log to check."""
    wal = Path(f"{db_path}-wal")
    try:
        size = wal.stat().st_size
    except OSError:
        return None
    if size < HEADER or size > MAX_CHECKED:
        return None
    data = wal.read_bytes()
    magic, _version, page_size, _seq, salt1, salt2, c1, c2 = struct.unpack(">8I", data[:HEADER])
    if magic not in (MAGIC_LE, MAGIC_BE) or page_size < 512 or page_size & (page_size - 1):
        return None  # not a log SQLite would replay either
    big = magic == MAGIC_BE
    if _checksum(data[:24], big, 0, 0) != (c1, c2):
        return None  # the header itself is bad: SQLite ignores the whole log (nothing replayed)
    step = FRAME_HEADER + page_size
    frames = (size - HEADER) // step
    s0, s1 = c1, c2
    replayed = lost = 0
    damaged: int | None = None
    for k in range(frames):
        at = HEADER + k * step
        _page, commit_size, f1, f2, k1, k2 = struct.unpack(">6I", data[at:at + FRAME_HEADER])
        if damaged is None:
            s0, s1 = _checksum(data[at:at + 8], big, s0, s1)
            s0, s1 = _checksum(data[at + FRAME_HEADER:at + step], big, s0, s1)
            if (f1, f2) == (salt1, salt2) and (s0, s1) == (k1, k2):
                replayed += commit_size > 0
                continue
            if (f1, f2) != (salt1, salt2):
                break  # an older generation's frames: the log ends here, as it should
            damaged = k + 1
        elif (f1, f2) == (salt1, salt2) and commit_size > 0:
            lost += 1
    return WalCheck(frames, replayed, lost, damaged)
