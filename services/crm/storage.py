"""Storage selection: a database URL becomes the eventsourcing library's environment."""

from __future__ import annotations

import functools
import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    InterfaceError,
    ListenNotifySubscription,
    OperationalError,
    StoredEvent,
    Subscription,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresFactory,
    PostgresSubscription,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal
from psycopg_pool import PoolTimeout

DEFAULT_DATABASE_TIMEOUT_SECONDS = 5


class DatabaseUrlError(ValueError):
    """The database URL names no storage we support."""


def eventsourcing_env(
    database_url: str, database_timeout: int = DEFAULT_DATABASE_TIMEOUT_SECONDS
) -> dict[str, str]:
    """Translate "sqlite:///path" or "postgresql://user:pass@host:port/db?schema=s";
    on PostgreSQL a call waits at most database_timeout seconds for a connection."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        return _sqlite_env(parts.path)
    if parts.scheme in ("postgresql", "postgres"):
        return _postgres_env(database_url, database_timeout)
    raise DatabaseUrlError(
        f"unsupported database URL scheme {parts.scheme!r}: use sqlite:///PATH or postgresql://..."
    )


def _sqlite_env(url_path: str) -> dict[str, str]:
    # "sqlite:///var/x.db" is relative, "sqlite:////srv/x.db" absolute, as in SQLAlchemy.
    path = url_path[1:] if url_path.startswith("/") else url_path
    if not path or ":memory:" in path:
        raise DatabaseUrlError(
            "SQLite needs a file path: the projection reads it from a second connection"
        )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": path,
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": get_topic(PollingSQLiteApplicationRecorder),
    }


def _postgres_env(database_url: str, database_timeout: int) -> dict[str, str]:
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    dbname = parts.path.lstrip("/")
    if not dbname or not parts.hostname:
        raise DatabaseUrlError("a PostgreSQL URL needs a host and a database name")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": query.get("schema", ["public"])[0],
        # Each process has four pools (writes, reads, and the projection's two), which
        # open pool_size connections at once and grow by max_overflow under load.
        "POSTGRES_POOL_SIZE": query.get("pool_size", ["2"])[0],
        "POSTGRES_MAX_OVERFLOW": query.get("max_overflow", ["14"])[0],
        # The pool's wait for a connection: while the database is down, each call
        # fails after this long instead of waiting for it to come back.
        "POSTGRES_CONNECT_TIMEOUT": str(database_timeout),
        "POSTGRES_LOCK_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": get_topic(CheckedPostgresApplicationRecorder),
    }


def ensure_postgres_schema(env: dict[str, str]) -> None:
    """Create the configured schema, so a fresh database or test schema just works."""
    from psycopg import sql

    schema = env.get("POSTGRES_SCHEMA", "public")
    with psycopg.connect(**postgres_connection_settings(env), autocommit=True) as connection:
        _lock_schema_creation(connection, schema)
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


def postgres_connection_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """psycopg.connect() arguments for the database an eventsourcing environment names."""
    return {
        "dbname": env["POSTGRES_DBNAME"],
        "host": env["POSTGRES_HOST"],
        "port": int(env["POSTGRES_PORT"]),
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"] or None,
        "connect_timeout": max(2, int(env.get("POSTGRES_CONNECT_TIMEOUT", "10"))),
    }


@contextmanager
def schema_creation_lock(datastore: PostgresDatastore) -> Iterator[None]:
    """Held while creating tables: processes starting together on a fresh database
    otherwise race on CREATE ... IF NOT EXISTS, and PostgreSQL fails the losers with
    "tuple concurrently updated". A connection of its own, so a pool of one still works."""
    kwargs = datastore.pool.kwargs
    assert isinstance(kwargs, dict)
    connect = {key: kwargs[key] for key in ("dbname", "host", "port", "user", "password")}
    with psycopg.connect(
        **connect, connect_timeout=max(2, round(datastore.pool.timeout)), autocommit=True
    ) as connection:
        _lock_schema_creation(connection, datastore.schema)
        yield  # Closing the connection releases the lock, whatever happened.


def _lock_schema_creation(connection: psycopg.Connection[Any], schema: str) -> None:
    digest = hashlib.sha256(f"crm schema creation {schema}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    connection.execute("SELECT pg_advisory_lock(%s)", [key])


def fail_fast(datastore: PostgresDatastore) -> None:
    """Tunes a datastore's pool for outages: a lost database fails calls within the
    pool's timeout, and its return is noticed within about a second."""
    pool = datastore.pool
    # After a failed connection the pool retries with a backoff that grows to
    # minutes, and no call may start another attempt meanwhile; giving up within
    # 2 s lets the next call (or health check) try at once, so a database that
    # comes back is used within about a second.
    pool.reconnect_timeout = min(float(pool.timeout), 2.0)
    # libpq would wait for an unanswered connection attempt as long as TCP does.
    if isinstance(pool.kwargs, dict):
        pool.kwargs["connect_timeout"] = max(2, round(pool.timeout))


R = TypeVar("R", bound=type)
# The library tries these ten times, 0.2 s apart, each time waiting for a connection:
# with the database gone, a call waited minutes, and a write could commit long after
# its caller gave up. A write is tried once; a read again only if its connection
# turned out broken (an outage, a restarted server), never after waiting for one.
_WRITES = ("insert_events", "insert_tracking")
_READS = (
    "select_events",
    "select_notifications",
    "max_notification_id",
    "max_tracking_id",
    "has_tracking_id",
)


def fail_fast_queries(recorder_class: R) -> R:
    """Replaces the library's retries on a PostgreSQL recorder class (see above)."""
    for name in (*_WRITES, *_READS):
        method = getattr(recorder_class, name, None)
        once = getattr(method, "__wrapped__", None)
        if once is not None:
            setattr(recorder_class, name, once if name in _WRITES else _retried_if_broken(once))
    return recorder_class


