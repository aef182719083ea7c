"""Fires the deadlines that fell due, earliest first, each exactly once (see __init__)."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from datetime import datetime

from services.crm.application import CustomerHistory
from services.crm.application.deadlines import Firing, fire
from services.crm.deadlines.clock import Clock
from services.crm.deadlines.store import DeadlineStore, PendingDeadline

logger = logging.getLogger(__name__)
BATCH = 100


class DeadlineEngine:
    """One pass of fire_due() fires what is due by the clock's now. crash_at is a
    test's hook: the process kills itself just "before-record" or "after-record"."""

    def __init__(
        self, app: CustomerHistory, store: DeadlineStore, clock: Clock, crash_at: str = ""
    ) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.crash_at = crash_at
        self._caught_up_to = app.recorder.max_notification_id() or 0

    def caught_up(self) -> bool:
        """Whether the read model holds every deadline scheduled before the engine
        started: until then one missed while it was down might not be seen, and
        the ones seen would fire out of due order."""
        tracked = self.store.max_tracking_id(self.app.name) or 0
        return tracked >= self._caught_up_to

    def fire_due(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Fires the deadlines due now, in due order; returns how many it recorded."""
        if not self.caught_up():
            return 0
        fired = 0
        while not stopping():
            now = self.clock()
            due = self.store.due(now, BATCH)
            outcomes = []
            for deadline in due:
                if stopping():
                    break
                outcomes.append(self._fire(deadline, now))
            fired += outcomes.count(Firing.FIRED)
            # A full batch of deadlines moved later would come back unchanged.
            if len(due) < BATCH or all(o is Firing.NOT_DUE for o in outcomes):
                break
        return fired

    def _fire(self, deadline: PendingDeadline, now: datetime) -> Firing:
        self._crash_if("before-record")
        outcome = fire(self.app, deadline.deadline_id, now)
        self._crash_if("after-record")
        if outcome is Firing.NOT_DUE:
            return outcome  # Its row moves when the read model sees it rescheduled.
        self.store.done(deadline.deadline_id)
        if outcome is Firing.FIRED:
            logger.info(
                "deadline fired",
                extra={
                    "fields": {
                        "deadline_id": str(deadline.deadline_id),
                        "due_time": deadline.due_time.isoformat(),
                    }
                },
            )
        return outcome

    def _crash_if(self, point: str) -> None:
        if self.crash_at == point:
            os.kill(os.getpid(), signal.SIGKILL)
