"""What the backend-neutral read model SQL relies on from its backend, and the
parked events every read model keeps beside its rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from services.crm.projections.parked_events import AppliedElsewhereError, ParkedEvent

# Written once for both databases: ids and times as text, so a row reads the same.
PARKED_DDL = (
    "CREATE TABLE IF NOT EXISTS {parked} (position BIGINT PRIMARY KEY, topic TEXT NOT NULL, "
    "originator_id TEXT NOT NULL, error_class TEXT NOT NULL, parked_at TEXT NOT NULL)"
)


def parked_table_name(tracking_table: str) -> str:
    """The parked events table beside a tracking table: timeline_parked_events."""
    return f"{tracking_table.removesuffix('_tracking')}_parked_events"


class SqlReadModel:
    """Base of the SQL written once for both databases; the backend's read model
    (sqlite_read_model, postgres_read_model) must follow it in the bases."""

    datastore: Any

    if TYPE_CHECKING:  # Provided by the backend's read model and tracking recorder.

        def _q(self, statement: str) -> str: ...
        def _read(self, statement: str, params: list[Any]) -> list[Any]: ...
        def _db_id(self, value: UUID) -> Any: ...
        def _py_id(self, value: Any) -> UUID: ...
        def _db_time(self, value: datetime) -> Any: ...
        def _py_time(self, value: Any) -> datetime: ...
        def _explain(self, statement: str) -> str: ...
        def _max_tracking_id(self, application_name: str, cursor: Any) -> int | None: ...
        def max_tracking_id(self, application_name: str) -> int | None: ...

    def _claim(self, cursor: Any, first: int, last: Tracking) -> None:
        """Moves the tracked position to last, only if it stands before first: else
        another projector applied some of first..last, and the transaction must fail.
        The library's check (tracked < last) would let a batch overlap one committed
        meanwhile. Taken first: it locks the tracking row (on SQLite, the database)
        until commit, so concurrent projectors take their turns."""
        cursor.execute(
            self._q(
                "INSERT INTO {tracking} (application_name, notification_id) VALUES (?, ?) "
                "ON CONFLICT (application_name) DO UPDATE SET notification_id = "
                "excluded.notification_id WHERE {tracking}.notification_id < ? "
                "RETURNING notification_id"
            ),
            (last.application_name, last.notification_id, first),
        )
        if cursor.fetchone() is None:
            raise AppliedElsewhereError(f"positions {first} to {last.notification_id}")

    def _apply_each(
        self,
        batch: Sequence[tuple[Sequence[Any], Tracking]],
        apply_changes: Callable[[Any, Sequence[Any]], None],
    ) -> None:
        """Each event's changes, by apply_changes(cursor, changes) in log order, and the
        last position, in one transaction."""
        if not batch:
            return
        with self.datastore.transaction(commit=True) as cursor:
            self._claim(cursor, batch[0][1].notification_id, batch[-1][1])
            for changes, _ in batch:
                apply_changes(cursor, changes)

    def park(self, event: ParkedEvent, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            self._claim(cursor, tracking.notification_id, tracking)
            cursor.execute(
                self._q(
                    "INSERT INTO {parked} (position, topic, originator_id, error_class, "
                    "parked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (position) DO NOTHING"
                ),
                (
                    event.position,
                    event.topic,
                    event.originator_id,
                    event.error_class,
                    event.parked_at.astimezone(UTC).isoformat(),
                ),
            )

    def parked_events(self, limit: int = 100) -> list[ParkedEvent]:
        rows = self._read(
            "SELECT position, topic, originator_id, error_class, parked_at FROM {parked} "
            "ORDER BY position LIMIT ?",
            [limit],
        )
        return [
            ParkedEvent(
                position=row["position"],
                topic=row["topic"],
                originator_id=row["originator_id"],
                error_class=row["error_class"],
                parked_at=datetime.fromisoformat(row["parked_at"]),
            )
            for row in rows
        ]

    def parked_count(self) -> int:
        rows = self._read("SELECT COUNT(*) AS parked FROM {parked}", [])
        return int(rows[0]["parked"])
