"""``c360-server health``: the central side's checks, for people and for probes.

The central database reachable and its round trip, its schema at this package's version,
PostGIS, the change publisher's backlog and, with a broker address, Kafka and its topics; each
green, amber or red with the reason (core.health.service.Check). Kubernetes probes run it: any
red exits 1.
"""

from __future__ import annotations

import time

from c360_desktop.core.events import TOPICS
from c360_desktop.core.health.service import AMBER, GREEN, RED, Check

PUBLISHER_LAG_AMBER = 10_000  # changed rows the publisher has not announced yet


def checks(url: str, password: str | None = None, bootstrap: str | None = None,
           timeout: float = 5.0) -> list[Check]:
    from sqlalchemy import text

    from c360_desktop.core.storage.schema import SYNCED_TABLES
    from c360_desktop.core.sync import SyncError
    from c360_desktop.core.sync.central import Central
    from server_sync.kafka import pending_changes, stored_positions
    from server_sync.schema import SCHEMA_VERSION

    out: list[Check] = []
    started = time.perf_counter()
    try:
        central = Central(url, password, connect_timeout=int(timeout))
    except SyncError as exc:
        out.append(Check("central database", RED, str(exc)))
    else:
        try:
            ms = (time.perf_counter() - started) * 1000
            out.append(Check("central database", GREEN, f"reachable at {central.host}", f"{ms:.0f} ms"))
            try:
                version = central.handshake()
            except SyncError as exc:
                version = None
                out.append(Check("schema", RED, str(exc)))
            if version is not None:
                status = GREEN if version == SCHEMA_VERSION else RED
                out.append(Check("schema", status, f"version {version}" + (
                    "" if status == GREEN else f", this server package is at {SCHEMA_VERSION}: "
                    + ("run c360-server init" if version < SCHEMA_VERSION else "update the server package")),
                    str(version)))
            if central.dialect.name == "postgresql":
                (postgis,) = central.run(text(
                    "SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'postgis'), '')"))[0]
                central.rollback()
                out.append(Check("PostGIS", GREEN if postgis else RED,
                                 f"version {postgis}" if postgis else "not installed: the map's central queries fail",
                                 postgis or ""))
            if version is not None:
                positions = stored_positions(central)
                if positions is None:
                    out.append(Check("change publisher", AMBER, "has never run here: desktops learn of central "
                                     "changes only when they sync"))
                else:
                    lag = pending_changes(central, positions, SYNCED_TABLES)
                    total = sum(lag.values())
                    worst = max(lag, key=lag.__getitem__)
                    status = AMBER if total > PUBLISHER_LAG_AMBER else GREEN
                    out.append(Check("change publisher", status, "up to date" if not total else
                                     f"{total:,} changed rows not announced yet (most in {worst})", f"{total:,}"))
        finally:
            central.close()
    if bootstrap:
        out.append(_kafka(bootstrap, timeout))
    return out


def _kafka(bootstrap: str, timeout: float) -> Check:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    started = time.perf_counter()
    try:
        meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=timeout)
    except KafkaException as exc:
        return Check("Kafka", RED, f"cannot reach Kafka at {bootstrap}: {exc.args[0].str()}")
    ms = (time.perf_counter() - started) * 1000
    missing = [t for t in TOPICS if t not in meta.topics]
    if missing:
        return Check("Kafka", RED, f"topics missing: {', '.join(missing)} (run c360-server kafka-init)", f"{ms:.0f} ms")
    return Check("Kafka", GREEN, f"{len(meta.brokers)} broker(s), every topic present", f"{ms:.0f} ms")
