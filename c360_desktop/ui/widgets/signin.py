"""The password prompt: sign-in at start, unlocking after the idle lock, and re-authentication
before sensitive work. The check (scrypt, about 0.1 s, and at sign-in the cache's opening) runs on
a worker; a refused try shows why, and a rate-limited one counts down before the next is accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPixmap, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.security.signin import ReauthNeeded, SignInError
from c360_desktop.ui.workers import TaskRunner

SIGN_IN, UNLOCK, REAUTH = "sign_in", "unlock", "reauth"


def _error_label(name: str = "") -> QLabel:
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet("color: #b00020;")
    return label


def _ok_cancel(dialog: QDialog, submit: Callable[[], None], ok: str | None = None,
               cancel: str | None = None) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    if ok:
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok)
    if cancel:
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(cancel)
    buttons.accepted.connect(submit)
    buttons.rejected.connect(dialog.reject)
    return buttons


def sentence(exc: BaseException) -> str:
    """An error's message as a sentence: a capital first letter and a full stop."""
    text = str(exc)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


class PasswordDialog(QDialog):
    """Asks for a password (and a TOTP code when the user has one); ``verify(name, password,
    code)`` runs on a worker and its result is emitted by ``sig_accepted``."""

    sig_accepted = Signal(object)

    def __init__(self, mode: str, runner: TaskRunner, verify: Callable[[str, str, str | None], Any],
                 needs_code: Callable[[str], bool], name: str = "", what: str = "", place: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode, self._runner, self._verify, self._needs_code = mode, runner, verify, needs_code
        self.setObjectName(f"{mode}_dialog")
        self.setWindowTitle({SIGN_IN: "C360 Desktop: sign in", UNLOCK: "C360 Desktop: locked",
                             REAUTH: "C360 Desktop: confirm it is you"}[mode])
        self.setModal(True)
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        heading = {SIGN_IN: f"Sign in to open {place}." if place else "Sign in.",
                   UNLOCK: f"C360 Desktop is locked: customer data is hidden.\nSigned in as {name}.",
                   REAUTH: f"{what} needs your password again."}[mode]
        self.heading = QLabel(heading)
        self.heading.setWordWrap(True)
        self.heading.setStyleSheet("font-size: 11pt;")
        layout.addWidget(self.heading)
        form = QFormLayout()
        self.name = QLineEdit(name)
        self.name.setObjectName("signin_name")
        self.name.setReadOnly(mode != SIGN_IN)
        self.name.setMaxLength(64)
        self.password = QLineEdit()
        self.password.setObjectName("signin_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.code = QLineEdit()
        self.code.setObjectName("signin_code")
        self.code.setPlaceholderText("6 digits from your authenticator app")
        self.code.setValidator(QRegularExpressionValidator(r"\d{0,6}"))
        self.code_label = QLabel("Code")
        form.addRow("User", self.name)
        form.addRow("Password", self.password)
        form.addRow(self.code_label, self.code)
        layout.addLayout(form)
        self.message = _error_label("signin_message")
        layout.addWidget(self.message)
        self.buttons = _ok_cancel(self, self.submit, {SIGN_IN: "Sign in", UNLOCK: "Unlock", REAUTH: "Continue"}[mode],
                                  "Quit" if mode != REAUTH else "Cancel")
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._show_code)
        self._show_code()
        self._wait_left = 0
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)
        self._countdown.timeout.connect(self._tick)
        (self.password if name or mode != SIGN_IN else self.name).setFocus()

    def _show_code(self) -> None:
        name = self.name.text().strip()
        shown = bool(name) and self._needs_code(name)
        self.code.setVisible(shown)
        self.code_label.setVisible(shown)

    def submit(self) -> None:
        name, password = self.name.text().strip(), self.password.text()
        if not name or not password:
            self.message.setText("Enter your user name and password." if self.mode == SIGN_IN else "Enter your password.")
            return
        code = self.code.text().strip() if self.code.isVisible() else None
        self.ok.setEnabled(False)
        self.message.setStyleSheet("color: palette(window-text);")
        self.message.setText("Checking…")
        self._runner.run_query(lambda _p: self._verify(name, password, code), self._accepted, self._refused)

    def _accepted(self, result: Any) -> None:
        self.password.clear()
        self.sig_accepted.emit(result)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.message.setStyleSheet("color: #b00020;")
        self.password.selectAll()
        self.password.setFocus()
        if isinstance(exc, SignInError):
            self.message.setText(sentence(exc))
            self._wait_left = exc.wait_s
        else:  # the cache could not be opened (damaged, a newer schema...): say so
            self.message.setText(str(exc))
            self._wait_left = 0
        if self._wait_left > 0:
            self._countdown.start()
            self._tick(first=True)
        else:
            self.ok.setEnabled(True)

    def _tick(self, first: bool = False) -> None:
        if not first:
            self._wait_left -= 1
        if self._wait_left <= 0:
            self._countdown.stop()
            self.ok.setEnabled(True)
            self.ok.setText({SIGN_IN: "Sign in", UNLOCK: "Unlock", REAUTH: "Continue"}[self.mode])
            return
        self.ok.setEnabled(False)
        self.ok.setText(f"Wait {self._wait_left} s")


