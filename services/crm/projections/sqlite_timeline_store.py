"""The timeline read model in SQLite, beside the event log in the same file."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from services.crm.projections.timeline_store import TimelineQuery, TimelineRow, TimelineStore


def _sortable(moment: datetime) -> str:
    # Fixed-width UTC text (isoformat pads the year to four digits) sorts in time
    # order, so the index serves ORDER BY and range filters.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class SQLiteTimelineStore(SQLiteTrackingRecorder, TimelineStore):
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
            "entry_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, occurred_at TEXT NOT NULL, "
            "position INTEGER NOT NULL, channel TEXT NOT NULL, direction TEXT NOT NULL, "
            "payload BLOB NOT NULL)",
            "CREATE INDEX IF NOT EXISTS timeline_entries_by_customer "
            "ON timeline_entries (customer_id, occurred_at DESC, entry_id DESC)",
        ]

    def add_entry(self, row: TimelineRow, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            # Tracking first: it takes the write lock before anything is read.
            self._insert_tracking(cursor, tracking)
            cursor.execute(
                "INSERT INTO timeline_entries VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (entry_id) DO NOTHING",
                (
                    row.entry_id.hex,
                    row.customer_id.hex,
                    _sortable(row.occurred_at),
                    row.position,
                    row.channel,
                    row.direction,
                    row.payload,
                ),
            )

    def select_entries(self, query: TimelineQuery) -> list[TimelineRow]:
        where = ["customer_id = ?"]
        params: list[Any] = [query.customer_id.hex]
        if query.channels:
            where.append(f"channel IN ({', '.join('?' * len(query.channels))})")
            params.extend(sorted(query.channels))
        if query.direction:
            where.append("direction = ?")
            params.append(query.direction)
        if query.start:
            where.append("occurred_at >= ?")
            params.append(_sortable(query.start))
        if query.end:
            where.append("occurred_at < ?")
            params.append(_sortable(query.end))
        if query.after:
            where.append("(occurred_at, entry_id) < (?, ?)")
            params.extend([_sortable(query.after.occurred_at), query.after.entry_id.hex])
        params.append(query.limit)
        statement = (
            "SELECT * FROM timeline_entries WHERE "
            + " AND ".join(where)
            + " ORDER BY occurred_at DESC, entry_id DESC LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, params)
            return [_row(record) for record in cursor.fetchall()]

    def close(self) -> None:
        self.datastore.close()

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute("DROP TABLE IF EXISTS timeline_entries")
            cursor.execute(f"DROP TABLE IF EXISTS {self.tracking_table}")
        self.tracking_table_exists = False
        self.tracking_migration_previous = None
        self.create_table()

    def _create_table(self, c: SQLiteCursor) -> None:
        for statement in self.create_table_statements:
            c.execute(statement)


def _row(record: Any) -> TimelineRow:
    return TimelineRow(
        entry_id=UUID(record["entry_id"]),
        customer_id=UUID(record["customer_id"]),
        occurred_at=_parse(record["occurred_at"]),
        position=record["position"],
        channel=record["channel"],
        direction=record["direction"],
        payload=record["payload"],
    )
