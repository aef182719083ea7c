"""WatcherLimit: caps open watch streams, each of which holds a server thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from services.crm.domain.errors import CrmError


class TooManyWatchersError(CrmError):
    reason = "TOO_MANY_WATCHERS"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"{limit} timeline watches are open already; retry later",
            {"limit": str(limit)},
        )


class WatcherLimit:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    @contextmanager
    def admit(self) -> Iterator[None]:
        if not self._slots.acquire(blocking=False):
            raise TooManyWatchersError(self.limit)
        try:
            yield
        finally:
            self._slots.release()
