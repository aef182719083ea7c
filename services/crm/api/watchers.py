"""StreamLimit: caps open streams, each of which holds a server thread, in all and per caller."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from services.crm.domain.errors import CrmError


class TooManyWatchersError(CrmError):
    reason = "TOO_MANY_WATCHERS"
    streams = "timeline watches"

    def __init__(self, limit: int, scope: str) -> None:
        whose = "are open already" if scope == "service" else "are open for this caller"
        super().__init__(
            f"{limit} {self.streams} {whose}; close one or retry later",
            {"limit": str(limit), "scope": scope},
        )


class TooManyReplaysError(TooManyWatchersError):
    reason = "TOO_MANY_REPLAYS"
    streams = "event replays"


class StreamLimit:
    """At most `limit` streams open, and at most `per_caller` of them for one caller."""

    def __init__(
        self,
        limit: int,
        per_caller: int | None = None,
        refusal: type[TooManyWatchersError] = TooManyWatchersError,
    ) -> None:
        self.limit = limit
        self.per_caller = per_caller or limit
        self._refusal = refusal
        self._lock = threading.Lock()
        self._open: Counter[str] = Counter()

    @contextmanager
    def admit(self, caller: str = "") -> Iterator[None]:
        with self._lock:
            if self._open.total() >= self.limit:
                raise self._refusal(self.limit, "service")
            if self._open[caller] >= self.per_caller:
                raise self._refusal(self.per_caller, "caller")
            self._open[caller] += 1
        try:
            yield
        finally:
            with self._lock:
                self._open[caller] -= 1
                if not self._open[caller]:
                    del self._open[caller]
