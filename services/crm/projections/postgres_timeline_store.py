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
        "released": "timeline_released_holders",
    }
    DDL: ClassVar[list[str]] = [
        "CREATE TABLE IF NOT EXISTS {entries} ("
        "entry_id uuid PRIMARY KEY, customer_id uuid NOT NULL, home_customer_id uuid NOT NULL, "
        "origin_customer_id uuid NOT NULL, via_identity uuid, occurred_at timestamptz NOT NULL, "
        "position bigint NOT NULL, channel text NOT NULL, direction text NOT NULL, "
        "payload bytea NOT NULL, rendered bytea, via_generation integer NOT NULL DEFAULT 0)",
        "CREATE INDEX IF NOT EXISTS {entries_plain}_by_customer "
        "ON {entries} (customer_id, occurred_at DESC, entry_id DESC)",
        "CREATE INDEX IF NOT EXISTS {entries_plain}_by_position "
        "ON {entries} (customer_id, position)",
        "CREATE INDEX IF NOT EXISTS {entries_plain}_by_home ON {entries} (home_customer_id)",
        "CREATE INDEX IF NOT EXISTS {entries_plain}_by_identity ON {entries} (via_identity)",
        "CREATE TABLE IF NOT EXISTS {holders} (identity_id uuid PRIMARY KEY, customer_id uuid, "
        "generation integer NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS {released} (identity_id uuid NOT NULL, "
        "generation integer NOT NULL, customer_id uuid NOT NULL, "
        "PRIMARY KEY (identity_id, generation))",
        "CREATE TABLE IF NOT EXISTS {merges} (source_id uuid PRIMARY KEY, target_id uuid NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {merges_plain}_by_target ON {merges} (target_id)",
    ]

    def create_table(self) -> None:
        super().create_table()
        # Timelines built before these columns get them. Rows from before "rendered"
        # are rendered when read, until a rebuild; before generations, every unlink
        # was a correction, so generation 0 is what a rebuild would write. ALTER TABLE
        # locks out readers even when the column exists, so it runs only when missing.
        with self.datastore.transaction(commit=True) as cursor:
            for table, column, definition in ADDED_COLUMNS:
                cursor.execute(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
                    "AND table_name = %s AND column_name = %s",
                    (self.datastore.schema, self.TABLES[table], column),
                )
                if cursor.fetchone() is None:
                    alter = (
                        f"ALTER TABLE {{{table}}} ADD COLUMN IF NOT EXISTS {column} {definition}"
                    )
                    cursor.execute(self._q(alter))


ADDED_COLUMNS = [
    ("entries", "rendered", "bytea"),
    ("entries", "via_generation", "integer NOT NULL DEFAULT 0"),
    ("holders", "generation", "integer NOT NULL DEFAULT 0"),
]
