"""The timeline read model in SQLite, beside the event log in the same file."""

from __future__ import annotations

from typing import ClassVar

from eventsourcing.sqlite import SQLiteCursor

from services.crm.projections.sql_timeline import SqlTimeline
from services.crm.projections.sqlite_read_model import SQLiteReadModel
from services.crm.projections.timeline_store import TimelineStore


class SQLiteTimelineStore(SqlTimeline, SQLiteReadModel, TimelineStore):
    TRACKING_TABLE = "timeline_tracking"
    TABLES: ClassVar[dict[str, str]] = {
        "entries": "timeline_entries",
        "holders": "timeline_identity_holders",
        "merges": "timeline_merge_pointers",
        "released": "timeline_released_holders",
    }
    DDL: ClassVar[list[str]] = [
        "CREATE TABLE IF NOT EXISTS {entries} ("
        "entry_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, home_customer_id TEXT NOT NULL, "
        "origin_customer_id TEXT NOT NULL, via_identity TEXT, occurred_at TEXT NOT NULL, "
        "position INTEGER NOT NULL, channel TEXT NOT NULL, direction TEXT NOT NULL, "
        "payload BLOB NOT NULL, rendered BLOB, via_generation INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX IF NOT EXISTS {entries}_by_customer "
        "ON {entries} (customer_id, occurred_at DESC, entry_id DESC)",
        "CREATE INDEX IF NOT EXISTS {entries}_by_position ON {entries} (customer_id, position)",
        "CREATE INDEX IF NOT EXISTS {entries}_by_home ON {entries} (home_customer_id)",
        "CREATE INDEX IF NOT EXISTS {entries}_by_identity ON {entries} (via_identity)",
        "CREATE TABLE IF NOT EXISTS {holders} (identity_id TEXT PRIMARY KEY, customer_id TEXT, "
        "generation INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS {released} (identity_id TEXT NOT NULL, "
        "generation INTEGER NOT NULL, customer_id TEXT NOT NULL, "
        "PRIMARY KEY (identity_id, generation))",
        "CREATE TABLE IF NOT EXISTS {merges} (source_id TEXT PRIMARY KEY, target_id TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {merges}_by_target ON {merges} (target_id)",
    ]

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        # Timelines built before these columns get them. Rows from before "rendered"
        # are rendered when read, until a rebuild; before generations, every unlink
        # was a correction, so generation 0 is what a rebuild would write.
        for table, column, definition in ADDED_COLUMNS:
            c.execute(f"PRAGMA table_info({self.TABLES[table]})")
            if column not in {row[1] for row in c.fetchall()}:
                c.execute(f"ALTER TABLE {self.TABLES[table]} ADD COLUMN {column} {definition}")


ADDED_COLUMNS = [
    ("entries", "rendered", "BLOB"),
    ("entries", "via_generation", "INTEGER NOT NULL DEFAULT 0"),
    ("holders", "generation", "INTEGER NOT NULL DEFAULT 0"),
]
