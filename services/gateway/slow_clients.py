"""Connections that take too long to send a request are closed (slow-loris clients)."""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def protocol_with_deadline(seconds: float) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol, bounding how long a request may take to arrive.

    uvicorn bounds only the idle time between requests, and a byte restarts that clock.
    Here a client has `seconds` from connecting, or from the end of its last answer, to
    send its request's headers; and as long again for a body nobody reads any more (the
    answer went out first, as a 401 does). The application bounds reading a body itself.
    """

    class DeadlineProtocol(H11Protocol):
        deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
            self.deadline = self.loop.call_later(seconds, self._expire)

        def _expire(self) -> None:
            answered = self.cycle is None or self.cycle.response_complete
            waiting = self.conn.their_state is h11.IDLE or (
                self.conn.their_state is h11.SEND_BODY and answered
            )
            if waiting and not self.transport.is_closing():
                self.transport.close()

    return DeadlineProtocol
