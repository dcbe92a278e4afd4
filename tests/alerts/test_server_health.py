"""The central side's health and the publisher's Prometheus metrics, on the real PostgreSQL and
broker: what a probe and a scrape would read."""

import json
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from server_sync import cli as server_cli
from server_sync.devserver import free_port
from server_sync.kafka import ChangePublisher
from server_sync.metrics import PublisherMetrics


def by_name(found):
    return {c.name: c for c in found}


def _execute(central, sql, *params):
    cur = central.cursor()
    cur.execute(sql, params)
    central.commit()


def samples(text):
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_publisher_metrics_count_events_and_lag_as_a_scrape_reads_them(central_url, central, kafka):
    metrics = PublisherMetrics()
    port = free_port()
    server = metrics.serve(port)
    publisher = ChangePublisher(central_url, kafka.bootstrap, metrics=metrics)
    try:
        for i, cid in enumerate(_ids(central, 3)):
            _execute(central, "UPDATE customer SET display_name = %s WHERE id = %s", f"Renamed {i}", cid)
        assert publisher.lag()["customer"] == 3  # changed, not announced yet
        scraped = samples(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode())
        assert scraped[("c360_publisher_lag_rows", (("table", "customer"),))] == 3
        sent = publisher.publish_once()
        assert sent == 1 and publisher.lag()["customer"] == 0
        scraped = samples(urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode())
        assert scraped[("c360_publisher_events_total", (("table", "customer"),))] == 1
        assert scraped[("c360_publisher_batch_seconds_count", ())] == 1
        assert scraped[("c360_publisher_lag_rows", (("table", "customer"),))] == 0
        assert scraped[("c360_publisher_last_pass_timestamp_seconds", ())] > 0
    finally:
        publisher.close()
        server.shutdown()


def _ids(central, n):
    cur = central.cursor()
    cur.execute("SELECT id FROM customer ORDER BY id LIMIT %s", (n,))
    return [r[0] for r in cur.fetchall()]


def test_server_health_reports_each_part_and_exits_1_on_red(central_url, central, kafka, capsys):
    assert server_cli.main(["health", "--url", central_url, "--bootstrap", kafka.bootstrap, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in out["checks"]}
    assert checks["central database"]["status"] == "green" and checks["schema"]["value"] == "6"
    assert checks["PostGIS"]["status"] == "green" and checks["Kafka"]["status"] == "green"
    assert checks["change publisher"]["status"] == "amber"  # never run on this database
    publisher = ChangePublisher(central_url, kafka.bootstrap)
    publisher.close()
    (cid,) = _ids(central, 1)
    _execute(central, "UPDATE customer SET display_name = 'Renamed' WHERE id = %s", cid)
    assert server_cli.main(["health", "--url", central_url, "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["change publisher"]["status"] == "green" and checks["change publisher"]["value"] == "1"
    assert checks["change publisher"]["reason"] == "1 changed rows not announced yet (most in customer)"
    _execute(central, "UPDATE c360_meta SET value = '1' WHERE key = 'schema_version'")
    assert server_cli.main(["health", "--url", central_url]) == 1
    text = capsys.readouterr().out
    assert "FAIL  schema" in text and text.rstrip().endswith("overall: red")
    from sqlalchemy.engine import make_url

    unreachable = make_url(central_url).set(port=free_port()).render_as_string(hide_password=False)
    assert server_cli.main(["health", "--url", unreachable, "--timeout", "2"]) == 1
    assert "FAIL  central database" in capsys.readouterr().out
