"""The 360 notes tab: notes saved locally at once and queued for sync."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from c360_desktop.core.models import Note
from c360_desktop.core.services import Services
from c360_desktop.ui.format import local_datetime
from c360_desktop.ui.workers import TaskRunner

MAX_NOTE = 20_000


class NotesTab(QWidget):
    sig_note_saved = Signal(str)
    """A note was saved locally (and queued for sync); carries its id."""

    def __init__(self, services: Services, runner: TaskRunner) -> None:
        super().__init__()
        self._services, self._runner = services, runner
        self._customer: str | None = None
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.editor = QPlainTextEdit(placeholderText="Write a note… (Ctrl+Enter saves)")
        self.editor.setMaximumHeight(110)
        self.save_button = QPushButton("Save note")
        self.save_button.setToolTip("Saved on this computer at once; sent to the central database at the next sync")
        self.message = QLabel()
        self.message.setObjectName("notes_message")
        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.editor)
        layout.addLayout(row)
        self.save_button.clicked.connect(self.save)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self.editor, self.save, context=Qt.ShortcutContext.WidgetShortcut)

    def show_notes(self, customer_id: str, notes: tuple[Note, ...]) -> None:
        if customer_id != self._customer:
            self.message.clear()
        self._customer = customer_id
        self.list.clear()
        for note in notes:
            pending = "  · waiting to sync" if note.pending_sync else ""
            item = QListWidgetItem(f"{local_datetime(note.created_at)} · {note.author}{pending}\n{note.body}")
            self.list.addItem(item)
        if not notes:
            self.list.addItem(QListWidgetItem("No notes yet."))

    def save(self) -> None:
        body = self.editor.toPlainText().strip()
        if self._customer is None or not self.save_button.isEnabled():
            return  # nothing open, or a save is already under way (a double Ctrl+Enter)
        if not body:
            self.message.setText("Write something first.")
            return
        if len(body) > MAX_NOTE:
            self.message.setText(f"This note is {len(body):,} characters; the limit is {MAX_NOTE:,}.")
            return
        customer, author = self._customer, self._services.user.name
        self.save_button.setEnabled(False)
        self.message.setText("Saving…")

        def done(note: Note) -> None:
            self.save_button.setEnabled(True)
            self.editor.clear()
            self.message.setText("Saved on this computer; it will sync when you are online.")
            if customer == self._customer:
                self._runner.run_query(lambda _p: self._services.profiles.notes(customer),
                                       lambda notes: self.show_notes(customer, notes))
            self.sig_note_saved.emit(note.id)

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)  # the text stays in the editor: nothing is lost
            self.message.setText(f"Could not save the note: {exc}")

        self._runner.run_mutation(lambda _p: self._services.profiles.add_note(customer, body, author),
                                  done, failed)
