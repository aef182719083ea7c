"""The timeline read model in PostgreSQL, in the same schema as the event log."""

from __future__ import annotations

from typing import ClassVar

from services.crm.projections.postgres_read_model import PostgresReadModel
from services.crm.projections.sql_timeline import SqlTimeline
from services.crm.projections.timeline_store import TimelineStore


class PostgresTimelineStore(SqlTimeline, PostgresReadModel, TimelineStore):
    TABLES: ClassVar[dict[str, str]] = {
        "entries": "timeline_entries",
        "holders": "timeline_identity_holders",
        "merges": "timeline_merge_pointers",
    }
    DDL: ClassVar[list[str]] = [
        "CREATE TABLE IF NOT EXISTS {entries} ("
        "entry_id uuid PRIMARY KEY, customer_id uuid NOT NULL, home_customer_id uuid NOT NULL, "
        "origin_customer_id uuid NOT NULL, via_identity uuid, occurred_at timestamptz NOT NULL, "
        "position bigint NOT NULL, channel text NOT NULL, direction text NOT NULL, "
        "payload bytea NOT NULL, rendered bytea)",
        "CREATE INDEX IF NOT EXISTS {entries_plain}_by_customer "
        "ON {entries} (customer_id, occurred_at DESC, entry_id DESC)",
        "CREATE INDEX IF NOT EXISTS {entries_plain}_by_position "
        "ON {entries} (customer_id, position)",
        "CREATE INDEX IF NOT EXISTS {entries_plain}_by_home ON {entries} (home_customer_id)",
        "CREATE INDEX IF NOT EXISTS {entries_plain}_by_identity ON {entries} (via_identity)",
        "CREATE TABLE IF NOT EXISTS {holders} (identity_id uuid PRIMARY KEY, customer_id uuid)",
        "CREATE TABLE IF NOT EXISTS {merges} (source_id uuid PRIMARY KEY, target_id uuid NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {merges_plain}_by_target ON {merges} (target_id)",
    ]

    def create_table(self) -> None:
        super().create_table()
        # Timelines built before entries were stored in the API's form get the column;
        # their old rows are rendered when read, until a rebuild. ALTER TABLE locks
        # out readers even when the column exists, so it runs only when it is missing.
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s AND column_name = 'rendered'",
                (self.datastore.schema, self.TABLES["entries"]),
            )
            if cursor.fetchone() is None:
                cursor.execute(
                    self._q("ALTER TABLE {entries} ADD COLUMN IF NOT EXISTS rendered bytea")
                )
