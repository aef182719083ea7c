"""The timeline read model in SQLite, beside the event log in the same file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from services.crm.projections.sql_timeline import SqlTimeline
from services.crm.projections.timeline_store import TimelineStore

_TABLES = {
    "entries": "timeline_entries",
    "holders": "timeline_identity_holders",
    "merges": "timeline_merge_pointers",
}


class SQLiteTimelineStore(SqlTimeline, SQLiteTrackingRecorder, TimelineStore):
    tracking_table = "timeline_tracking"

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        # The library's "tracking" table would be shared by every projection.
        self.insert_tracking_statement = (
            f"INSERT INTO {self.tracking_table} VALUES (:application_name, :notification_id) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = :notification_id "
            f"WHERE {self.tracking_table}.notification_id < :notification_id "
            "RETURNING notification_id"
        )
        self.select_max_tracking_id_statement = (
            f"SELECT MAX(notification_id) FROM {self.tracking_table} WHERE application_name=?"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.tracking_table} ("
            "application_name TEXT PRIMARY KEY, notification_id INTEGER) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS timeline_entries ("
            "entry_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, home_customer_id TEXT NOT NULL, "
            "origin_customer_id TEXT NOT NULL, via_identity TEXT, occurred_at TEXT NOT NULL, "
            "position INTEGER NOT NULL, channel TEXT NOT NULL, direction TEXT NOT NULL, "
            "payload BLOB NOT NULL)",
            "CREATE INDEX IF NOT EXISTS timeline_entries_by_customer "
            "ON timeline_entries (customer_id, occurred_at DESC, entry_id DESC)",
            "CREATE INDEX IF NOT EXISTS timeline_entries_by_home "
            "ON timeline_entries (home_customer_id)",
            "CREATE INDEX IF NOT EXISTS timeline_entries_by_identity "
            "ON timeline_entries (via_identity)",
            "CREATE TABLE IF NOT EXISTS timeline_identity_holders ("
            "identity_id TEXT PRIMARY KEY, customer_id TEXT)",
            "CREATE TABLE IF NOT EXISTS timeline_merge_pointers ("
            "source_id TEXT PRIMARY KEY, target_id TEXT NOT NULL)",
            "CREATE INDEX IF NOT EXISTS timeline_merge_pointers_by_target "
            "ON timeline_merge_pointers (target_id)",
        ]

    def _q(self, statement: str) -> str:
        return statement.format(**_TABLES)

    def _db_id(self, value: UUID) -> str:
        return value.hex

    def _py_id(self, value: Any) -> UUID:
        return UUID(hex=value)

    def _db_time(self, value: datetime) -> str:
        # Fixed-width UTC text (isoformat pads the year to four digits) sorts in time
        # order, so the index serves ORDER BY and range filters.
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")

    def _py_time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def close(self) -> None:
        self.datastore.close()

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for table in (*_TABLES.values(), self.tracking_table):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        self.tracking_table_exists = False
        self.tracking_migration_previous = None
        self.create_table()

    def _create_table(self, c: SQLiteCursor) -> None:
        for statement in self.create_table_statements:
            c.execute(statement)
