"""A case's status: where it stands between opening and closing."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer; SLA clocks pause
    RESOLVED = "resolved"
    CLOSED = "closed"


# Someone still has to act on a case in these; resolved and closed ones are done.
ACTIVE_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING})
# SLA clocks run only while a case is new or open: pending pauses them, and a resolved
# or closed case owes no answer, so a deadline that fires late records nothing.
SLA_RUNNING = (CaseStatus.NEW, CaseStatus.OPEN)
