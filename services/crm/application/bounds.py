"""What bounds a call: the caller's deadline, and a database that does not answer."""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager

from eventsourcing.persistence import InterfaceError, OperationalError

from services.crm.application.results import DatabaseUnavailableError, DeadlinePassedError
from services.crm.storage import CommitTooLateError

# What the event store raises, on either database, for a connection it cannot get,
# lost, or a lock it waited for too long.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

# gRPC reports a call without a deadline as one centuries away: beyond this, none.
NO_DEADLINE_BEYOND_SECONDS = 366 * 24 * 3600.0

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "call_deadline", default=None
)


@contextmanager
def bounded_call(time_remaining: float | None) -> Iterator[None]:
    """Runs a call with its deadline (seconds from now; None for none) known to the
    writes it makes, and a database that does not answer as DatabaseUnavailableError."""
    if time_remaining is not None and time_remaining > NO_DEADLINE_BEYOND_SECONDS:
        time_remaining = None
    deadline = None if time_remaining is None else time.monotonic() + time_remaining
    token = _deadline.set(deadline)
    try:
        yield
    except CommitTooLateError as error:
        raise DeadlinePassedError() from error
    except DATABASE_UNAVAILABLE as error:
        raise DatabaseUnavailableError() from error
    finally:
        _deadline.reset(token)


def call_deadline() -> float | None:
    """The current call's deadline on the time.monotonic() clock, if it has one."""
    return _deadline.get()


def check_deadline() -> None:
    """Refuses to start a commit the caller has stopped waiting for."""
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlinePassedError
