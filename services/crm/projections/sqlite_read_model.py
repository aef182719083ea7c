"""What every read model in SQLite shares: its own tracking table and parked events,
ids as hex text, times as sortable text, and dropping for a rebuild."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from services.crm.projections.sql_read_model import PARKED_DDL, parked_table_name


class SQLiteReadModel(SQLiteTrackingRecorder):
    """Subclasses name their tables in TABLES and create them with DDL, whose
    statements may use {table} keys and {tracking}."""

    TRACKING_TABLE: ClassVar[str]
    TABLES: ClassVar[dict[str, str]]
    DDL: ClassVar[list[str]]

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        # The library's "tracking" table would be shared by every read model.
        table = self.TRACKING_TABLE
        self.insert_tracking_statement = (
            f"INSERT INTO {table} VALUES (:application_name, :notification_id) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = :notification_id "
            f"WHERE {table}.notification_id < :notification_id RETURNING notification_id"
        )
        self.select_max_tracking_id_statement = (
            f"SELECT MAX(notification_id) FROM {table} WHERE application_name=?"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.TRACKING_TABLE} ("
            "application_name TEXT PRIMARY KEY, notification_id INTEGER) WITHOUT ROWID",
            *(self._q(statement) for statement in (*self.DDL, PARKED_DDL)),
        ]

    @property
    def parked_table(self) -> str:
        return parked_table_name(self.TRACKING_TABLE)

    def _q(self, statement: str) -> str:
        return statement.format(
            tracking=self.TRACKING_TABLE, parked=self.parked_table, id_type="TEXT", **self.TABLES
        )

    def _read(self, statement: str, params: list[Any]) -> list[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._q(statement), params)
            return list(cursor.fetchall())

    def _db_id(self, value: UUID) -> str:
        return value.hex

    def _py_id(self, value: Any) -> UUID:
        return UUID(hex=value)

    def _db_time(self, value: datetime) -> str:
        # Fixed-width UTC text (isoformat pads the year to four digits) sorts in time
        # order, so indexes serve ORDER BY and range filters.
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")

    def _py_time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    def _explain(self, statement: str) -> str:
        return f"EXPLAIN QUERY PLAN {statement}"

    def close(self) -> None:
        self.datastore.close()

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for table in (*self.TABLES.values(), self.parked_table, self.TRACKING_TABLE):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        self.tracking_table_exists = False
        self.tracking_migration_previous = None
        self.create_table()

    def _create_table(self, c: SQLiteCursor) -> None:
        for statement in self.create_table_statements:
            c.execute(statement)
