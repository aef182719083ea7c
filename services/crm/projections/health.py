"""Whether the read models keep up with the log, for health checks and metrics: a read
model is stalled when it is behind the log and has not moved for a while, and any
parked event waits for an operator (README: "An event a read model cannot apply
never stalls it")."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from services.crm.application import CustomerHistory
from services.crm.projections.directory_store import DirectoryStore
from services.crm.projections.timeline_store import TimelineStore

STALL_AFTER_SECONDS = 30.0


@dataclass(frozen=True)
class ReadModelStatus:
    read_model: str
    position: int
    behind: int  # Events in the log the read model has not reached.
    parked: int  # A count a metric can read; the events are listed by parked_events().
    stalled: bool
    # When the oldest event the read model has not applied was recorded: None when it
    # is caught up, or when that event cannot be decoded (it is about to be parked).
    waiting_since: datetime | None = None


# Told every status as health reads them, so metrics follow without asking again.
StatusObserver = Callable[[list[ReadModelStatus]], None]


class ProjectionHealth:
    """Reads each read model's position and parked events from the database, so it
    works whether the projections run in the service or in a projector process."""

    def __init__(
        self,
        app: CustomerHistory,
        stall_after: float = STALL_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        observe: StatusObserver | None = None,
    ) -> None:
        self.app = app
        self.stall_after = stall_after
        self.clock = clock
        self.observe = observe
        self._moved: dict[str, tuple[int, float]] = {}

    def read_models(self) -> Mapping[str, TimelineStore | DirectoryStore]:
        return {"timeline": self.app.timeline, "directory": self.app.directory}

    def statuses(self) -> list[ReadModelStatus]:
        log_end = self.app.recorder.max_notification_id() or 0
        now = self.clock()
        found = []
        for name, store in self.read_models().items():
            position = store.max_tracking_id(self.app.name) or 0
            last, since = self._moved.get(name, (-1, now))
            if position != last or position >= log_end:
                since = now
            self._moved[name] = (position, since)
            found.append(
                ReadModelStatus(
                    read_model=name,
                    position=position,
                    behind=max(log_end - position, 0),
                    parked=store.parked_count(),
                    stalled=position < log_end and now - since >= self.stall_after,
                    waiting_since=self._recorded_after(position) if position < log_end else None,
                )
            )
        if self.observe is not None:
            self.observe(found)
        return found

    def _recorded_after(self, position: int) -> datetime | None:
        """When the first event after position was recorded, by its own timestamp."""
        try:
            first = self.app.recorder.select_notifications(start=position + 1, limit=1)
            recorded = getattr(self.app.mapper.to_domain_event(first[0]), "timestamp", None)
        except Exception:
            return None
        return recorded if isinstance(recorded, datetime) else None

    def healthy(self) -> bool:
        """False while a read model is stalled or holds parked events, or when the
        database cannot tell."""
        try:
            return not any(s.stalled or s.parked for s in self.statuses())
        except Exception:
            return False
