"""The lookup and 360 panes, driven with the keyboard as a user drives them."""

import pytest
from PySide6.QtCore import Qt

from c360_desktop.ui.panes.lookup.pane import LookupPane
from c360_desktop.ui.panes.profile.model import PAGE
from c360_desktop.ui.panes.profile.pane import ProfilePane
from tests.conftest import save_screenshot
from tests.ui.conftest import busiest_customer, unique_individual

pytestmark = pytest.mark.ui


@pytest.fixture
def panes(qtbot, services, runner):
    lookup, profile = LookupPane(services, runner), ProfilePane(services, runner)
    lookup.sig_customer_requested.connect(profile.show_customer)
    for w in (lookup, profile):
        qtbot.addWidget(w)
        w.resize(1000, 700)
        w.show()
    return lookup, profile


def search(qtbot, lookup, text):
    with qtbot.waitSignal(lookup.sig_results_shown, timeout=10_000,
                          check_params_cb=lambda q, _n: q == text):
        lookup.search_box.clear()
        qtbot.keyClicks(lookup.search_box, text)


def test_type_a_misspelt_name_and_press_enter(qtbot, panes, services):
    lookup, profile = panes
    cid, name, _phone = unique_individual(services)
    typo = name[:2] + name[3] + name[2] + name[4:]  # two letters swapped
    search(qtbot, lookup, typo)
    assert lookup.model.hit(0).customer_id == cid
    assert "match" in lookup.status.text()
    with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
        qtbot.keyClick(lookup.search_box, Qt.Key.Key_Return)
    assert profile.customer_id == cid
    assert profile.header.title.text() == name
    save_screenshot(lookup, "lookup_pane")


def test_phone_in_another_format_then_arrows_and_enter(qtbot, panes, services):
    lookup, profile = panes
    cid, name, phone = unique_individual(services, offset=5)
    d = phone[2:]
    search(qtbot, lookup, f"({d[:3]}) {d[3:6]} {d[6:]}")
    qtbot.keyClick(lookup.search_box, Qt.Key.Key_Down)
    assert lookup.table.hasFocus() or lookup.table.currentIndex().row() == 0
    with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
        qtbot.keyClick(lookup.table, Qt.Key.Key_Return)
    assert profile.customer_id == cid


def test_no_match_says_so(qtbot, panes):
    lookup, _ = panes
    search(qtbot, lookup, "Xqzvwk Pltrmn")
    assert lookup.model.rowCount() == 0
    assert "No customer matches" in lookup.status.text()


def test_profile_header_timeline_and_sources(qtbot, panes, services):
    _, profile = panes
    cid, name = busiest_customer(services)
    with qtbot.waitSignal(profile.timeline_model.sig_page_loaded, timeout=10_000):
        profile.show_customer(cid)
    assert profile.header.title.text() == name
    assert "not scored" in profile.header.scores.text()
    spend = services.profiles.get(cid).transactions.lifetime_spend
    assert profile.header.values["Lifetime spend"].text() == f"J${spend:,}"
    model = profile.timeline_model
    total = len(services.profiles.timeline(cid, limit=100_000))
    assert total > PAGE and model.rowCount() == PAGE  # only the first page, until the user scrolls
    while not model.exhausted:
        with qtbot.waitSignal(model.sig_page_loaded, timeout=10_000):
            profile.timeline.scrollToBottom()
            model.fetchMore(profile.timeline.rootIndex())
    assert model.rowCount() == total
    when = [model.index(r, 0).data() for r in range(3)]
    assert all(w and w != "—" for w in when)
    assert profile.sources.rowCount() == len(services.profiles.get(cid).source_records)
    save_screenshot(profile, "profile_pane_timeline")
    profile.tabs.setCurrentIndex(1)
    save_screenshot(profile, "profile_pane_sources")


