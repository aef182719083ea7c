"""The timeline read model in PostgreSQL, in the same schema as the event log."""

from __future__ import annotations

import time
from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composable, Identifier, Literal

from services.crm.projections.timeline_store import TimelineQuery, TimelineRow, TimelineStore

_ENTRIES = "timeline_entries"


class PostgresTimelineStore(PostgresTrackingRecorder, TimelineStore):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.entries = Identifier(datastore.schema, _ENTRIES)
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    "entry_id uuid PRIMARY KEY, customer_id uuid NOT NULL, "
                    "occurred_at timestamptz NOT NULL, position bigint NOT NULL, "
                    "channel text NOT NULL, direction text NOT NULL, payload bytea NOT NULL)"
                ).format(self.entries),
                SQL(
                    "CREATE INDEX IF NOT EXISTS {} ON {} "
                    "(customer_id, occurred_at DESC, entry_id DESC)"
                ).format(Identifier(f"{_ENTRIES}_by_customer"), self.entries),
            ]
        )
        self.insert_entry_statement = SQL(
            "INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (entry_id) DO NOTHING"
        ).format(self.entries)

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

    def add_entry(self, row: TimelineRow, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            self._insert_tracking(cursor, tracking)
            cursor.execute(
                self.insert_entry_statement,
                (
                    row.entry_id,
                    row.customer_id,
                    row.occurred_at,
                    row.position,
                    row.channel,
                    row.direction,
                    row.payload,
                ),
                prepare=True,
            )

    def select_entries(self, query: TimelineQuery) -> list[TimelineRow]:
        where: list[Composable] = [SQL("customer_id = {}").format(Literal(query.customer_id))]
        if query.channels:
            where.append(SQL("channel = ANY({})").format(Literal(sorted(query.channels))))
        if query.direction:
            where.append(SQL("direction = {}").format(Literal(query.direction)))
        if query.start:
            where.append(SQL("occurred_at >= {}").format(Literal(query.start)))
        if query.end:
            where.append(SQL("occurred_at < {}").format(Literal(query.end)))
        if query.after:
            where.append(
                SQL("(occurred_at, entry_id) < ({}, {})").format(
                    Literal(query.after.occurred_at), Literal(query.after.entry_id)
                )
            )
        statement = SQL(
            "SELECT * FROM {} WHERE {} ORDER BY occurred_at DESC, entry_id DESC LIMIT {}"
        ).format(self.entries, SQL(" AND ").join(where), Literal(query.limit))
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement)
            return [TimelineRow(**record) for record in cursor.fetchall()]

    def close(self) -> None:
        self.datastore.close()

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(SQL("DROP TABLE IF EXISTS {}").format(self.entries))
            cursor.execute(
                SQL("DROP TABLE IF EXISTS {}").format(
                    Identifier(self.datastore.schema, self.tracking_table_name)
                )
            )
        self.tracking_table_exists = False
        self.tracking_migration_previous = None
        self.create_table()
