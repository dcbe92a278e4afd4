"""Connections: named central databases (URL and territory in settings, password in the keyring)."""

from __future__ import annotations

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core import secrets
from c360_desktop.core.settings import ConnectionProfile, Settings, save_settings
from c360_desktop.core.sync import account_for, check_connection
from c360_desktop.core.sync.errors import SyncError
from c360_desktop.ui.workers import TaskRunner


class ConnectionsDialog(QDialog):
    def __init__(self, settings: Settings, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connections")
        self.setObjectName("connections_dialog")
        self._settings, self._runner = settings, runner
        self.profiles = list(settings.profiles)
        self.list = QListWidget()
        self.name = QLineEdit(placeholderText="e.g. prod")
        self.url = QLineEdit(placeholderText="postgresql+psycopg2://user@host:5432/c360")
        self.territory = QLineEdit(placeholderText="parishes, e.g. JM-12, St. Elizabeth (empty: all)")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText="kept in the OS keyring")
        self.kafka = QLineEdit(placeholderText="optional, for live alerts: host:9092[,host2:9092]")
        self.kafka_protocol = QComboBox()
        self.kafka_protocol.addItems(["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"])
        self.kafka_mechanism = QComboBox()
        self.kafka_mechanism.addItems(["(none)", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
        self.kafka_ca = QLineEdit(placeholderText="SSL: the company CA's PEM file (empty: the system's CAs)")
        self.kafka_user = QLineEdit(placeholderText="SASL user")
        self.kafka_password = QLineEdit(echoMode=QLineEdit.EchoMode.Password, placeholderText="kept in the OS keyring")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("connection_message")
        form = QFormLayout()
        for label, widget in (("Name", self.name), ("URL", self.url), ("Territory", self.territory),
                              ("Password", self.password), ("Kafka", self.kafka),
                              ("Kafka security", self.kafka_protocol), ("Kafka CA file", self.kafka_ca),
                              ("SASL mechanism", self.kafka_mechanism),
                              ("SASL user", self.kafka_user), ("SASL password", self.kafka_password)):
            form.addRow(label, widget)
        self.save_button, self.test_button = QPushButton("Save"), QPushButton("Test")
        self.delete_button, self.use_button = QPushButton("Delete"), QPushButton("Use for sync")
        row = QHBoxLayout()
        for b in (self.save_button, self.test_button, self.use_button, self.delete_button):
            row.addWidget(b)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.list.currentRowChanged.connect(self._show)
        self.save_button.clicked.connect(self.save)
        self.test_button.clicked.connect(self.test)
        self.delete_button.clicked.connect(self.delete)
        self.use_button.clicked.connect(self.use)
        self._refresh()

    def _refresh(self) -> None:
        self.list.clear()
        for p in self.profiles:
            active = "  (used for sync)" if p.name == self._settings.active_profile else ""
            self.list.addItem(f"{p.name}: {p.url}{active}")

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.profiles):
            p = self.profiles[row]
            self.name.setText(p.name)
            self.url.setText(p.url)
            self.territory.setText(", ".join(p.territory))
            self.password.clear()
            self.kafka.setText(p.kafka_bootstrap or "")
            self.kafka_protocol.setCurrentText(p.kafka_security_protocol)
            self.kafka_mechanism.setCurrentText(p.kafka_sasl_mechanism or "(none)")
            self.kafka_user.setText(p.kafka_sasl_user or "")
            self.kafka_ca.setText(p.kafka_ca_file or "")
            self.kafka_password.clear()

    def _form(self) -> ConnectionProfile | None:
        try:
            territory = [t.strip() for t in self.territory.text().split(",") if t.strip()]
            mechanism = self.kafka_mechanism.currentText()
            return ConnectionProfile(
                name=self.name.text().strip(), url=self.url.text().strip(), territory=territory,
                kafka_bootstrap=self.kafka.text().strip() or None,
                kafka_security_protocol=self.kafka_protocol.currentText(),  # type: ignore[arg-type]
                kafka_sasl_mechanism=None if mechanism == "(none)" else mechanism,  # type: ignore[arg-type]
                kafka_sasl_user=self.kafka_user.text().strip() or None,
                kafka_ca_file=self.kafka_ca.text().strip() or None)
        except ValidationError as exc:
            self.message.setText("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors()))
            return None

    def save(self) -> None:
        profile = self._form()
        if profile is None:
            return
        if self.password.text():
            try:
                secrets.set_password(account_for(profile.url), self.password.text())
            except secrets.SecretsUnavailable as exc:
                self.message.setText(str(exc))
                return
        if self.kafka_password.text():
            try:
                secrets.set_password(profile.kafka_account, self.kafka_password.text())
            except secrets.SecretsUnavailable as exc:
                self.message.setText(str(exc))
                return
        self.profiles = [p for p in self.profiles if p.name != profile.name] + [profile]
        self._persist()
        self.message.setText(f"Saved {profile.name}.")

    def use(self) -> None:
        profile = self._form()
        if profile is not None:
            if profile not in self.profiles:
                self.save()
            self._settings.active_profile = profile.name
            self._persist()

    def delete(self) -> None:
        name = self.name.text().strip()
        self.profiles = [p for p in self.profiles if p.name != name]
        if self._settings.active_profile == name:
            self._settings.active_profile = None
        self._persist()

    def _persist(self) -> None:
        self._settings.profiles = self.profiles
        try:
            save_settings(self._settings)
        except OSError as exc:
            self.message.setText(f"Could not save settings: {exc}")
        self._refresh()

    def test(self) -> None:
        profile = self._form()
        if profile is None:
            return
        password = self.password.text() or secrets.get_password(account_for(profile.url))
        self.message.setText("Testing…")
        self.test_button.setEnabled(False)

        def done(text: str) -> None:
            self.test_button.setEnabled(True)
            self.message.setText(text)

        def failed(exc: BaseException) -> None:
            self.test_button.setEnabled(True)
            self.message.setText(f"Could not connect: {exc}" if isinstance(exc, SyncError) else f"Error: {exc}")

        kafka_password = None
        if profile.kafka_sasl_mechanism:
            kafka_password = self.kafka_password.text() or secrets.get_password(profile.kafka_account)

        def work(_p: object) -> str:
            lines = [check_connection(profile.url, password)]
            if profile.kafka_bootstrap:
                from c360_desktop.core.alerts.listener import KafkaConfig, probe_kafka

                config = KafkaConfig(profile.kafka_bootstrap, "c360-connection-test", profile.kafka_security_protocol,
                                     profile.kafka_sasl_mechanism, profile.kafka_sasl_user, kafka_password)
                try:
                    lines.append(probe_kafka(config))
                except RuntimeError as exc:
                    lines.append(f"Kafka: {exc}")
            return "\n".join(lines)

        self._runner.run_query(work, done, failed)
