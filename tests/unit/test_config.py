from __future__ import annotations

import pytest

from services.crm.config import ConfigError, Settings
from services.crm.storage import DatabaseUrlError, eventsourcing_env


def test_defaults_run_on_a_laptop_with_sqlite_under_var() -> None:
    settings = Settings.from_environ({})
    assert settings.database_url == "sqlite:///var/crm.sqlite3"
    assert settings.listen_address == "127.0.0.1:50051"


def test_values_come_from_crm_variables() -> None:
    settings = Settings.from_environ(
        {"CRM_MAX_WORKERS": "4", "CRM_DEFAULT_PHONE_REGION": "gb", "CRM_PROJECTIONS": "Off"}
    )
    assert (settings.max_workers, settings.default_phone_region) == (4, "GB")
    assert settings.projections == "off"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CRM_MAX_WORKERS", "many"),
        ("CRM_MAX_WORKERS", "0"),
        ("CRM_LISTEN_ADDRESS", "nowhere"),
        ("CRM_DEFAULT_PHONE_REGION", "XX"),
        ("CRM_LOG_LEVEL", "LOUD"),
        ("CRM_PROJECTIONS", "sometimes"),
        ("CRM_MAX_WATCHERS_PER_CALLER", "0"),
        ("CRM_MAX_REPLAYS", "none"),
        ("CRM_DATABASE_TIMEOUT_SECONDS", "1.5"),
        ("CRM_HEALTH_INTERVAL_SECONDS", "0"),
        ("CRM_PROJECTION_STALL_SECONDS", "-1"),
        ("CRM_METRICS_ADDRESS", "9464"),
        ("CRM_METRICS_ADDRESS", "127.0.0.1:65536"),
        ("CRM_LISTEN_ADDRESS", "127.0.0.1:70000"),
        ("CRM_LEASE_RETRY_SECONDS", "0"),
        ("CRM_LEASE_RETRY_SECONDS", "soon"),
        ("CRM_SERVE_PROCESSES", "0"),
        ("CRM_SERVE_PROCESSES", "two"),
        ("CRM_CLOCK", "tomorrow"),
        ("CRM_CLOCK", "file:"),
        ("CRM_DEADLINES_POLL_SECONDS", "0"),
    ],
)
def test_a_bad_value_is_refused_with_its_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_environ({name: value})


def test_outage_and_stream_limits_have_documented_defaults() -> None:
    settings = Settings.from_environ({})
    assert settings.database_timeout_seconds == 5
    assert settings.health_interval_seconds == 1.0
    assert (settings.max_watchers, settings.max_watchers_per_caller) == (64, 8)
    assert settings.max_replays == 4
    assert settings.lease_retry_seconds == 1.0


def test_a_standby_projector_can_be_told_to_try_for_the_lease_more_often() -> None:
    assert Settings.from_environ({"CRM_LEASE_RETRY_SECONDS": "0.5"}).lease_retry_seconds == 0.5


def test_metrics_listen_on_9464_unless_turned_off_and_a_stall_is_30_seconds() -> None:
    assert Settings.from_environ({}).metrics_address == "127.0.0.1:9464"
    assert Settings.from_environ({"CRM_METRICS_ADDRESS": ""}).metrics_address == ""
    assert (
        Settings.from_environ({"CRM_METRICS_ADDRESS": "0.0.0.0:0"}).metrics_address == "0.0.0.0:0"
    )
    assert Settings.from_environ({}).projection_stall_seconds == 30.0


def test_one_serving_process_unless_crm_serve_processes_says_more() -> None:
    assert Settings.from_environ({}).serve_processes == 1
    assert Settings.from_environ({"CRM_SERVE_PROCESSES": "3"}).serve_processes == 3


def test_projections_in_a_thread_are_refused_with_several_serving_processes() -> None:
    with pytest.raises(ConfigError, match="CRM_PROJECTIONS=thread needs CRM_SERVE_PROCESSES=1"):
        Settings.from_environ({"CRM_SERVE_PROCESSES": "2", "CRM_PROJECTIONS": "thread"})


def test_a_call_waits_for_a_postgres_connection_as_long_as_the_database_timeout() -> None:
    env = eventsourcing_env("postgresql://crm@db.internal/crm", database_timeout=3)
    assert env["POSTGRES_CONNECT_TIMEOUT"] == "3"


def test_postgres_urls_select_the_postgres_recorders() -> None:
    env = eventsourcing_env("postgresql://crm:s3cret@db.internal:6543/crm?schema=tenant1")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.internal",
        "6543",
        "crm",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_SCHEMA"]) == (
        "crm",
        "s3cret",
        "tenant1",
    )


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite:///:memory:", "postgresql:///nohost"])
def test_unsupported_database_urls_are_refused(url: str) -> None:
    with pytest.raises(DatabaseUrlError):
        eventsourcing_env(url)


def test_the_deadline_clock_is_the_systems_unless_a_test_clock_is_allowed() -> None:
    assert Settings.from_environ({}).clock == "system"
    with pytest.raises(ConfigError, match="CRM_TEST_CLOCK=on"):
        Settings.from_environ({"CRM_CLOCK": "file:/tmp/clock"})
    allowed = {"CRM_CLOCK": "file:/tmp/clock", "CRM_TEST_CLOCK": "on"}
    assert Settings.from_environ(allowed).clock == "file:/tmp/clock"


def test_the_deadline_engines_crash_hook_needs_a_test_clock() -> None:
    with pytest.raises(ConfigError, match="CRM_DEADLINES_TEST_CRASH"):
        Settings.from_environ({"CRM_DEADLINES_TEST_CRASH": "after-record"})
    with pytest.raises(ConfigError, match="CRM_DEADLINES_TEST_CRASH"):
        Settings.from_environ(
            {
                "CRM_CLOCK": "file:/tmp/clock",
                "CRM_TEST_CLOCK": "on",
                "CRM_DEADLINES_TEST_CRASH": "sometime",
            }
        )
