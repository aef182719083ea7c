"""The timeline's SQL, written once for SQLite and PostgreSQL.

Statements use "?" placeholders and {entries}/{holders}/{released}/{merges} table
names; each backend translates them and converts ids and times to its column types.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from services.crm.projections.sql_read_model import SqlReadModel
from services.crm.projections.timeline_batch import MAX_MERGE_DEPTH, EntryBatch
from services.crm.projections.timeline_store import (
    IdentityHolder,
    IdentityReleased,
    MergePointer,
    NewEntry,
    TimelineChange,
    TimelineQuery,
    TimelineRow,
    TimelineSlice,
)

_ROW_COLUMNS = "entry_id, customer_id, occurred_at, position, channel, direction, payload, rendered"


class SqlTimeline(SqlReadModel):
    """apply() and select_entries() over a backend's read model (see sqlite_read_model
    and postgres_read_model), which it must precede in the bases."""

    def apply(self, batch: Sequence[tuple[Sequence[TimelineChange], Tracking]]) -> None:
        if not batch:
            return
        with self.datastore.transaction(commit=True) as cursor:
            # Tracking first: on SQLite it takes the write lock before anything is read.
            self._claim(cursor, batch[0][1].notification_id, batch[-1][1])
            entries = EntryBatch(self, cursor)
            for changes, tracking in batch:
                for change in changes:
                    if isinstance(change, NewEntry):
                        entries.add_entry(change, tracking.notification_id)
                        continue
                    # Moves read the entries written so far, and change who owns what.
                    entries.flush()
                    if isinstance(change, IdentityHolder):
                        self._move_identity(cursor, change)
                    elif isinstance(change, IdentityReleased):
                        self._release_identity(cursor, change)
                    else:
                        self._move_merge_pointer(cursor, change)
            entries.flush()

    def select_entries(self, query: TimelineQuery, application_name: str) -> TimelineSlice:
        # One statement, so the rows, their owner and the position share one snapshot.
        condition, params = self._page_condition(query, "(SELECT customer_id FROM owner)")
        statement = (
            "WITH RECURSIVE chain (customer_id, depth) AS ("
            "SELECT CAST(? AS {id_type}), 0 UNION ALL "
            "SELECT m.target_id, c.depth + 1 FROM {merges} m "
            f"JOIN chain c ON m.source_id = c.customer_id WHERE c.depth < {MAX_MERGE_DEPTH}), "
            "owner AS (SELECT customer_id, depth FROM chain ORDER BY depth DESC LIMIT 1) "
            f"SELECT {_ROW_COLUMNS}, (SELECT MAX(notification_id) FROM {{tracking}} "
            "WHERE application_name = ?) AS tracked, (SELECT depth FROM owner) AS depth "
            f"FROM {{entries}} {condition}"
        )
        params = [self._db_id(query.customer_id), application_name, *params]
        rows = self._read(statement, params)
        if not rows:
            # No row carries the position: read it, then look again, so that an empty
            # page never claims a position whose entries it did not see.
            position = self.max_tracking_id(application_name) or 0
            rows = self._read(statement, params)
            if not rows:
                return TimelineSlice([], position)
        if rows[0]["depth"] >= MAX_MERGE_DEPTH:
            raise RuntimeError(f"merge pointers from {query.customer_id} do not end")
        return TimelineSlice([self._row(row) for row in rows], rows[0]["tracked"] or 0)

    def _page_condition(self, query: TimelineQuery, owner: str) -> tuple[str, list[Any]]:
        where = [f"customer_id = {owner}"]
        params: list[Any] = []
        if query.channels:
            where.append(f"channel IN ({', '.join('?' * len(query.channels))})")
            params.extend(sorted(query.channels))
        if query.direction:
            where.append("direction = ?")
            params.append(query.direction)
        if query.start:
            where.append("occurred_at >= ?")
            params.append(self._db_time(query.start))
        if query.end:
            where.append("occurred_at < ?")
            params.append(self._db_time(query.end))
        if query.after:
            where.append("(occurred_at, entry_id) < (?, ?)")
            params += [self._db_time(query.after.occurred_at), self._db_id(query.after.entry_id)]
        params.append(query.limit)
        condition = f"WHERE {' AND '.join(where)} ORDER BY occurred_at DESC, entry_id DESC LIMIT ?"
        return condition, params

    def select_after_position(
        self, customer_id: UUID, position: int, limit: int
    ) -> list[TimelineRow]:
        return self._select_rows(
            "WHERE customer_id = ? AND position > ? ORDER BY position, entry_id LIMIT ?",
            [self._db_id(customer_id), position, limit],
        )

    def owner_of(self, customer_id: UUID) -> UUID:
        with self.datastore.transaction(commit=False) as cursor:
            return self._root(cursor, customer_id)

    def _select_rows(self, condition: str, params: list[Any]) -> list[TimelineRow]:
        with self.datastore.transaction(commit=False) as cursor:
            return self._fetch_rows(cursor, condition, params)

    def _fetch_rows(self, cursor: Any, condition: str, params: list[Any]) -> list[TimelineRow]:
        cursor.execute(self._q(f"SELECT {_ROW_COLUMNS} FROM {{entries}} {condition}"), params)
        return [self._row(row) for row in cursor.fetchall()]

    def _row(self, row: Any) -> TimelineRow:
        return TimelineRow(
            entry_id=self._py_id(row["entry_id"]),
            customer_id=self._py_id(row["customer_id"]),
            occurred_at=self._py_time(row["occurred_at"]),
            position=row["position"],
            channel=row["channel"],
            direction=row["direction"],
            payload=bytes(row["payload"]),
            rendered=None if row["rendered"] is None else bytes(row["rendered"]),
        )

    def _insert_entries(self, cursor: Any, rows: list[tuple[Any, ...]]) -> None:
        cursor.executemany(
            self._q(
                "INSERT INTO {entries} (entry_id, customer_id, home_customer_id, "
                "origin_customer_id, via_identity, via_generation, occurred_at, position, "
                "channel, direction, payload, rendered) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (entry_id) DO NOTHING"
            ),
            rows,
        )

    def _move_identity(self, cursor: Any, change: IdentityHolder) -> None:
        """A new holder of the identity's current generation: what came through it
        moves along; with nobody, back to the customers it was recorded for."""
        identity = self._db_id(change.identity_id)
        holder = None if change.customer_id is None else self._db_id(change.customer_id)
        cursor.execute(
            self._q(
                "INSERT INTO {holders} (identity_id, customer_id, generation) VALUES (?, ?, 0) "
                "ON CONFLICT (identity_id) DO UPDATE SET customer_id = excluded.customer_id "
                "RETURNING generation"
            ),
            (identity, holder),
        )
        generation = cursor.fetchone()["generation"]
        if change.customer_id is not None:
            self._rehome(
                cursor,
                "via_identity = ? AND via_generation = ?",
                [identity, generation],
                change.customer_id,
            )
            return
        cursor.execute(
            self._q(
                "SELECT DISTINCT origin_customer_id FROM {entries} "
                "WHERE via_identity = ? AND via_generation = ?"
            ),
            (identity, generation),
        )
        for row in cursor.fetchall():
            origin = self._py_id(row["origin_customer_id"])
            self._rehome(
                cursor,
                "via_identity = ? AND via_generation = ? AND origin_customer_id = ?",
                [identity, generation, self._db_id(origin)],
                origin,
            )

    def _release_identity(self, cursor: Any, change: IdentityReleased) -> None:
        """The holder keeps what came through the identity, which moves no more; the
        next generation starts with nobody."""
        identity = self._db_id(change.identity_id)
        cursor.execute(
            self._q("SELECT customer_id, generation FROM {holders} WHERE identity_id = ?"),
            (identity,),
        )
        row = cursor.fetchone()
        generation = 0 if row is None else row["generation"]
        if row is not None and row["customer_id"] is not None:
            cursor.execute(
                self._q(
                    "INSERT INTO {released} (identity_id, generation, customer_id) "
                    "VALUES (?, ?, ?) ON CONFLICT (identity_id, generation) DO NOTHING"
                ),
                (identity, generation, row["customer_id"]),
            )
        cursor.execute(
            self._q(
                "INSERT INTO {holders} (identity_id, customer_id, generation) VALUES (?, NULL, ?) "
                "ON CONFLICT (identity_id) DO UPDATE SET customer_id = NULL, "
                "generation = excluded.generation"
            ),
            (identity, generation + 1),
        )

    def _move_merge_pointer(self, cursor: Any, change: MergePointer) -> None:
        source = self._db_id(change.source_id)
        if change.target_id is None:
            cursor.execute(self._q("DELETE FROM {merges} WHERE source_id = ?"), (source,))
        else:
            cursor.execute(
                self._q(
                    "INSERT INTO {merges} (source_id, target_id) VALUES (?, ?) "
                    "ON CONFLICT (source_id) DO UPDATE SET target_id = excluded.target_id"
                ),
                (source, self._db_id(change.target_id)),
            )
        owner = self._db_id(self._root(cursor, change.source_id))
        homes = [self._db_id(home) for home in self._merged_under(cursor, change.source_id)]
        for start in range(0, len(homes), 500):
            batch = homes[start : start + 500]
            cursor.execute(
                self._q(
                    "UPDATE {entries} SET customer_id = ? "
                    f"WHERE home_customer_id IN ({', '.join('?' * len(batch))})"
                ),
                [owner, *batch],
            )

    def _rehome(self, cursor: Any, condition: str, params: list[Any], home: UUID) -> None:
        cursor.execute(
            self._q(
                f"UPDATE {{entries}} SET home_customer_id = ?, customer_id = ? WHERE {condition}"
            ),
            [self._db_id(home), self._db_id(self._root(cursor, home)), *params],
        )

    def _root(self, cursor: Any, customer_id: UUID) -> UUID:
        for _ in range(MAX_MERGE_DEPTH):
            cursor.execute(
                self._q("SELECT target_id FROM {merges} WHERE source_id = ?"),
                (self._db_id(customer_id),),
            )
            row = cursor.fetchone()
            if row is None:
                return customer_id
            customer_id = self._py_id(row["target_id"])
        raise RuntimeError(f"merge pointers from {customer_id} do not end")

    def _merged_under(self, cursor: Any, customer_id: UUID) -> Iterable[UUID]:
        """The customer and every customer merged into it, directly or in a chain."""
        found, frontier = [customer_id], [customer_id]
        while frontier and len(found) < MAX_MERGE_DEPTH:
            cursor.execute(
                self._q(
                    "SELECT source_id FROM {merges} "
                    f"WHERE target_id IN ({', '.join('?' * len(frontier))})"
                ),
                [self._db_id(target) for target in frontier],
            )
            frontier = [self._py_id(row["source_id"]) for row in cursor.fetchall()]
            found.extend(frontier)
        return found
