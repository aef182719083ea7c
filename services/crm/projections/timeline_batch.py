"""New timeline entries of one projection batch, placed and written together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from services.crm.projections.timeline_store import NewEntry

if TYPE_CHECKING:
    from services.crm.projections.sql_timeline import SqlTimeline

# Merge chains are short; a longer one means corrupt pointers, not a real history.
MAX_MERGE_DEPTH = 1_000
# Ids per IN list: within what both databases take as parameters of one statement.
_IN_LIST = 500


@dataclass
class Holders:
    """Who holds each identity's current generation, and who held its released ones."""

    current: dict[UUID, tuple[int, UUID | None]] = field(default_factory=dict)
    released: dict[UUID, dict[int, UUID]] = field(default_factory=dict)

    def holder(self, identity: UUID) -> UUID | None:
        return self.current.get(identity, (0, None))[1]

    def place(self, entry: NewEntry) -> tuple[int, UUID]:
        """The generation an entry came through, and its home."""
        if entry.via_identity is None:
            return 0, entry.origin_customer_id
        generation, holder = self.current.get(entry.via_identity, (0, None))
        if holder != entry.origin_customer_id:
            # Written for a holder that has since released the identity (the write read
            # the holder just before the release): it stays in that holder's generation.
            held = [
                g
                for g, customer in self.released.get(entry.via_identity, {}).items()
                if customer == entry.origin_customer_id
            ]
            if held:
                return max(held), entry.origin_customer_id
        return generation, holder or entry.origin_customer_id


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
        # Releases are rare: only entries not written for their identity's holder look.
        holders.released = self._released(
            {
                e.via_identity
                for e, _ in self.pending
                if e.via_identity and holders.holder(e.via_identity) != e.origin_customer_id
            }
        )
        placed = [(entry, position, *holders.place(entry)) for entry, position in self.pending]
        roots = self._roots({home for *_, home in placed})
        rows = [
            (
                t._db_id(entry.entry_id),
                t._db_id(roots[home]),
                t._db_id(home),
                t._db_id(entry.origin_customer_id),
                None if entry.via_identity is None else t._db_id(entry.via_identity),
                generation,
                t._db_time(entry.occurred_at),
                position,
                entry.channel,
                entry.direction,
                entry.payload,
                entry.rendered,
            )
            for entry, position, generation, home in placed
        ]
        t._insert_entries(self.cursor, rows)
        self.pending = []

    def _holders(self, identities: set[UUID]) -> Holders:
        t, found = self.timeline, Holders()
        for row in self._select_in(
            "identity_id, customer_id, generation", "holders", "identity_id", identities
        ):
            holder = None if row["customer_id"] is None else t._py_id(row["customer_id"])
            found.current[t._py_id(row["identity_id"])] = (row["generation"], holder)
        return found

    def _released(self, identities: set[UUID]) -> dict[UUID, dict[int, UUID]]:
        t = self.timeline
        found: dict[UUID, dict[int, UUID]] = {}
        for row in self._select_in(
            "identity_id, generation, customer_id", "released", "identity_id", identities
        ):
            by_generation = found.setdefault(t._py_id(row["identity_id"]), {})
            by_generation[row["generation"]] = t._py_id(row["customer_id"])
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