def asked(parent: QWidget, exc: BaseException, services: Any, runner: TaskRunner, retry: Callable[[], None]) -> bool:
    """If ``exc`` says the action needs the password again, ask for it and ``retry`` once given;
    True if it did (the caller shows nothing more)."""
    if not isinstance(exc, ReauthNeeded):
        return False
    session = services.session

    def verify(_name: str, password: str, code: str | None) -> None:
        services.signin.reauthenticate(password, code)

    dialog = PasswordDialog(REAUTH, runner, verify, lambda _n: services.signin.has_totp(),
                            name=session.name if session else "", what=exc.what, parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.sig_accepted.connect(lambda _r: retry())
    dialog.open()
    return True


def qr_pixmap(uri: str, scale: int = 6) -> QPixmap:
    """The QR code of an otpauth:// address, for an authenticator app to scan (drawn by segno)."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


class TotpDialog(QDialog):
    """Two-step sign-in: scan the QR code with an authenticator app, then enter a code it shows
    and the password; from then on sign-in and re-authentication ask for a code too."""

    sig_enabled = Signal()

    def __init__(self, services: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("totp_dialog")
        self.setWindowTitle("C360 Desktop: two-step sign-in")
        self._services, self._runner = services, runner
        self.secret, uri = services.signin.totp_begin()
        layout = QVBoxLayout(self)
        intro = QLabel("Scan this code with an authenticator app (Google Authenticator, Microsoft "
                       "Authenticator, FreeOTP…), then enter the 6-digit code it shows.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.qr = QLabel()
        self.qr.setObjectName("totp_qr")
        self.qr.setPixmap(qr_pixmap(uri))
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.qr)
        typed = " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))
        key = QLabel(f"Or type this key: <b>{typed}</b>")
        key.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(key)
        form = QFormLayout()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.code = QLineEdit()
        self.code.setValidator(QRegularExpressionValidator(r"\d{0,6}"))
        self.code.setPlaceholderText("6 digits")
        form.addRow("Password", self.password)
        form.addRow("Code", self.code)
        layout.addLayout(form)
        self.message = _error_label()
        layout.addWidget(self.message)
        self.buttons = _ok_cancel(self, self.submit, "Turn on")
        layout.addWidget(self.buttons)
        self.password.setFocus()

    def submit(self) -> None:
        password, code, signin = self.password.text(), self.code.text(), self._services.signin
        if not password or len(code) != 6:
            self.message.setText("Enter your password and the 6-digit code.")
            return
        self.buttons.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)
            self.message.setText(sentence(exc))

        def done(_r: Any) -> None:
            self.sig_enabled.emit()
            self.accept()

        self._runner.run_mutation(lambda _p: signin.totp_enable(password, self.secret, code), done, failed)


class ChangePasswordDialog(QDialog):
    def __init__(self, services: Any, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("change_password_dialog")
        self.setWindowTitle("C360 Desktop: change password")
        self._services, self._runner = services, runner
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.old, self.new, self.again = QLineEdit(), QLineEdit(), QLineEdit()
        for field in (self.old, self.new, self.again):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.new.setPlaceholderText("at least 10 characters")
        form.addRow("Current password", self.old)
        form.addRow("New password", self.new)
        form.addRow("New password again", self.again)
        layout.addLayout(form)
        self.message = _error_label()
        layout.addWidget(self.message)
        self.buttons = _ok_cancel(self, self.submit)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        old, new = self.old.text(), self.new.text()
        if new != self.again.text():
            self.message.setText("The two new passwords differ.")
            return
        self.buttons.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)
            self.message.setText(sentence(exc))

        self._runner.run_mutation(lambda _p: self._services.signin.change_password(old, new),
                                  lambda _r: self.accept(), failed)


class AccountActions(QObject):
    """File menu entries of a signed-in window: change password, two-step sign-in."""

    def __init__(self, window: Any, services: Any, runner: TaskRunner) -> None:
        super().__init__(window)
        self._window, self._services, self._runner = window, services, runner
        window.add_action("Change &password…", None, self.change_password, menu="File")
        window.add_action("&Two-step sign-in…", None, self.two_step, menu="File")
        self.dialog: QDialog | None = None

    def change_password(self) -> QDialog:
        self.dialog = ChangePasswordDialog(self._services, self._runner, self._window)
        self.dialog.accepted.connect(lambda: self._window.statusBar().showMessage("Password changed", 8000))
        self.dialog.open()
        return self.dialog

    def two_step(self) -> QDialog:
        self.dialog = TotpDialog(self._services, self._runner, self._window)
        self.dialog.accepted.connect(lambda: self._window.statusBar().showMessage(
            "Two-step sign-in is on: sign-in now asks for a code from your app", 10000))
        self.dialog.open()
        return self.dialog
