"""TLS to the central database (issue 21, item 5): a real PostgreSQL serving a certificate from a
CA this test makes; sslmode=verify-full with that CA syncs over TLS, while a certificate signed by
another CA, or one for another host name, is refused with a message saying which; a profile
without verified TLS to a non-loopback host is warned about."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from sqlalchemy import text

from c360_desktop.core.storage.cache import open_cache
from c360_desktop.core.sync import SyncError, check_connection, sync
from c360_desktop.core.sync.central import Central, tls_warning

pytestmark = pytest.mark.slow


def _ca(tmp: Path, name: str):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def _server_cert(tmp: Path, ca_key, ca_cert, names: list[str]) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    alt = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False).sign(ca_key, hashes.SHA256()))
    crt, pem = tmp / f"{names[0]}.crt", tmp / f"{names[0]}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
    return crt, pem


def _url(port: int, host: str, ca: Path, mode: str = "verify-full") -> str:
    return f"postgresql://postgres@{host}:{port}/c360?sslmode={mode}&sslrootcert={ca}"


def test_verify_full_syncs_over_tls_and_a_wrong_ca_or_name_is_refused(tmp_path):
    from server_sync import admin
    from server_sync.devserver import DevPostgres

    ca_key, ca_cert, ca = _ca(tmp_path, "company-ca")
    _other_key, _other_cert, other_ca = _ca(tmp_path, "someone-else")
    cert, key = _server_cert(tmp_path, ca_key, ca_cert, ["localhost", "127.0.0.1"])
    with DevPostgres(tls=(cert, key)) as server:
        admin.init(server.url)
        admin.seed(server.url, 30, 3)
        url = _url(server.port, "localhost", ca)
        central = Central(url)
        try:
            (ssl, version), = central.run(text("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
        finally:
            central.close()
        assert ssl is True and version.startswith("TLSv1.")
        assert "; TLSv1." in check_connection(url, None)
        cache = open_cache(tmp_path / "cache.db")
        try:
            _pushed, pulled = sync(cache, url)
            assert pulled.rows > 100
        finally:
            cache.close()
        with pytest.raises(SyncError, match="is not signed by the CA in the profile's sslrootcert file"):
            Central(_url(server.port, "localhost", other_ca))
        with pytest.raises(SyncError, match="does not name db.elsewhere.test"):
            # the same server reached under a name its certificate does not give (hostaddr: no DNS needed)
            Central(_url(server.port, "db.elsewhere.test", ca) + "&hostaddr=127.0.0.1")
        with pytest.raises(SyncError, match="sslrootcert cannot be read"):
            Central(_url(server.port, "localhost", tmp_path / "missing.pem"))
    with DevPostgres() as plain, pytest.raises(SyncError, match="does not offer TLS"):  # no TLS on offer
        Central(_url(plain.port, "localhost", ca, "require"))


@pytest.mark.parametrize(("url", "warned"), [
    ("postgresql://rep@db.example.com/c360", "may not be encrypted (sslmode=prefer)"),
    ("postgresql://rep@db.example.com/c360?sslmode=require", "encrypted but the server is not verified"),
    ("postgresql://rep@db.example.com/c360?sslmode=verify-full&sslrootcert=/etc/c360/ca.pem", None),
    ("postgresql://rep@localhost:5432/c360", None),
    ("postgresql://rep@127.0.0.1/c360", None),
    ("mssql+pyodbc://rep@sql.example.com/c360?driver=FreeTDS", "add Encrypt=yes"),
    ("mssql+pyodbc://rep@sql.example.com/c360?driver=FreeTDS&Encrypt=yes&TrustServerCertificate=yes",
     "certificate is not checked"),
    ("mssql+pyodbc://rep@sql.example.com/c360?driver=FreeTDS&Encrypt=yes", None),
])
def test_a_connection_without_verified_tls_to_another_host_is_warned_about(url, warned):
    found = tls_warning(url)
    assert (found is None) if warned is None else (warned in (found or ""))


def test_mail_goes_by_starttls_with_the_server_checked_and_is_tls_by_default(tmp_path, monkeypatch):
    """A real SMTP server (aiosmtpd) that requires STARTTLS, with a certificate from this test's CA;
    the client trusts that CA through SSL_CERT_FILE, as it would trust the company's."""
    import smtplib
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    from c360_desktop.core.alerts.notify import SmtpConfig, connect, smtp_config
    from c360_desktop.core.settings import Settings
    from server_sync.devserver import free_port

    ca_key, ca_cert, ca = _ca(tmp_path, "mail-ca")
    cert, key = _server_cert(tmp_path, ca_key, ca_cert, ["localhost", "127.0.0.1"])
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    received = []

    class Keep(MessageHandler):
        def handle_message(self, message):
            received.append(message)

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True)
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        with connect(SmtpConfig("localhost", port, starttls=True, timeout=5)) as smtp:
            smtp.sendmail("c360@bluemahoe.com.jm", ["manager@bluemahoe.com.jm"], "Subject: over TLS\n\nhello")
        assert [m["Subject"] for m in received] == ["over TLS"]
        plain = SmtpConfig("localhost", port, starttls=False, timeout=5)
        with pytest.raises(smtplib.SMTPException), connect(plain) as smtp:  # refused before STARTTLS
            smtp.sendmail("c360@bluemahoe.com.jm", ["manager@bluemahoe.com.jm"], "Subject: plain\n\nno")
        monkeypatch.setenv("SSL_CERT_FILE", str(_ca(tmp_path, "another-ca")[2]))
        with pytest.raises(ssl.SSLCertVerificationError):  # a certificate from a CA nobody trusts
            connect(SmtpConfig("localhost", port, starttls=True, timeout=5))
    finally:
        controller.stop()
    assert smtp_config(Settings(smtp_host="mail.bluemahoe.com.jm")).starttls is True  # TLS by default
    assert smtp_config(Settings(smtp_host="127.0.0.1")).starttls is False  # a relay on this machine
    # No server off this machine is reachable here: only the TCP connect is stubbed; the refusal
    # to send a password in the clear to such a server is the real code.
    with pytest.raises(smtplib.SMTPException, match="password in the clear"):
        from unittest import mock

        with mock.patch("smtplib.SMTP.connect", return_value=(220, b"ok")):
            connect(SmtpConfig("mail.bluemahoe.com.jm", 25, user="alerts", password="pw", starttls=False))
