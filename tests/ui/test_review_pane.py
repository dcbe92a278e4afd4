"""The identity review queue on demo data: side by side, waterfall, keys Y/N/S/U, merges undone."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from c360_desktop.core.identity.review import build_queue, remaining
from c360_desktop.ui.panes.review.pane import ReviewPane
from tests.conftest import save_screenshot

pytestmark = pytest.mark.ui


def test_review_queue_keys_decide_merge_and_undo(qtbot, services, runner):
    found = build_queue(services.cache, low=0.01, high=0.99)  # a wide band: enough pairs for every key
    assert found >= 3
    pane = ReviewPane(services, runner)
    qtbot.addWidget(pane)
    pane.resize(1100, 700)
    pane.show()
    pane.setFocus()
    first = pane.pair
    assert first is not None and f"{found:,} pairs left" == pane.counter.text()
    assert pane.table.rowCount() == 11
    differing = [r for r in range(pane.table.rowCount()) if pane.table.item(r, 0).toolTip() == "differs"]
    assert differing  # an uncertain pair differs somewhere, and it is highlighted
    assert "Match probability" in pane.probability.text()
    qtbot.waitUntil(lambda: pane.chart.widget is not None, timeout=5_000)
    qtbot.wait(100)  # laid out, as the user sees it
    save_screenshot(pane, "review_queue")

    # S: skipped to the back of the queue
    qtbot.keyClick(pane, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: pane.pair is not None and pane.pair.id != first.id, timeout=10_000)
    assert remaining(services.cache.reader()) == found
    # Y: the pair shown is merged (through the ledger) and leaves the queue
    second = pane.pair
    qtbot.keyClick(pane, Qt.Key.Key_Y)
    qtbot.waitUntil(lambda: pane.pair is None or pane.pair.id != second.id, timeout=20_000)
    conn = services.cache.reader()
    assert conn.execute("SELECT status FROM customer WHERE id = ?", (second.customer_b,)).fetchone()[0] == "merged"
    assert conn.execute("SELECT status FROM review_pair WHERE id = ?", (second.id,)).fetchone()[0] == "match"
    # U: undone, both customers back and the pair pending again
    qtbot.keyClick(pane, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: services.cache.reader().execute(
        "SELECT status FROM review_pair WHERE id = ?", (second.id,)).fetchone()[0] == "pending", timeout=20_000)
    conn = services.cache.reader()
    assert conn.execute("SELECT deleted_at FROM customer WHERE id = ?", (second.customer_b,)).fetchone()[0] is None
    # N: recorded as not a match
    qtbot.waitUntil(lambda: pane.pair is not None and not pane._busy, timeout=10_000)
    third = pane.pair
    qtbot.keyClick(pane, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: services.cache.reader().execute(
        "SELECT status, decided_by FROM review_pair WHERE id = ?", (third.id,)).fetchone() == ("no_match", "tester"),
        timeout=10_000)
    runner.wait()


def test_decisions_sync_as_audit_events_and_are_not_asked_again(qtbot, services):
    """A 'not a match' is an audit event in the outbox; a queue rebuilt from the synced events
    alone (another desktop: no local review rows) does not ask about that pair again."""
    import json

    from c360_desktop.core.identity.review import decide, decided_labels, pending

    build_queue(services.cache, low=0.01, high=0.99)
    pair = pending(services.cache.reader(), 1)[0]
    decide(services.cache, pair.id, "no_match", "tester")
    conn = services.cache.reader()
    action, details = conn.execute("SELECT action, details FROM audit_event WHERE action LIKE 'identity_review.%'"
                                   ).fetchone()
    assert action == "identity_review.no_match" and json.loads(details)["customer_b"] == pair.customer_b
    assert conn.execute("SELECT count(*) FROM outbox WHERE entity = 'audit_event'").fetchone()[0] == 1
    assert decided_labels(conn) == {tuple(sorted((pair.customer_a, pair.customer_b))): 0}
    with services.cache.writer() as w:  # another desktop: it has the synced event, not our queue
        w.execute("DELETE FROM review_pair")
    build_queue(services.cache, low=0.01, high=0.99)
    again = {(p.customer_a, p.customer_b) for p in pending(services.cache.reader(), 10_000)}
    assert (pair.customer_a, pair.customer_b) not in again and again
