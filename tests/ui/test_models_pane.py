"""The model dashboard on demo data: retrain with progress and cancel, each model's page drawn."""

from __future__ import annotations

import pytest

from c360_desktop.core.analytics import registry
from c360_desktop.core.analytics.training import check_drift, train
from c360_desktop.ui.panes.models.pane import ModelsPane
from tests.conftest import save_screenshot

pytestmark = [pytest.mark.ui, pytest.mark.slow]


def test_retrain_button_trains_in_the_background_then_every_page_draws(qtbot, services, runner, tmp_path):
    pane = ModelsPane(services, runner)
    qtbot.addWidget(pane)
    pane.resize(1500, 950)
    pane.show()
    assert pane.current is None and "No churn risk model has been trained" in pane.empty.text()
    seen: list[str] = []
    pane.progress.valueChanged.connect(lambda _v: seen.append(pane.status.text()))
    with qtbot.waitSignal(pane.sig_trained, timeout=120_000) as trained:
        pane.retrain_button.click()
        assert pane.progress.isVisible() and pane.cancel_button.isVisible()
        assert not pane.retrain_button.isEnabled()  # one training at a time
    version = trained.args[0]["churn"]["model_version"]
    assert any(s.startswith("churn:") for s in seen)  # progress was shown as it went
    assert not pane.progress.isVisible() and pane.retrain_button.isEnabled()
    assert pane.current is not None and pane.current.version == version
    assert pane.metrics.rowCount() == 2 and pane.metrics.item(0, 0).text() == "accuracy"
    headers = [pane.metrics.horizontalHeaderItem(c).text() for c in range(pane.metrics.columnCount())]
    assert headers[:3] == ["Held-out", "ours", "random forest"]
    # the retrain also checked drift: the drift chart is of that check
    assert registry.drift_history(services.cache.reader(), version)
    qtbot.wait(200)
    save_screenshot(pane, "model_dashboard_churn")

    for task in ("leads", "clv", "forecast", "segments"):
        train(services.cache, task)
    check_drift(services.cache)
    for model, name in (("lead", "model_dashboard_leads"), ("clv", "model_dashboard_clv"),
                        ("forecast", "model_dashboard_forecast"), ("segments", "model_dashboard_segments")):
        pane.select(model)
        v = pane.current
        assert v is not None and v.model == model and pane.summary.text().startswith(f"<b>{v.version}</b>")
        if model == "forecast":
            assert pane.series.count() >= 1 and pane.series.itemText(0) == "All Jamaica"
            assert pane.series_table.rowCount() == len(v.report["series"]) + len(v.report["skipped"])
        if model == "segments":
            assert pane.cluster_table.rowCount() == len(v.report["clusters"]) + 1
            # the metrics and the page's table export as shown
            tables = pane.export_button._tables()
            assert [t.title for t in tables] == ["Segments metrics", "Segments detail"]
            handle = pane.export_button.start(tables[1], tmp_path / "clusters.csv", "csv")
            qtbot.waitUntil(lambda h=handle: h.done, timeout=30_000)
            lines = (tmp_path / "clusters.csv").read_text(encoding="utf-8-sig").splitlines()
            assert lines[0].startswith("Cluster,Customers") and len(lines) == pane.cluster_table.rowCount() + 1
        if model == "clv":
            assert pane.cohort_table.rowCount() == len(v.report["cohorts"])
        qtbot.wait(100)
        save_screenshot(pane, name)


def test_cancel_stops_training_and_keeps_what_was_there(qtbot, services, runner):
    pane = ModelsPane(services, runner)
    qtbot.addWidget(pane)
    pane.show()
    pane.retrain_all_button.click()
    qtbot.waitUntil(lambda: pane.status.text().startswith("churn:"), timeout=30_000)
    pane.cancel_button.click()
    qtbot.waitUntil(lambda: pane.task is None, timeout=60_000)
    assert "Cancelled" in pane.status.text()
    assert registry.versions(services.cache.reader()) == []  # nothing half-recorded
    assert services.cache.reader().execute("SELECT count(*) FROM score WHERE model = 'churn'").fetchone()[0] == 0


def test_field_reps_see_the_dashboard_but_do_not_retrain(qtbot, services, runner):
    services.settings.role = "field_rep"
    pane = ModelsPane(services, runner)
    qtbot.addWidget(pane)
    assert not pane.retrain_button.isEnabled() and not pane.retrain_all_button.isEnabled()
    assert pane.drift_button.isEnabled()
    assert not pane.schedule.isActive()


def test_the_schedule_retrains_only_what_is_due(qtbot, services, runner):
    pane = ModelsPane(services, runner)
    qtbot.addWidget(pane)
    assert pane.schedule.isActive()  # every 7 days by default
    for task in ("clv", "leads", "forecast", "segments"):
        train(services.cache, task)
    with qtbot.waitSignal(pane.sig_trained, timeout=120_000) as trained:
        assert pane.retrain_if_due() is not None
    assert set(trained.args[0]) == {"churn"}  # the one never trained
    assert pane.retrain_if_due() is None  # nothing left to do
