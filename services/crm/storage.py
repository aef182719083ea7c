"""Storage selection: a database URL becomes the eventsourcing library's environment."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from eventsourcing.persistence import ListenNotifySubscription, StoredEvent, Subscription
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresSubscription,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier


class DatabaseUrlError(ValueError):
    """The database URL names no storage we support."""


def eventsourcing_env(database_url: str) -> dict[str, str]:
    """Translate "sqlite:///path" or "postgresql://user:pass@host:port/db?schema=s"."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        return _sqlite_env(parts.path)
    if parts.scheme in ("postgresql", "postgres"):
        return _postgres_env(database_url)
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


def _postgres_env(database_url: str) -> dict[str, str]:
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
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "POSTGRES_LOCK_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": get_topic(CheckedPostgresApplicationRecorder),
    }


def ensure_postgres_schema(env: dict[str, str]) -> None:
    """Create the configured schema, so a fresh database or test schema just works."""
    import psycopg
    from psycopg import sql

    schema = env.get("POSTGRES_SCHEMA", "public")
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]),
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=int(env.get("POSTGRES_CONNECT_TIMEOUT", "10")),
        autocommit=True,
    ) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))


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


class CheckedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """The PostgreSQL recorder, with subscriptions that cannot miss a commit, and
    events sent as four arrays of plain values: psycopg dumps those in C, where the
    library's array of composite values is dumped field by field in Python."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._insert_columns = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%s::{id_type}[], %s::bigint[], %s::text[], %s::bytea[]) "
            "RETURNING notification_id"
        ).format(
            schema=Identifier(datastore.schema),
            table=Identifier(self.events_table_name),
            id_type=Identifier(datastore.originator_id_type),
        )

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
