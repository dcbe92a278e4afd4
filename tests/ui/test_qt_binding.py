"""The Qt binding must not corrupt Python's reference counts (PySide6 6.12.0 on Python 3.11 drops
a reference to None on every call of a method that returns nothing, and the app then dies with
'Fatal Python error: none_dealloc' after a few thousand calls)."""

import sys

from PySide6.QtGui import QStandardItem
from PySide6.QtWidgets import QLabel


def test_calls_that_return_nothing_keep_none_alive(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    item = QStandardItem("x")
    before = sys.getrefcount(None)
    for i in range(500):
        label.setText(str(i))
        item.setToolTip("tip")
    lost = before - sys.getrefcount(None)
    assert lost < 50, f"{lost} references to None lost in 1,000 calls: this PySide6 build corrupts reference counts"
