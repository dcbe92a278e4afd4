"""Updates from a local folder, as from a company file share: a newer installer is found, fetched
and checked; bad manifests and damaged installers are told and leave nothing behind."""

import hashlib
import json

import pytest

from c360_desktop.core.progress import Cancelled, Progress
from c360_desktop.core.updates.service import MANIFEST, UpdateError, check, fetch, publish


@pytest.fixture
def share(tmp_path):
    installer = tmp_path / "build" / "c360-desktop-0.2.0-setup.exe"
    installer.parent.mkdir()
    installer.write_bytes(b"MZ" + bytes(range(256)) * 9000)  # a 2.3 MB stand-in for the installer
    folder = tmp_path / "share"
    publish(installer, folder, "0.2.0", "Faster reports; a Health pane.")
    return folder, installer


def test_a_newer_version_is_found_fetched_and_checked(share, tmp_path):
    folder, installer = share
    update = check(str(folder), current="0.1.0")
    assert update is not None and update.version == "0.2.0" and update.notes.startswith("Faster")
    seen = []
    got = fetch(update, tmp_path / "downloads", Progress(lambda f, m: seen.append(f)))
    assert got.read_bytes() == installer.read_bytes() and got.name == installer.name
    assert seen[-1] == 1.0 and len(seen) >= 3  # progress while it copies
    assert [p.name for p in got.parent.iterdir()] == [installer.name]


@pytest.mark.parametrize("current", ["0.2.0", "0.3.1"])
def test_the_same_or_an_older_version_is_not_offered(share, current):
    assert check(str(share[0]), current=current) is None


def test_a_file_url_works_like_a_folder(share):
    update = check(share[0].as_uri(), current="0.1.0")
    assert update is not None and update.installer_url.startswith("file:")


def test_a_damaged_installer_is_refused_and_not_kept(share, tmp_path):
    folder, installer = share
    update = check(str(folder), current="0.1.0")
    data = bytearray((folder / installer.name).read_bytes())
    data[1000] ^= 0xFF
    (folder / installer.name).write_bytes(bytes(data))
    with pytest.raises(UpdateError, match="SHA-256 does not match"):
        fetch(update, tmp_path / "downloads")
    assert list((tmp_path / "downloads").iterdir()) == []


def test_a_cancelled_fetch_leaves_nothing(share, tmp_path):
    update = check(str(share[0]), current="0.1.0")
    progress = Progress(lambda f, m: progress.cancel())
    with pytest.raises(Cancelled):
        fetch(update, tmp_path / "downloads", progress)
    assert list((tmp_path / "downloads").iterdir()) == []


@pytest.mark.parametrize("manifest, message", [
    ("{not json", "not JSON"),
    (json.dumps({"version": "soon", "installer": "x.exe", "sha256": "0" * 64}), "version: .*not a version number"),
    (json.dumps({"version": "0.2.0", "installer": "../../evil.exe", "sha256": "0" * 64}), "installer: .*file name"),
    (json.dumps({"version": "0.2.0", "installer": "x.exe", "sha256": "abc"}), "sha256"),
    (json.dumps({"version": "0.2.0", "sha256": "0" * 64}), "installer: Field required"),
])
def test_a_bad_manifest_is_told_with_the_field(tmp_path, manifest, message):
    (tmp_path / MANIFEST).write_text(manifest)
    with pytest.raises(UpdateError, match=message) as err:
        check(str(tmp_path), current="0.1.0")
    assert MANIFEST in str(err.value)


def test_a_missing_location_is_told(tmp_path):
    with pytest.raises(UpdateError, match="cannot read .*c360-desktop-latest.json"):
        check(str(tmp_path / "nowhere"), current="0.1.0")
    with pytest.raises(UpdateError, match="no update location"):
        check("  ")


def test_publish_writes_the_installers_digest(share):
    folder, installer = share
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["sha256"] == hashlib.sha256(installer.read_bytes()).hexdigest()
    assert manifest["installer"] == installer.name and manifest["version"] == "0.2.0"


def test_cli_check_and_fetch(share, tmp_path, capsys):
    from c360_desktop.cli import main

    folder, installer = share
    assert main(["update", "check", "--location", str(folder), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["version"] == "0.2.0" and out["current"] == "0.1.0"
    assert main(["update", "fetch", "--location", str(folder), "--out", str(tmp_path / "dl")]) == 0
    assert (tmp_path / "dl" / installer.name).read_bytes() == installer.read_bytes()
    assert main(["update", "check"]) == 2  # no location configured, none given
    assert "no update location" in capsys.readouterr().err
