"""The sign-in window, the idle lock, re-authentication before bulk work and two-step sign-in
(issue 21, item 2), driven as a user would: typing into the dialogs of a real app start."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from c360_desktop.core.security import Role
from c360_desktop.core.services import Services
from c360_desktop.core.settings import Settings
from tests.conftest import save_screenshot

PASSWORD = "correct horse battery"


def _shot(widget, name: str) -> None:
    save_screenshot(widget, name)


def _dialog(name: str) -> QDialog | None:
    found = [w for w in QApplication.topLevelWidgets() if w.objectName() == name and w.isVisible()]
    return found[-1] if found else None  # type: ignore[return-value]


@pytest.fixture
def enrolled(demo_cache: Path) -> Path:
    services = Services.open(demo_cache, Settings(user_name="setup"))
    try:
        services.signin.enrol("ana", PASSWORD, Role.ADMIN)
    finally:
        services.close()
    return demo_cache


def _sign_in(qtbot, launcher, password: str) -> None:
    qtbot.waitUntil(lambda: getattr(launcher, "_sign_in_dialog", None) is not None, timeout=10_000)
    dialog = launcher._sign_in_dialog
    dialog.password.setText(password)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)


def test_a_cache_with_users_opens_only_after_the_right_password(qtbot, launch, enrolled):
    start, rec = launch
    launcher = start(Settings(user_name="ana"), cache=str(enrolled))
    _sign_in(qtbot, launcher, "a wrong password")
    dialog = launcher._sign_in_dialog
    qtbot.waitUntil(lambda: "wrong" in dialog.message.text(), timeout=10_000)
    assert dialog.message.text() == "The user name or password is wrong."
    assert launcher.window is None and launcher.services is None
    assert dialog.name.text() == "ana" and not dialog.code.isVisible()
    _shot(dialog, "signin_refused")
    dialog.password.setText(PASSWORD)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    assert launcher.services.user.name == "ana" and launcher.services.user.role is Role.ADMIN
    assert launcher.lock.lock_action.isEnabled()
    assert rec.asked == []


def test_the_sign_in_counts_down_after_too_many_tries(qtbot, launch, enrolled):
    from c360_desktop.core.security import signin

    for i in range(signin.FREE_TRIES - 1):
        with pytest.raises(signin.SignInError):
            signin.sign_in(enrolled, "ana", f"guess {i} wrong")
    start, _rec = launch
    launcher = start(Settings(user_name="ana"), cache=str(enrolled))
    _sign_in(qtbot, launcher, "the fifth guess")
    dialog = launcher._sign_in_dialog
    qtbot.waitUntil(lambda: dialog.ok.text().startswith("Wait"), timeout=10_000)
    assert not dialog.ok.isEnabled() and "try again in 30 s" in dialog.message.text()
    _shot(dialog, "signin_wait")
    dialog.close()


def test_the_window_locks_when_idle_and_hides_everything_until_the_password(qtbot, launch, enrolled):
    start, _rec = launch
    launcher = start(Settings(user_name="ana"), cache=str(enrolled))
    _sign_in(qtbot, launcher, PASSWORD)
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    window = launcher.window
    lock = launcher.lock
    assert lock._timer.isActive() and lock._timer.interval() == 15 * 60_000  # the default
    lock._timer.start(300)  # the idle clock, shortened for the test
    qtbot.waitUntil(lambda: lock.locked, timeout=5_000)
    assert not window.isVisible()
    dialog = lock.dialog
    assert dialog.isVisible() and "locked" in dialog.heading.text() and dialog.name.isReadOnly()
    _shot(dialog, "idle_lock")
    dialog.password.setText("not it at all")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "wrong" in dialog.message.text(), timeout=10_000)
    assert not window.isVisible()
    dialog.password.setText(PASSWORD)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.isVisible(), timeout=10_000)
    assert not lock.locked
    launcher.runner.wait()
    actions = [a for (a,) in launcher.services.cache.reader().execute(
        "SELECT action FROM audit_event WHERE action LIKE 'session.%' ORDER BY occurred_at, rowid")]
    assert actions == ["session.lock", "session.unlock.failed", "session.unlock"]


def test_bulk_assignment_asks_for_the_password_again_then_goes_on(qtbot, launch, enrolled):
    start, _rec = launch
    launcher = start(Settings(user_name="ana"), cache=str(enrolled))
    _sign_in(qtbot, launcher, PASSWORD)
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    services = launcher.services
    services.session.authenticated_at -= timedelta(minutes=10)
    pane = launcher.host.panes["leads_pane"]
    pane.refresh()
    qtbot.waitUntil(lambda: len(pane.leads) > 3, timeout=20_000)
    rep = next(iter(services.leads.reps()))
    chosen = [lead.lead_id for lead in pane.leads[:3]]
    pane._assign({lid: rep for lid in chosen}, "3 assigned")
    qtbot.waitUntil(lambda: _dialog("reauth_dialog") is not None, timeout=10_000)
    dialog = _dialog("reauth_dialog")
    assert "Assigning leads in bulk needs your password again" in dialog.heading.text()
    _shot(dialog, "reauth")
    dialog.password.setText(PASSWORD)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    def assigned() -> bool:
        rows = services.cache.reader().execute(
            f"SELECT rep_id FROM lead WHERE id IN ({','.join('?' * len(chosen))})", chosen).fetchall()
        return all(r[0] == rep for r in rows)

    qtbot.waitUntil(assigned, timeout=10_000)


def test_two_step_sign_in_is_turned_on_from_a_qr_code(qtbot, launch, enrolled):
    from c360_desktop.core.security import signin

    start, _rec = launch
    launcher = start(Settings(user_name="ana"), cache=str(enrolled))
    _sign_in(qtbot, launcher, PASSWORD)
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    dialog = launcher.account.two_step()
    assert not dialog.qr.pixmap().isNull() and dialog.qr.pixmap().width() >= 150
    _shot(dialog, "two_step")
    dialog.password.setText(PASSWORD)
    dialog.code.setText(pyotp.TOTP(dialog.secret).now())
    dialog.submit()
    qtbot.waitUntil(lambda: signin.has_totp(enrolled, "ana"), timeout=10_000)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)


def test_a_demo_cache_without_users_opens_at_once_with_no_lock(qtbot, launch, demo_cache):
    start, _rec = launch
    launcher = start(cache=str(demo_cache))
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    assert launcher.services.session is None
    assert not launcher.lock.lock_action.isEnabled() and not launcher.lock._timer.isActive()


def test_what_a_signed_in_user_writes_carries_their_name_not_the_settings(qtbot, launch, enrolled):
    start, _rec = launch
    launcher = start(Settings(user_name="whoever.set.this.up"), cache=str(enrolled))
    qtbot.waitUntil(lambda: getattr(launcher, "_sign_in_dialog", None) is not None, timeout=10_000)
    dialog = launcher._sign_in_dialog
    dialog.name.setText("ana")
    dialog.password.setText(PASSWORD)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: launcher.window is not None, timeout=20_000)
    services = launcher.services
    profile = launcher.host.panes["profile_pane"]
    cid = services.cache.reader().execute("SELECT id FROM customer LIMIT 1").fetchone()[0]
    with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
        profile.show_customer(cid)
    notes = profile.notes
    notes.editor.setPlainText("Called back about the order.")
    with qtbot.waitSignal(notes.sig_note_saved, timeout=10_000):
        notes.save()
    (author,) = services.cache.reader().execute(
        "SELECT author FROM note WHERE customer_id = ? AND body = 'Called back about the order.'", (cid,)).fetchone()
    assert author == "ana"