def _retried_if_broken(query: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(query)
    def retried(*args: Any, **kwargs: Any) -> Any:
        try:
            return query(*args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            if isinstance(error.__cause__, PoolTimeout):
                raise
            return query(*args, **kwargs)

    return retried


def ping(recorder: ApplicationRecorder, timeout: float) -> None:
    """One query, waiting at most timeout for a PostgreSQL connection (the pool's own
    wait is longer); raises the library's OperationalError if it cannot answer."""
    datastore = getattr(recorder, "datastore", None)
    if not isinstance(datastore, PostgresDatastore):
        recorder.max_notification_id()
        return
    try:
        datastore.pool.open()
        with datastore.pool.connection(timeout=timeout) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        raise OperationalError(str(error)) from error


def refresh_connections(store: object) -> None:
    """Replaces the pooled connections an outage broke, which would each fail one
    call after the database is back. Nothing to do on SQLite."""
    datastore = getattr(store, "datastore", None)
    if isinstance(datastore, PostgresDatastore) and not datastore.pool.closed:
        datastore.pool.check()


class PollingSubscription(ListenNotifySubscription[SQLiteApplicationRecorder]):
    """SQLite cannot notify listeners, so this subscription polls the log instead.

    It sets the parent's `_has_been_notified` event on a timer: the library has no
    public hook for that, which is one reason eventsourcing is pinned to one version."""

    def __init__(
        self,
        recorder: SQLiteApplicationRecorder,
        gt: int | None,
        topics: Sequence[str],
        interval: float,
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._interval = interval
        self._ticker = threading.Thread(target=self._tick, name="sqlite-log-poller", daemon=True)
        self._ticker.start()

    def _tick(self) -> None:
        while not self._has_been_stopped:
            self._has_been_notified.set()
            time.sleep(self._interval)

    def __exit__(self, *args: object, **kwargs: object) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._ticker.join()


class PollingSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The SQLite recorder, plus a polling subscription for projection runners."""

    # Short enough that an agent sees a new interaction at once, cheap on SQLite.
    poll_interval = 0.01

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        # Another process may have held SQLite's lock while this waited to begin.
        _refuse_if_passed(kwargs.get("deadline"))
        return positions

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[SQLiteApplicationRecorder]:
        return PollingSubscription(self, gt, topics, self.poll_interval)


class CheckedPostgresSubscription(PostgresSubscription):
    """LISTEN/NOTIFY, plus a look at the log every quarter second: a notification
    sent before the listener was ready is otherwise lost, and a projection would
    wait for the next write to see the commits it missed."""

    check_interval = 0.25

    def __init__(
        self, recorder: PostgresApplicationRecorder, gt: int | None, topics: Sequence[str]
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._checker = threading.Thread(target=self._check, name="postgres-log-check", daemon=True)
        self._checker.start()

    def _check(self) -> None:
        while not self._has_been_stopped:
            time.sleep(self.check_interval)
            self._has_been_notified.set()

    def __exit__(self, *args: object, **kwargs: object) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._checker.join()


class CommitTooLateError(Exception):
    """The caller's deadline passed before its write could commit: it was rolled back."""


def _refuse_if_passed(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise CommitTooLateError


def snapshot_recorder(factory: InfrastructureFactory[Any]) -> AggregateRecorder:
    """The snapshot store's recorder, on PostgreSQL one that fails fast and creates its
    table under the lock, as the log's does."""
    if not isinstance(factory, PostgresFactory):
        return factory.aggregate_recorder(purpose="snapshots")
    recorder = SnapshotRecorder(
        factory.datastore, events_table_name=f"{factory.env.name.lower() or 'stored'}_snapshots"
    )
    if factory.env_create_table():
        recorder.create_table()
    return recorder


@fail_fast_queries
class SnapshotRecorder(PostgresAggregateRecorder):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        fail_fast(datastore)

    def create_table(self) -> None:
        with schema_creation_lock(self.datastore):
            super().create_table()


@fail_fast_queries
class CheckedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """The PostgreSQL recorder, with subscriptions that cannot miss a commit, and
    events sent as four arrays of plain values: psycopg dumps those in C, where the
    library's array of composite values is dumped field by field in Python."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        fail_fast(datastore)
        self._insert_columns = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(datastore.originator_id_type),
        )

    def create_table(self) -> None:
        with schema_creation_lock(self.datastore):
            super().create_table()

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Tried once (see fail_fast_queries); with a deadline, waits for the log's lock
        no longer than the caller does, and rolls back rather than commit after it."""
        deadline: float | None = kwargs.get("deadline")
        with (
            self.datastore.get_connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            if deadline is not None:
                _refuse_if_passed(deadline)
                # 0 would mean no limit at all.
                wait = max(1, math.ceil((deadline - time.monotonic()) * 1000))
                cursor.execute(SQL("SET LOCAL lock_timeout = {}").format(Literal(wait)))
            try:
                self._insert_stored_events(cursor, stored_events)
            except psycopg.errors.LockNotAvailable as error:
                raise CommitTooLateError from error
            positions = self._fetch_ids_after_insert_events(cursor, stored_events)
            _refuse_if_passed(deadline)
        return positions

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self._insert_columns,
            (
                [event.originator_id for event in stored_events],
                [event.originator_version for event in stored_events],
                [event.topic for event in stored_events],
                [event.state for event in stored_events],
            ),
            prepare=True,
        )

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[PostgresApplicationRecorder]:
        return CheckedPostgresSubscription(self, gt, topics)
