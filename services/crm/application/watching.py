"""Use cases that stream: a customer's timeline as new entries arrive."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import UUID

from services.crm.application.base import CustomerHistoryBase
from services.crm.application.results import TimelineEntry
from services.crm.domain.errors import InvalidInputError

WATCH_BATCH = 100


class WatchingUseCases(CustomerHistoryBase):
    def watch_timeline(
        self,
        customer_id: UUID,
        after_position: int,
        keep_going: Callable[[], bool],
        idle_seconds: float = 1.0,
    ) -> Iterator[TimelineEntry]:
        """Entries the timeline takes in after after_position, in log order, until
        keep_going() says stop (checked at least every idle_seconds) or the service stops.
        Checks the request now, not when the first entry is asked for."""
        if after_position > self._log_end():
            raise InvalidInputError.single(
                "after_position", "POSITION_BEYOND_LOG", "no write has been committed there"
            )
        root = self._root(self.get_customer(customer_id)).id
        return self._entries_after(root, after_position, keep_going, idle_seconds)

    def _entries_after(
        self, root: UUID, cursor: int, keep_going: Callable[[], bool], idle_seconds: float
    ) -> Iterator[TimelineEntry]:
        progress = self.timeline_progress
        while keep_going() and not progress.stopped:
            # Read where the projection is before querying: whatever it commits later
            # wakes the wait below, so nothing slips between the query and the wait.
            reached = progress.position
            rows = self.timeline.select_after_position(root, cursor, WATCH_BATCH)
            if not rows:
                # A merge moves this customer's timeline under another, after which
                # nothing new arrives here: follow it there. Checked only when idle, so
                # a busy timeline costs one query per batch.
                owner = self.timeline.owner_of(root)
                if owner != root:
                    root = owner
                    continue
            for row in rows:
                cursor = row.position
                yield self.timeline_entry(row)
            if len(rows) < WATCH_BATCH:
                progress.wait_beyond(reached, idle_seconds)
