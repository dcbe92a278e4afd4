"""Health checks against the real central PostgreSQL: reachable, slow or not, schema compatible."""

from c360_desktop.core.health.service import GREEN, RED, HealthService
from c360_desktop.core.settings import ConnectionProfile, Settings


def settings_for(url):
    return Settings(user_name="rep", active_profile="hq", profiles=[ConnectionProfile(name="hq", url=url)])


def by_name(checks):
    return {c.name: c for c in checks}


def test_a_reachable_compatible_centre_is_green_with_its_round_trip(services, central_url):
    checks = by_name(HealthService(services.cache, settings_for(central_url)).central())
    assert checks["central database"].status == GREEN and checks["central database"].value.endswith(" ms")
    assert checks["schema compatibility"].status == GREEN and checks["schema compatibility"].value == "6"


def test_an_unreachable_centre_is_red(services):
    from server_sync.devserver import free_port

    url = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/c360"
    checks = by_name(HealthService(services.cache, settings_for(url), timeout=2).central())
    assert checks["central database"].status == RED and "cannot reach" in checks["central database"].reason


def test_a_database_that_is_not_a_centre_fails_the_schema_check(services, pg):
    url = pg.create_database("health_not_central")
    checks = by_name(HealthService(services.cache, settings_for(url)).central())
    assert checks["central database"].status == GREEN
    assert checks["schema compatibility"].status == RED and "c360-server init" in checks["schema compatibility"].reason


def test_a_newer_central_schema_is_red(services, central_url, central):
    cur = central.cursor()
    cur.execute("UPDATE c360_meta SET value = '99' WHERE key = 'schema_version'")
    central.commit()
    checks = by_name(HealthService(services.cache, settings_for(central_url)).central())
    assert checks["schema compatibility"].status == RED and "newer than this app" in checks["schema compatibility"].reason
