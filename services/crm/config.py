"""Settings from CRM_* environment variables, read once, with laptop-friendly defaults."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from services.tracing import traces_requested

T = TypeVar("T")
PROJECTION_MODES = ("process", "thread", "off")
DEADLINE_TEST_CRASHES = ("before-record", "after-record")


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/crm.sqlite3"
    listen_address: str = "127.0.0.1:50051"
    max_workers: int = 32
    # Each open WatchTimeline stream holds a thread of its own, beyond max_workers.
    max_watchers: int = 64
    # One caller's watches, so one agent's open tabs cannot take every watch there is.
    max_watchers_per_caller: int = 8
    # Open ReplayEvents streams, counted apart from watches so auditors are never
    # refused because agents watch timelines.
    max_replays: int = 4
    # How long a call waits for a database connection before it ends UNAVAILABLE
    # (DATABASE_UNAVAILABLE): shorter than a client's usual deadline (the gateway's is 10 s).
    database_timeout_seconds: int = 5
    # How often health runs its checks (the database, ...) to say SERVING or NOT_SERVING.
    health_interval_seconds: float = 1.0
    # A read model behind the log that has not moved for this long is stalled.
    projection_stall_seconds: float = 30.0
    # Where Prometheus scrapes the metrics (HOST:PORT, port 0 picks one); empty: none.
    metrics_address: str = "127.0.0.1:9464"
    shutdown_grace_seconds: float = 10.0
    # Concurrent writes share one transaction; each is acknowledged after its commit.
    group_commit: bool = True
    # Where the read models are kept up: "process" (a child process, on a core of its
    # own), "thread" (inside the service) or "off" (`python -m services.crm project`
    # runs elsewhere, as with several replicas).
    projections: str = "process"
    # Serving processes sharing the listen port, each with the limits above; more
    # than one makes `crm serve` a parent that starts and restarts them.
    serve_processes: int = 1
    max_read_wait_seconds: float = 5.0
    # How often a standby projector tries for the lease (services/crm/lease.py), and so
    # how soon after the active one dies it takes over.
    lease_retry_seconds: float = 1.0
    default_phone_region: str = ""
    log_level: str = "INFO"
    # When set, callers must present it (the gateway does): actor metadata is trusted
    # only from those who hold it. Empty trusts every caller, for one laptop.
    caller_secret: str = field(default="", repr=False)
    # Where the deadline engine reads the time: "system", or "file:PATH" for tests
    # only (services/crm/deadlines/clock.py), allowed only with CRM_TEST_CLOCK=on.
    clock: str = "system"
    # How often the deadline engine looks for deadlines that fell due.
    deadlines_poll_seconds: float = 0.2
    # Tests only, with a test clock: the engine kills itself just before or after it
    # records a deadline's firing, to show that it still fires once.
    deadlines_test_crash: str = ""
    # Turned on by the standard OTEL_* variables (README: Traces), not by a CRM_ one.
    traces: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()

        def read(name: str, parse: Callable[[str], T], default: T) -> T:
            raw = env.get(f"CRM_{name}")
            if raw is None or raw == "":
                return default
            try:
                return parse(raw)
            except ValueError as error:
                raise ConfigError(f"CRM_{name}={raw!r} is invalid: {error}") from None

        settings = cls(
            database_url=read("DATABASE_URL", str, defaults.database_url),
            listen_address=read("LISTEN_ADDRESS", _address, defaults.listen_address),
            max_workers=read("MAX_WORKERS", _positive_int, defaults.max_workers),
            max_watchers=read("MAX_WATCHERS", _positive_int, defaults.max_watchers),
            max_watchers_per_caller=read(
                "MAX_WATCHERS_PER_CALLER", _positive_int, defaults.max_watchers_per_caller
            ),
            max_replays=read("MAX_REPLAYS", _positive_int, defaults.max_replays),
            database_timeout_seconds=read(
                "DATABASE_TIMEOUT_SECONDS", _positive_int, defaults.database_timeout_seconds
            ),
            health_interval_seconds=read(
                "HEALTH_INTERVAL_SECONDS", _positive_float, defaults.health_interval_seconds
            ),
            projection_stall_seconds=read(
                "PROJECTION_STALL_SECONDS", _positive_float, defaults.projection_stall_seconds
            ),
            metrics_address=_metrics_address(
                env.get("CRM_METRICS_ADDRESS"), defaults.metrics_address
            ),
            group_commit=read("GROUP_COMMIT", _switch, defaults.group_commit),
            projections=read("PROJECTIONS", _projections, defaults.projections),
            shutdown_grace_seconds=read(
                "SHUTDOWN_GRACE_SECONDS", _positive_float, defaults.shutdown_grace_seconds
            ),
            max_read_wait_seconds=read(
                "MAX_READ_WAIT_SECONDS", _positive_float, defaults.max_read_wait_seconds
            ),
            lease_retry_seconds=read(
                "LEASE_RETRY_SECONDS", _positive_float, defaults.lease_retry_seconds
            ),
            default_phone_region=read(
                "DEFAULT_PHONE_REGION", _region, defaults.default_phone_region
            ),
            log_level=read("LOG_LEVEL", _log_level, defaults.log_level),
            caller_secret=read("CALLER_SECRET", str, defaults.caller_secret),
            traces=_traces(env),
            serve_processes=read("SERVE_PROCESSES", _positive_int, defaults.serve_processes),
            clock=read("CLOCK", _clock, defaults.clock),
            deadlines_poll_seconds=read(
                "DEADLINES_POLL_SECONDS", _positive_float, defaults.deadlines_poll_seconds
            ),
            deadlines_test_crash=read("DEADLINES_TEST_CRASH", _test_crash, ""),
        )
        _check_test_clock(settings, read("TEST_CLOCK", _switch, False))
        if settings.serve_processes > 1 and settings.projections == "thread":
            # "thread" keeps the read models inside the one serving process: with
            # several, none of them is that process.
            raise ConfigError(
                "CRM_PROJECTIONS=thread needs CRM_SERVE_PROCESSES=1: with several serving "
                "processes use process (one projector beside them) or off"
            )
        return settings


def _check_test_clock(settings: Settings, enabled: bool) -> None:
    testing = settings.clock != "system"
    if testing and not enabled:
        raise ConfigError(
            f"CRM_CLOCK={settings.clock!r} is a test clock: set CRM_TEST_CLOCK=on to allow it"
        )
    if settings.deadlines_test_crash and not testing:
        raise ConfigError("CRM_DEADLINES_TEST_CRASH is for tests: it needs a test clock")


def _clock(raw: str) -> str:
    if raw == "system" or (raw.startswith("file:") and len(raw) > len("file:")):
        return raw
    raise ValueError("expected system, or file:PATH for tests")


def _test_crash(raw: str) -> str:
    if raw not in DEADLINE_TEST_CRASHES:
        raise ValueError(f"expected one of {', '.join(DEADLINE_TEST_CRASHES)}")
    return raw


def _traces(env: Mapping[str, str]) -> bool:
    try:
        return traces_requested(env)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _address(raw: str) -> str:
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ValueError("expected HOST:PORT, the port from 0 to 65535")
    return raw


def _metrics_address(raw: str | None, default: str) -> str:
    """Unset is the default; set but empty turns metrics off."""
    if raw is None:
        return default
    if raw == "":
        return ""
    try:
        return _address(raw)
    except ValueError as error:
        raise ConfigError(f"CRM_METRICS_ADDRESS={raw!r} is invalid: {error}") from None


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _switch(raw: str) -> bool:
    if raw.lower() in ("on", "true", "1"):
        return True
    if raw.lower() in ("off", "false", "0"):
        return False
    raise ValueError("expected on or off")


def _projections(raw: str) -> str:
    if raw.lower() not in PROJECTION_MODES:
        raise ValueError(f"expected one of {', '.join(PROJECTION_MODES)}")
    return raw.lower()


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be positive")
    return value


def _region(raw: str) -> str:
    import phonenumbers

    region = raw.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("expected an ISO 3166 region such as GB or US")
    return region


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
    return level
