"""Updates in the app, from a local folder standing in for the company's file share."""

import pytest
from PySide6.QtWidgets import QMessageBox

from c360_desktop.core.settings import Settings
from c360_desktop.core.updates.service import publish
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


def test_a_newer_version_is_offered_fetched_checked_and_handed_to_the_installer(qtbot, launch, demo_cache, tmp_path):
    installer = tmp_path / "c360-desktop-9.1.0-setup.exe"
    installer.write_bytes(b"MZ" + b"\x90" * 500_000)
    share = tmp_path / "share"
    publish(installer, share, "9.1.0", "Sign-in with your company account, and a faster map.")
    start, _rec = launch
    launcher = start(Settings(user_name="tester", update_location=str(share)), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    controller = launcher.updates
    assert controller.timer.isActive()  # it looks by itself, after start-up, since a location is set
    launched = []
    controller.launch = lambda path: launched.append(path) or False
    controller.folder = tmp_path / "downloads"
    with qtbot.waitSignal(controller.sig_checked, timeout=10_000) as checked:
        controller.check(manual=True)
    assert checked.args[0].version == "9.1.0"
    box = controller.offer_box
    qtbot.waitUntil(box.isVisible, timeout=5_000)
    assert "9.1.0 is available; you have 0.1.0" in box.text() and "faster map" in box.informativeText()
    save_screenshot(box, "update_offer")
    (install,) = [b for b in box.buttons() if b.text() == "Install now"]
    install.click()
    qtbot.waitUntil(lambda: bool(launched), timeout=10_000)
    assert launched[0].read_bytes() == installer.read_bytes()
    assert "installer is ready" in launcher.window.statusBar().currentMessage()


def test_without_a_location_nothing_is_looked_up(qtbot, launch, demo_cache, monkeypatch):
    start, _rec = launch
    launcher = start(Settings(user_name="tester"), cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    assert not launcher.updates.timer.isActive()
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: told.append(text))
    assert launcher.updates.check(manual=True) is None
    assert "No update location is set" in told[0]
