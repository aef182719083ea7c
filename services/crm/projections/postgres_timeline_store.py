"""The timeline read model in PostgreSQL, in the same schema as the event log."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed

from services.crm.projections.sql_timeline import SqlTimeline
from services.crm.projections.timeline_store import TimelineStore

_TABLES = {
    "entries": "timeline_entries",
    "holders": "timeline_identity_holders",
    "merges": "timeline_merge_pointers",
}
_DDL = [
    "CREATE TABLE IF NOT EXISTS {entries} ("
    "entry_id uuid PRIMARY KEY, customer_id uuid NOT NULL, home_customer_id uuid NOT NULL, "
    "origin_customer_id uuid NOT NULL, via_identity uuid, occurred_at timestamptz NOT NULL, "
    "position bigint NOT NULL, channel text NOT NULL, direction text NOT NULL, "
    "payload bytea NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {entries_by_customer} "
    "ON {entries} (customer_id, occurred_at DESC, entry_id DESC)",
    "CREATE INDEX IF NOT EXISTS {entries_by_home} ON {entries} (home_customer_id)",
    "CREATE INDEX IF NOT EXISTS {entries_by_identity} ON {entries} (via_identity)",
    "CREATE TABLE IF NOT EXISTS {holders} (identity_id uuid PRIMARY KEY, customer_id uuid)",
    "CREATE TABLE IF NOT EXISTS {merges} (source_id uuid PRIMARY KEY, target_id uuid NOT NULL)",
    "CREATE INDEX IF NOT EXISTS {merges_by_target} ON {merges} (target_id)",
]


class PostgresTimelineStore(SqlTimeline, PostgresTrackingRecorder, TimelineStore):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = datastore.schema
        self.tables = {key: _quoted(schema, name) for key, name in _TABLES.items()}
        # Index names are not schema-qualified: an index lives in its table's schema.
        indexes = {
            f"{table}_by_{column}": f'"timeline_{table}_by_{column}"'
            for table, column in [
                ("entries", "customer"),
                ("entries", "home"),
                ("entries", "identity"),
                ("merges", "target"),
            ]
        }
        self.sql_create_statements.extend(
            Composed([SQL(statement.format(**self.tables, **indexes))]) for statement in _DDL
        )

    def create_table(self) -> None:
        # Replicas starting together race on CREATE TABLE IF NOT EXISTS; PostgreSQL
        # then fails all but one, and the tables exist once the winner commits.
        for attempt in range(5):
            try:
                super().create_table()
                return
            except IntegrityError:
                if attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def _q(self, statement: str) -> str:
        return statement.format(**self.tables).replace("?", "%s")

    def _db_id(self, value: UUID) -> UUID:
        return value

    def _py_id(self, value: Any) -> UUID:
        return UUID(str(value))

    def _db_time(self, value: datetime) -> datetime:
        return value

    def _py_time(self, value: Any) -> datetime:
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        self.datastore.close()

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for table in (
                *self.tables.values(),
                _quoted(self.datastore.schema, self.tracking_table_name),
            ):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        self.tracking_table_exists = False
        self.tracking_migration_previous = None
        self.create_table()


def _quoted(schema: str, name: str) -> str:
    return f'"{schema.replace(chr(34), chr(34) * 2)}"."{name}"'
