"""Live alerts: event schemas (core.events), rules, the pipeline that stores alerts, the Kafka
listener and e-mail. ``start_alerts`` assembles them from the user's settings. Importing this
package is light: confluent-kafka loads when a listener starts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from c360_desktop.core import secrets
from c360_desktop.core.settings import Settings
from c360_desktop.core.storage.cache import Cache

if TYPE_CHECKING:
    from c360_desktop.core.alerts.listener import AlertListener, KafkaConfig
    from c360_desktop.core.alerts.notify import EmailNotifier
    from c360_desktop.core.alerts.pipeline import BatchResult
    from c360_desktop.core.security import User


def kafka_config(settings: Settings, create_id: bool = True) -> KafkaConfig | None:
    """How this desktop reaches the active profile's Kafka (None without one). Its consumer
    group is the desktop's own; a desktop without an id gets one saved (unless not
    ``create_id``: then the group is one no listener has used)."""
    from c360_desktop.core.alerts.listener import KafkaConfig

    profile = settings.profile()
    if profile is None or not profile.kafka_bootstrap:
        return None
    if not settings.desktop_id and create_id:
        import uuid

        from c360_desktop.core.settings import save_settings

        settings.desktop_id = str(uuid.uuid4())
        save_settings(settings)
    return KafkaConfig(
        bootstrap=profile.kafka_bootstrap, group_id=f"c360-desktop-{settings.desktop_id or 'none'}",
        security_protocol=profile.kafka_security_protocol, sasl_mechanism=profile.kafka_sasl_mechanism,
        sasl_user=profile.kafka_sasl_user,
        sasl_password=secrets.get_password(profile.kafka_account) if profile.kafka_sasl_mechanism else None,
        ca_file=profile.kafka_ca_file)


def start_alerts(cache: Cache, settings: Settings, sink: Callable[[BatchResult], None],
                 on_state: Callable[[str, str], None], assign: bool = False, user: User | None = None
                 ) -> tuple[AlertListener, EmailNotifier | None] | None:
    """Start listening for the active connection profile's Kafka, if it has one. ``user``: who
    the alerts are for (their role and parishes pick the rules' audience)."""
    from c360_desktop.core.alerts.listener import AlertListener
    from c360_desktop.core.alerts.notify import EmailNotifier, smtp_config
    from c360_desktop.core.alerts.pipeline import AlertPipeline
    from c360_desktop.core.alerts.rules import Audience, RuleEngine
    from c360_desktop.core.alerts.store import AlertStore

    config = kafka_config(settings)
    profile = settings.profile()
    if config is None or profile is None:
        return None
    if user is None:  # the settings' user (scripts, tests); the window passes the signed-in one
        audience = Audience(settings.user_name, settings.role,
                            frozenset(profile.territory) if profile.territory else None)
    else:  # its role and parishes as the centre or the sign-in gave them
        audience = Audience(user.name, user.role.value, frozenset(user.territory) if user.territory else None)
    pipeline = AlertPipeline(cache, RuleEngine(AlertStore(cache).rules()), audience,
                             max_age=timedelta(days=settings.alert_max_age_days))
    notifier = None
    deliver: Callable[[BatchResult], None] = sink
    smtp = smtp_config(settings)
    if smtp is not None:
        notifier = EmailNotifier(cache, smtp).start()
        mailer = notifier

        def deliver_and_mail(result: BatchResult) -> None:
            mailer.submit(result.alerts)
            sink(result)

        deliver = deliver_and_mail
    listener = AlertListener(config, pipeline, deliver, on_state, assign=assign).start()
    return listener, notifier
