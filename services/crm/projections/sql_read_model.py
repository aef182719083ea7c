"""What the backend-neutral read model SQL relies on from its backend."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import Tracking


class SqlReadModel:
    """Base of the SQL written once for both databases; the backend's read model
    (sqlite_read_model, postgres_read_model) must follow it in the bases."""

    datastore: Any

    if TYPE_CHECKING:  # Provided by the backend's read model and tracking recorder.

        def _q(self, statement: str) -> str: ...
        def _db_id(self, value: UUID) -> Any: ...
        def _py_id(self, value: Any) -> UUID: ...
        def _db_time(self, value: datetime) -> Any: ...
        def _py_time(self, value: Any) -> datetime: ...
        def _explain(self, statement: str) -> str: ...
        def _insert_tracking(self, cursor: Any, tracking: Tracking) -> None: ...
        def _max_tracking_id(self, application_name: str, cursor: Any) -> int | None: ...
