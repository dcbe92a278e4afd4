"""Settings: typed, versioned, migrated; a bad file is reported and left alone."""

import json

from c360_desktop.core.settings import (
    SCHEMA_VERSION,
    Settings,
    load_settings,
    save_settings,
    settings_path,
)


def test_defaults_when_there_is_no_file():
    settings, problems = load_settings()
    assert problems == [] and settings.cache_path is None and settings.role == "analyst"


def test_round_trip_is_atomic():
    s = Settings(cache_path="/data/c.db", role="field_rep")
    save_settings(s)
    assert load_settings() == (s, [])
    assert not settings_path().with_suffix(".tmp").exists()


def test_malformed_json_names_file_and_line():
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('{\n  "role": "manager",\n  oops\n}')
    settings, problems = load_settings()
    assert settings == Settings(user_name=settings.user_name)
    assert len(problems) == 1 and str(path) in problems[0] and "line 3" in problems[0]
    assert "oops" in path.read_text()  # left as it was


def test_bad_values_are_named_and_the_rest_kept():
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema_version": 2, "role": "janitor", "demo_customers": 5000}))
    settings, problems = load_settings()
    assert settings.demo_customers == 5000 and settings.role == "analyst"
    assert problems and "'role' = 'janitor'" in problems[0]


def test_version_1_files_are_migrated():
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"cache": "/old/place.db"}))
    settings, problems = load_settings()
    assert problems == [] and settings.cache_path == "/old/place.db"
    assert settings.schema_version == SCHEMA_VERSION


def test_a_newer_file_is_not_touched():
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema_version": 99, "role": "manager"}))
    settings, problems = load_settings()
    assert settings.role == "analyst" and "newer version" in problems[0]


def test_connection_profiles_refuse_passwords_and_normalise_parishes():
    import pytest
    from pydantic import ValidationError

    from c360_desktop.core.settings import ConnectionProfile

    p = ConnectionProfile(name="prod", url="postgresql+psycopg2://rep@db.example/c360", territory=["St Andrew", "JM-12"])
    assert p.territory == ["JM-02", "JM-12"]
    with pytest.raises(ValidationError, match="must not contain a password"):
        ConnectionProfile(name="prod", url="postgresql+psycopg2://rep:secret@db/c360")
    with pytest.raises(ValidationError, match="not a Jamaican parish"):
        ConnectionProfile(name="prod", url="postgresql+psycopg2://rep@db/c360", territory=["Narnia"])
    s = Settings(profiles=[p], active_profile="prod")
    save_settings(s)
    assert load_settings()[0].profile() == p
    assert "secret" not in settings_path().read_text()
