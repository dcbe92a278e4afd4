"""User settings: one typed, versioned schema in the per-user config dir, with migrations.

Environment overrides (for portable installs and tests): C360_CONFIG_DIR, C360_DATA_DIR.
A malformed settings file is reported (file, line, what is wrong) and left as it is; the app runs
on defaults until the user saves, which replaces it atomically.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

APP_NAME = "c360-desktop"
SCHEMA_VERSION = 2


def config_dir() -> Path:
    return Path(os.environ.get("C360_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME, False))


def data_dir() -> Path:
    return Path(os.environ.get("C360_DATA_DIR") or platformdirs.user_data_dir(APP_NAME, False))


def default_cache_path() -> Path:
    return data_dir() / "demo-cache.db"


class ConnectionProfile(BaseModel):
    """A central database to sync with. The password is in the OS keyring, never here."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=50)
    url: str = Field(min_length=1)
    territory: list[str] = Field(default_factory=list)  # parish codes; empty: all
    # Kafka for live alerts (optional). The SASL password is in the keyring (kafka_account).
    kafka_bootstrap: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]+:\d{1,5}(,[A-Za-z0-9_.\-]+:\d{1,5})*$")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_user: str | None = Field(default=None, max_length=200)
    kafka_ca_file: str | None = Field(default=None, max_length=500)  # the CA of the brokers' certificates (PEM)

    @property
    def kafka_account(self) -> str:
        return f"kafka:{self.kafka_sasl_user or ''}@{self.kafka_bootstrap or ''}"

    @field_validator("url")
    @classmethod
    def _no_password(cls, value: str) -> str:
        from c360_desktop.core.sync.urls import UrlError, check_secret_free

        try:
            check_secret_free(value)
        except UrlError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("territory")
    @classmethod
    def _parishes(cls, value: list[str]) -> list[str]:
        from c360_desktop.core.validation import normalize_parish

        return [normalize_parish(p, "territory") for p in value]


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    schema_version: int = SCHEMA_VERSION
    cache_path: str | None = None  # None: the demo cache in the data dir
    demo_customers: int = Field(default=20_000, ge=100, le=2_000_000)
    demo_seed: int = 1
    user_name: str = Field(default_factory=getpass.getuser, min_length=1)
    role: Literal["manager", "analyst", "field_rep", "data_steward", "admin"] = "analyst"  # security.Role
    search_limit: int = Field(default=100, ge=10, le=1000)
    # A signed-in window locks after this many minutes without a key press or mouse use (0: never).
    idle_lock_minutes: int = Field(default=15, ge=0, le=8 * 60)
    profiles: list[ConnectionProfile] = Field(default_factory=list)
    active_profile: str | None = None
    sync_every_minutes: int = Field(default=15, ge=0, le=24 * 60)  # 0: only on demand
    # This desktop's own Kafka consumer group (every desktop sees every event); made and saved
    # the first time alerts start (core.alerts.start_alerts).
    desktop_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9\-]{8,64}$")
    alert_max_age_days: int = Field(default=7, ge=1, le=365)  # older events raise no alert
    # E-mail for rules that ask for it; the SMTP password is in the keyring (smtp_account).
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "c360-alerts@localhost"
    smtp_user: str | None = None
    smtp_starttls: bool = False
    # Golden records: per field, survivorship rules tried in order (core/identity/golden.py),
    # and which source systems are the books of record, most trusted first. Empty: the defaults.
    survivorship: dict[str, list[str]] = Field(default_factory=dict)
    # Models (core/analytics/training.py): retrain those older than this many days while the app
    # runs (0: only on demand), and alert when a feature's population stability index passes this.
    retrain_every_days: int = Field(default=7, ge=0, le=365)
    drift_threshold: float = Field(default=0.25, gt=0.0, le=10.0)
    source_priority: list[str] = Field(default_factory=list)
    # Imports refuse files over this size before reading them (core/tables.py check_file).
    import_max_mb: int = Field(default=200, ge=1, le=4096)
    # The dashboard's tiles per layout (manager, analyst, field_rep), in order, as the user
    # arranged them; a layout not here shows its default (core/reports/kpi.py LAYOUTS).
    dashboard_tiles: dict[str, list[str]] = Field(default_factory=dict)
    # Where IT publishes new versions (a folder, a file share, or an http(s) address holding
    # c360-desktop-latest.json; core/updates). Empty: the app never looks for updates.
    update_location: str | None = Field(default=None, max_length=2000)

    @field_validator("dashboard_tiles")
    @classmethod
    def _check_tiles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        from c360_desktop.core.reports.kpi import LAYOUTS
        from c360_desktop.core.reports.semantic import MEASURES

        for layout, names in value.items():
            if layout not in LAYOUTS:
                raise ValueError(f"unknown dashboard layout {layout!r}; choose from {', '.join(LAYOUTS)}")
            unknown = [n for n in names if n not in MEASURES]
            if unknown:
                raise ValueError(f"dashboard {layout}: unknown measure {unknown[0]!r}; choose from {', '.join(MEASURES)}")
            if not names or len(set(names)) != len(names):
                raise ValueError(f"dashboard {layout}: list each measure once, at least one")
        return value

    @field_validator("survivorship")
    @classmethod
    def _check_survivorship(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        from c360_desktop.core.identity.golden import GOLDEN_FIELDS, RULES

        for name, rules in value.items():
            if name not in GOLDEN_FIELDS:
                raise ValueError(f"survivorship: {name!r} is not a golden field ({', '.join(GOLDEN_FIELDS)})")
            bad = [r for r in rules if r not in RULES]
            if bad or not rules:
                raise ValueError(f"survivorship for {name}: {bad[0] if bad else 'no rule'!r} is not one of "
                                 f"{', '.join(RULES)}")
        return value

    def survivorship_rules(self) -> dict[str, tuple[str, ...]]:
        from c360_desktop.core.identity.golden import DEFAULT_SURVIVORSHIP

        return {**DEFAULT_SURVIVORSHIP, **{k: tuple(v) for k, v in self.survivorship.items()}}

    @property
    def smtp_account(self) -> str:
        return f"smtp:{self.smtp_user or ''}@{self.smtp_host or ''}:{self.smtp_port}"

    def profile(self, name: str | None = None) -> ConnectionProfile | None:
        wanted = name or self.active_profile
        return next((p for p in self.profiles if p.name == wanted), None)

    def resolved_cache_path(self) -> Path:
        return Path(self.cache_path).expanduser() if self.cache_path else default_cache_path()


def _migrate(raw: dict[str, Any]) -> dict[str, Any]:
    version = int(raw.get("schema_version", 1))
    if version < 2 and "cache" in raw:  # v1 called the cache file "cache"
        raw["cache_path"] = raw.pop("cache")
    raw["schema_version"] = SCHEMA_VERSION
    return raw


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings(path: Path | None = None) -> tuple[Settings, list[str]]:
    """The settings, and problems found in the file (each naming the file and what is wrong)."""
    path = path or settings_path()
    if not path.exists():
        return Settings(), []
    try:
        raw = json.loads(path.read_text("utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("the top level must be a JSON object")
    except json.JSONDecodeError as exc:
        return Settings(), [f"{path}: line {exc.lineno}, column {exc.colno}: {exc.msg}; using defaults"]
    except (OSError, ValueError) as exc:
        return Settings(), [f"{path}: {exc}; using defaults"]
    if int(raw.get("schema_version", 1)) > SCHEMA_VERSION:
        return Settings(), [f"{path}: written by a newer version (schema {raw['schema_version']}); "
                            "using defaults and leaving the file as it is"]
    raw = _migrate(raw)
    problems = []
    try:
        return Settings(**raw), []
    except ValidationError as exc:
        good = dict(raw)
        for err in exc.errors():
            key = str(err["loc"][0])
            where = ".".join(str(part) for part in err["loc"])
            value = raw.get(key)
            # Only a plain value is echoed: a profile may hold a URL with a secret in it.
            shown = f" = {value!r}" if isinstance(value, str | int | float | bool) and len(err["loc"]) == 1 else ""
            problems.append(f"{path}: setting '{where}'{shown}: {err['msg']}; using the default")
            good.pop(key, None)
        return Settings(**good), problems


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically: the old file stays whole until the new one is complete."""
    from c360_desktop.core.private import make_private_dir, write_private

    path = path or settings_path()
    make_private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    write_private(tmp, settings.model_dump_json(indent=2))
    tmp.replace(path)
