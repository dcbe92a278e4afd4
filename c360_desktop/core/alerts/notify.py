"""E-mail for alerts whose rule asks for it, sent on a thread of its own through SMTP.

A slow or absent mail server never holds up the listener: alerts queue here, each is sent once
(``alert_local.emailed_at`` records it), and a failure is recorded on the alert with the reason.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from c360_desktop.core.alerts.pipeline import NewAlert
from c360_desktop.core.storage.cache import Cache
from c360_desktop.core.timestamps import db_now

log = logging.getLogger(__name__)
_STOP = object()


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "c360-alerts@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0

    def __repr__(self) -> str:
        return f"SmtpConfig(host={self.host!r}, port={self.port}, sender={self.sender!r}, user={self.user!r})"


def smtp_config(settings: Any) -> SmtpConfig | None:
    """The mail server the settings name (its password from the keyring), or None if none is set."""
    if not settings.smtp_host:
        return None
    from c360_desktop.core import secrets
    from c360_desktop.core.sync.urls import is_loopback

    # TLS by default: STARTTLS to any server but a relay on this machine (port 465: TLS from the start).
    return SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user,
                      secrets.get_password(settings.smtp_account) if settings.smtp_user else None,
                      settings.smtp_starttls or not is_loopback(settings.smtp_host))


def connect(c: SmtpConfig) -> smtplib.SMTP:
    """An SMTP session to the configured server: SMTPS on port 465, else STARTTLS when set (with the
    server's certificate checked against the system's CAs). A password never goes in the clear to
    a server that is not on this machine."""
    import ssl

    from c360_desktop.core.sync.urls import is_loopback

    context = ssl.create_default_context()
    if c.port == 465:
        return smtplib.SMTP_SSL(c.host, c.port, timeout=c.timeout, context=context)
    smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
    if c.starttls:
        smtp.starttls(context=context)
    elif c.user and not is_loopback(c.host):
        smtp.close()
        raise smtplib.SMTPException(f"{c.host} would receive the password in the clear: turn on STARTTLS")
    return smtp


def compose(alert: NewAlert, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"[C360 {alert.severity}] {alert.title}"
    msg["From"] = sender
    msg["To"] = ", ".join(alert.email_to)
    msg["X-C360-Event-Id"] = alert.event_id
    msg.set_content(f"{alert.title}\n\nSeverity: {alert.severity}\nWhen: {alert.created_at} UTC\n"
                    f"Customer: {alert.customer_id or '-'}\n\nWhy:\n{alert.body}\n\n"
                    "Open C360 Desktop and look in the Alerts pane to act on it.\n")
    return msg


class EmailNotifier:
    def __init__(self, cache: Cache, config: SmtpConfig) -> None:
        self.cache, self.config = cache, config
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="c360-alert-mail", daemon=True)
        self.sent = 0
        self.failed = 0

    def start(self) -> EmailNotifier:
        self._thread.start()
        return self

    def submit(self, alerts: list[NewAlert]) -> None:
        for a in alerts:
            if a.email_to:
                self._queue.put(a)

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, NewAlert)
            error = None
            try:
                self._send(item)
                self.sent += 1
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
                self.failed += 1
                log.warning("alert e-mail to %s failed: %s", ", ".join(item.email_to), error)
            try:
                with self.cache.writer() as conn:
                    conn.execute("UPDATE alert_local SET emailed_at = ?, email_error = ? WHERE alert_id = ?",
                                 (None if error else db_now(), error, item.id))
            except Exception:
                log.exception("could not record the e-mail outcome of alert %s", item.id)

    def _send(self, alert: NewAlert) -> None:
        c = self.config
        with connect(c) as smtp:
            if c.user:
                smtp.login(c.user, c.password or "")
            smtp.send_message(compose(alert, c.sender))
