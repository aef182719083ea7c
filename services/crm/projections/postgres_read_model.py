"""What every read model in PostgreSQL shares: tables in the configured schema, parked
events, text without NUL, creation that tolerates replicas starting together, and
dropping for a rebuild."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed

from services.crm.projections.postgres_text import nul_escaping_adapters
from services.crm.projections.sql_read_model import PARKED_DDL, parked_table_name
from services.crm.storage import fail_fast, fail_fast_queries, schema_creation_lock


@fail_fast_queries
class PostgresReadModel(PostgresTrackingRecorder):
    """Subclasses name their tables in TABLES and create them with DDL, whose
    statements may use {table} keys (schema-qualified) and {table_plain} (unqualified,
    for index names)."""

    TABLES: ClassVar[dict[str, str]]
    DDL: ClassVar[list[str]]

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        fail_fast(datastore)
        names = {**self.TABLES, "parked": parked_table_name(self.tracking_table_name)}
        self.tables = {key: _quoted(datastore.schema, name) for key, name in names.items()}
        plain = {f"{key}_plain": name for key, name in names.items()}
        self.sql_create_statements.extend(
            Composed([SQL(statement.format(**self.tables, **plain))])
            for statement in (*self.DDL, PARKED_DDL)
        )
        # The store's datastore is its own, and its pool connects on first use.
        if isinstance(datastore.pool.kwargs, dict):
            datastore.pool.kwargs["context"] = nul_escaping_adapters()

    def create_table(self) -> None:
        # Replicas starting together would race on CREATE TABLE IF NOT EXISTS.
        with schema_creation_lock(self.datastore):
            super().create_table()

    def _q(self, statement: str) -> str:
        tracking = _quoted(self.datastore.schema, self.tracking_table_name)
        return statement.format(tracking=tracking, id_type="uuid", **self.tables).replace("?", "%s")

    def _read(self, statement: str, params: list[Any]) -> list[Any]:
        """One statement on an autocommit connection: one round trip, one snapshot."""
        with self.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(self._q(statement), params, prepare=True)
            return cursor.fetchall()

    def _db_id(self, value: UUID) -> UUID:
        return value

    def _py_id(self, value: Any) -> UUID:
        return value if isinstance(value, UUID) else UUID(str(value))

    def _db_time(self, value: datetime) -> datetime:
        return value

    def _py_time(self, value: Any) -> datetime:
        assert isinstance(value, datetime)
        return value

    def _explain(self, statement: str) -> str:
        return f"EXPLAIN {statement}"

    def close(self) -> None:
        self.datastore.close()

    def drop(self) -> None:
        tracking = _quoted(self.datastore.schema, self.tracking_table_name)
        with self.datastore.transaction(commit=True) as cursor:
            for table in (*self.tables.values(), tracking):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
        self.tracking_table_exists = False
        self.tracking_migration_previous = None
        self.create_table()


def _quoted(schema: str, name: str) -> str:
    return f'"{schema.replace(chr(34), chr(34) * 2)}"."{name}"'
