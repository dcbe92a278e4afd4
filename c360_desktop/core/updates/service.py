"""Looking for a newer installer where IT publishes them, and fetching it intact.

The location (settings ``update_location``) is a folder, a file share (``\\\\server\\c360``), a
``file:`` URL or an ``http(s):`` address. It holds ``c360-desktop-latest.json``:

    {"version": "0.2.0", "installer": "c360-desktop-0.2.0-setup.exe",
     "sha256": "<64 hex digits>", "notes": "What changed", "published": "2026-12-01"}

with the installer beside it. Nothing is configured by default, and nothing is looked up unless
one is: the app never calls the internet on its own. A fetched installer is written under a
temporary name and kept only if its SHA-256 matches the manifest's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from c360_desktop import __version__
from c360_desktop.core.progress import Cancelled, Progress

MANIFEST = "c360-desktop-latest.json"
TIMEOUT_S = 10
CHUNK = 1 << 20
MAX_MANIFEST_BYTES = 64_000


class UpdateError(Exception):
    """One line saying what is wrong with the location, the manifest or the installer."""


class Manifest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str
    installer: str = Field(min_length=1, max_length=200)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    notes: str = Field(default="", max_length=20_000)
    published: str | None = None

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        try:
            Version(value)
        except InvalidVersion:
            raise ValueError(f"{value!r} is not a version number") from None
        return value

    @field_validator("installer")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if "/" in value or "\\" in value or value in (".", "..") or value.startswith("."):
            raise ValueError("must be a file name beside the manifest, not a path")
        return value


@dataclass(frozen=True)
class Update:
    """A newer version than the one running, and where its installer is."""

    version: str
    current: str
    installer_url: str
    installer_name: str
    sha256: str
    notes: str
    published: str | None


def _is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme in ("http", "https", "file")


def _join(location: str, name: str) -> str:
    if _is_url(location):
        return urllib.parse.urljoin(location.rstrip("/") + "/", urllib.parse.quote(name))
    return str(Path(location) / name)


@contextlib.contextmanager
def _open(where: str) -> Any:
    """A readable binary stream and its size (or None) for a path or a URL."""
    try:
        if _is_url(where):
            with urllib.request.urlopen(where, timeout=TIMEOUT_S) as response:  # noqa: S310 - schemes checked
                length = response.headers.get("Content-Length")
                yield response, int(length) if length and length.isdigit() else None
        else:
            with open(where, "rb") as f:
                yield f, os.fstat(f.fileno()).st_size
    except (OSError, ValueError) as exc:
        raise UpdateError(f"cannot read {where}: {getattr(exc, 'reason', None) or getattr(exc, 'strerror', None) or exc}") from None


def check(location: str, current: str = __version__) -> Update | None:
    """The newer version published at ``location``, or None if the running one is current."""
    location = location.strip()
    if not location:
        raise UpdateError("no update location is set (settings: update_location)")
    where = _join(location, MANIFEST)
    with _open(where) as (stream, _size):
        raw = stream.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise UpdateError(f"{where}: over {MAX_MANIFEST_BYTES:,} bytes, not an update manifest")
    try:
        manifest = Manifest.model_validate(json.loads(raw.decode("utf-8-sig")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UpdateError(f"{where}: not JSON ({exc})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(the whole file)"
        raise UpdateError(f"{where}: {field}: {first['msg']}") from None
    if Version(manifest.version) <= Version(current):
        return None
    return Update(manifest.version, current, _join(location, manifest.installer), manifest.installer,
                  manifest.sha256.lower(), manifest.notes, manifest.published)


def fetch(update: Update, folder: Path, progress: Progress | None = None) -> Path:
    """Copy the installer into ``folder``, checking its SHA-256 as it comes; returns its path.
    A mismatch, a cancel or a read error leaves nothing behind."""
    progress = progress or Progress()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / update.installer_name
    partial = folder / f".{update.installer_name}.part"
    digest = hashlib.sha256()
    try:
        with _open(update.installer_url) as (stream, size), partial.open("wb") as out:
            done = 0
            source: IO[bytes] = stream
            while chunk := source.read(CHUNK):
                if progress.cancelled:
                    raise Cancelled()
                digest.update(chunk)
                out.write(chunk)
                done += len(chunk)
                progress.update(done / size if size else 0.0, f"Fetched {done / 1e6:,.1f} MB"
                                + (f" of {size / 1e6:,.1f} MB" if size else ""))
        if digest.hexdigest() != update.sha256:
            raise UpdateError(f"{update.installer_url}: its SHA-256 does not match the manifest's; the file "
                              "is damaged or not the one published, and was not kept")
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    progress.update(1.0, f"{update.installer_name} is ready")
    return target


def publish(installer: Path, folder: Path, version: str, notes: str = "") -> Path:
    """For IT: copy an installer into ``folder`` and write the manifest beside it (the manifest
    last, so desktops never see one whose installer is not there yet)."""
    Version(version)
    folder.mkdir(parents=True, exist_ok=True)
    if installer.resolve() != (folder / installer.name).resolve():
        shutil.copyfile(installer, folder / installer.name)
    digest = hashlib.sha256()
    with (folder / installer.name).open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    manifest = {"version": version, "installer": installer.name, "sha256": digest.hexdigest(), "notes": notes}
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2), "utf-8")
    os.replace(tmp, folder / MANIFEST)
    return folder / MANIFEST


class UpdateService:
    """The update checks of one user's settings."""

    def __init__(self, location: str | None) -> None:
        self.location = (location or "").strip() or None

    def check(self) -> Update | None:
        """A newer version at the configured location, None if current; UpdateError if none is set."""
        return check(self.location or "")

    def fetch(self, update: Update, folder: Path, progress: Progress | None = None) -> Path:
        return fetch(update, folder, progress)
