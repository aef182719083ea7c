"""The pending deadlines read model, indexed by due time, on SQLite and PostgreSQL."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import Tracking, TrackingRecorder

from services.crm.projections.postgres_read_model import PostgresReadModel
from services.crm.projections.sql_read_model import SqlReadModel
from services.crm.projections.sqlite_read_model import SQLiteReadModel


@dataclass(frozen=True)
class PendingDeadline:
    """A scheduled deadline, neither cancelled nor fired yet."""

    deadline_id: UUID
    due_time: datetime


@dataclass(frozen=True)
class DeadlineEnded:
    """A deadline was cancelled or fired: it is pending no more."""

    deadline_id: UUID


DeadlineChange = PendingDeadline | DeadlineEnded
_DUE = "SELECT deadline_id, due_time FROM {pending} WHERE due_time <= ? ORDER BY due_time LIMIT ?"


class DeadlineStore(TrackingRecorder, ABC):
    @abstractmethod
    def apply(self, batch: Sequence[tuple[Sequence[DeadlineChange], Tracking]]) -> None:
        """Each event's changes in log order, with the last position, in one transaction."""

    @abstractmethod
    def due(self, now: datetime, limit: int) -> list[PendingDeadline]:
        """The pending deadlines due at now, earliest first."""

    @abstractmethod
    def done(self, deadline_id: UUID) -> None:
        """The engine recorded (or found) the deadline's end: it is pending no more."""

    @abstractmethod
    def pending_count(self) -> int: ...

    @abstractmethod
    def explain_due(self, now: datetime) -> str:
        """The database's plan for finding the due deadlines, to show it uses the index."""

    @abstractmethod
    def drop(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...


class SqlDeadlines(SqlReadModel):
    """The deadline store's SQL, written once; precedes the backend's read model."""

    def apply(self, batch: Sequence[tuple[Sequence[DeadlineChange], Tracking]]) -> None:
        self._apply_each(batch, self._apply_one)

    def _apply_one(self, cursor: Any, changes: Sequence[DeadlineChange]) -> None:
        for change in changes:
            if isinstance(change, PendingDeadline):
                cursor.execute(
                    self._q(
                        "INSERT INTO {pending} (deadline_id, due_time) VALUES (?, ?) ON CONFLICT "
                        "(deadline_id) DO UPDATE SET due_time = excluded.due_time"
                    ),
                    (self._db_id(change.deadline_id), self._db_time(change.due_time)),
                )
            else:
                self._end(cursor, change.deadline_id)

    def due(self, now: datetime, limit: int) -> list[PendingDeadline]:
        rows = self._read(_DUE, [self._db_time(now), limit])
        return [
            PendingDeadline(self._py_id(row["deadline_id"]), self._py_time(row["due_time"]))
            for row in rows
        ]

    def done(self, deadline_id: UUID) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            self._end(cursor, deadline_id)

    def pending_count(self) -> int:
        return int(self._read("SELECT COUNT(*) AS pending FROM {pending}", [])[0]["pending"])

    def explain_due(self, now: datetime) -> str:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(self._q("ANALYZE {pending}"))
            cursor.execute(self._explain(self._q(_DUE)), (self._db_time(now), 100))
            return "\n".join(" ".join(map(str, dict(row).values())) for row in cursor.fetchall())

    def _end(self, cursor: Any, deadline_id: UUID) -> None:
        cursor.execute(
            self._q("DELETE FROM {pending} WHERE deadline_id = ?"), (self._db_id(deadline_id),)
        )


class SQLiteDeadlineStore(SqlDeadlines, SQLiteReadModel, DeadlineStore):
    TRACKING_TABLE = "deadlines_tracking"
    TABLES: ClassVar[dict[str, str]] = {"pending": "deadlines_pending"}
    DDL: ClassVar[list[str]] = [
        "CREATE TABLE IF NOT EXISTS {pending} (deadline_id TEXT PRIMARY KEY, "
        "due_time TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {pending}_by_due ON {pending} (due_time, deadline_id)",
    ]


class PostgresDeadlineStore(SqlDeadlines, PostgresReadModel, DeadlineStore):
    TABLES: ClassVar[dict[str, str]] = {"pending": "deadlines_pending"}
    DDL: ClassVar[list[str]] = [
        "CREATE TABLE IF NOT EXISTS {pending} (deadline_id uuid PRIMARY KEY, "
        "due_time timestamptz NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {pending_plain}_by_due ON {pending} (due_time, deadline_id)",
    ]
