"""New timeline entries of one projection batch, placed and written together."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from services.crm.projections.timeline_store import NewEntry

if TYPE_CHECKING:
    from services.crm.projections.sql_timeline import SqlTimeline

# Merge chains are short; a longer one means corrupt pointers, not a real history.
MAX_MERGE_DEPTH = 1_000
# Ids per IN list: within what both databases take as parameters of one statement.
_IN_LIST = 500


class EntryBatch:
    """New entries of one batch, written together. Nothing moves between two flushes,
    so who holds their identities and where their customers' merges lead are looked
    up for all of them at once: a few queries per batch, not two per entry."""

    def __init__(self, timeline: SqlTimeline, cursor: Any) -> None:
        self.timeline, self.cursor = timeline, cursor
        self.pending: list[tuple[NewEntry, int]] = []

    def add_entry(self, entry: NewEntry, position: int) -> None:
        self.pending.append((entry, position))

    def flush(self) -> None:
        if not self.pending:
            return
        t = self.timeline
        holders = self._holders({e.via_identity for e, _ in self.pending if e.via_identity})
        homes = {
            entry.entry_id: holders.get(entry.via_identity) or entry.origin_customer_id
            for entry, _ in self.pending
        }
        roots = self._roots(set(homes.values()))
        rows = [
            (
                t._db_id(entry.entry_id),
                t._db_id(roots[homes[entry.entry_id]]),
                t._db_id(homes[entry.entry_id]),
                t._db_id(entry.origin_customer_id),
                None if entry.via_identity is None else t._db_id(entry.via_identity),
                t._db_time(entry.occurred_at),
                position,
                entry.channel,
                entry.direction,
                entry.payload,
                entry.rendered,
            )
            for entry, position in self.pending
        ]
        t._insert_entries(self.cursor, rows)
        self.pending = []

    def _holders(self, identities: set[UUID | None]) -> dict[UUID | None, UUID | None]:
        found: dict[UUID | None, UUID | None] = {}
        for row in self._select_in(
            "identity_id, customer_id", "holders", "identity_id", identities
        ):
            holder = row["customer_id"]
            found[self.timeline._py_id(row["identity_id"])] = (
                None if holder is None else self.timeline._py_id(holder)
            )
        return found

    def _roots(self, customers: set[UUID]) -> dict[UUID, UUID]:
        """Each customer's end of its merge pointers, following all chains a step a query."""
        roots = {customer: customer for customer in customers}
        frontier = set(customers)
        for _ in range(MAX_MERGE_DEPTH):
            rows = self._select_in("source_id, target_id", "merges", "source_id", frontier)
            step = {
                self.timeline._py_id(row["source_id"]): self.timeline._py_id(row["target_id"])
                for row in rows
            }
            if not step:
                return roots
            roots = {customer: step.get(end, end) for customer, end in roots.items()}
            frontier = set(step.values())
        raise RuntimeError("merge pointers do not end")

    def _select_in(self, columns: str, table: str, key: str, values: set[Any]) -> list[Any]:
        t = self.timeline
        ids = [t._db_id(value) for value in values if value is not None]
        rows: list[Any] = []
        for start in range(0, len(ids), _IN_LIST):
            chunk = ids[start : start + _IN_LIST]
            self.cursor.execute(
                t._q(
                    f"SELECT {columns} FROM {{{table}}} "
                    f"WHERE {key} IN ({', '.join('?' * len(chunk))})"
                ),
                chunk,
            )
            rows.extend(self.cursor.fetchall())
        return rows