def test_notes_save_once_and_show_as_waiting_to_sync(qtbot, panes, services):
    _, profile = panes
    cid, _name = busiest_customer(services)
    with qtbot.waitSignal(profile.sig_profile_shown, timeout=10_000):
        profile.show_customer(cid)
    profile.tabs.setCurrentIndex(2)
    notes = profile.notes
    outbox_before = services.cache.reader().execute("SELECT count(*) FROM outbox").fetchone()[0]
    qtbot.keyClick(notes.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert notes.message.text() == "Write something first."
    qtbot.keyClicks(notes.editor, "Visited the shop; wants the solar range.")
    with qtbot.waitSignal(notes.sig_note_saved, timeout=10_000):
        qtbot.keyClick(notes.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(notes.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # twice, fast
    qtbot.waitUntil(lambda: "solar range" in notes.list.item(0).text(), timeout=10_000)
    assert "waiting to sync" in notes.list.item(0).text()
    assert notes.editor.toPlainText() == ""
    outbox_after = services.cache.reader().execute("SELECT count(*) FROM outbox").fetchone()[0]
    assert outbox_after == outbox_before + 1
    save_screenshot(profile, "profile_pane_notes")


def test_empty_profile_pane_explains_itself(qtbot, services, runner):
    pane = ProfilePane(services, runner)
    qtbot.addWidget(pane)
    assert "Ctrl+K" in pane.placeholder.text()


def test_field_reps_see_a_masked_trn(qtbot, services, runner):
    cid, trn = services.cache.reader().execute(
        "SELECT id, trn FROM customer WHERE trn IS NOT NULL LIMIT 1").fetchone()
    for role, expected in (("analyst", f"{trn[:3]}-{trn[3:6]}-{trn[6:]}"), ("field_rep", f"***-***-{trn[-3:]}")):
        services.settings.role = role
        pane = ProfilePane(services, runner)
        qtbot.addWidget(pane)
        with qtbot.waitSignal(pane.sig_profile_shown, timeout=10_000):
            pane.show_customer(cid)
        assert pane.header.values["TRN"].text() == expected


def test_a_short_timeline_shows_its_columns_in_full(qtbot, panes, services):
    """Pages arrive after the view is shown; the contents-sized columns must still fit them."""
    _, profile = panes
    cid = services.cache.reader().execute(
        "SELECT customer_id FROM customer_summary WHERE txn_count BETWEEN 3 AND 6 LIMIT 1").fetchone()[0]
    with qtbot.waitSignal(profile.timeline_model.sig_page_loaded, timeout=10_000):
        profile.show_customer(cid)
    qtbot.wait(50)
    view, header = profile.timeline, profile.timeline.horizontalHeader()
    for col in (0, 1, 3, 4):
        assert header.sectionSize(col) >= view.sizeHintForColumn(col), (col, header.sectionSize(col))
    assert header.length() <= view.viewport().width() + 1  # all five columns in view, no scrolling


def test_the_header_says_every_quantity_a_lifetime_value_is_made_of():
    """Stored as data, worded by the 360 view, all shown: with "valued by the regression" first,
    the chance they are still a customer is the fourth reason and must not be cut off."""
    import json
    from datetime import datetime

    import numpy as np

    from c360_desktop.core.analytics.clv import reasons_json
    from c360_desktop.core.analytics.reasons import worded
    from c360_desktop.core.models import FeatureContribution, ModelScore
    from c360_desktop.ui.panes.profile.header import _score_text

    one = np.array([4.0])
    stored = json.loads(reasons_json(one, np.array([3.21]), np.array([12_345.0]), np.array([0.87]), 12, True)[0])
    score = ModelScore(model="clv", model_version="clv-test", value=39_627.45, scored_at=datetime(2026, 12, 6),
                       contributions=tuple(FeatureContribution(**c) for c in worded("clv", stored)))
    text = _score_text(score, "clv")
    assert "J$39,627.45" in text and "valued by the regression" in text
    assert "purchases expected in the next 12 months: 3.2" in text and "spend per purchase: JMD 12,345" in text
    assert "still a customer: 87%" in text
