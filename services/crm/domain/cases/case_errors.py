"""Errors of the case rules; the API edge maps each to a gRPC status."""

from __future__ import annotations

from services.crm.domain.cases.status import CaseStatus
from services.crm.domain.errors import CrmError


class InvalidCaseTransitionError(CrmError):
    """The case's status does not allow the requested one (FAILED_PRECONDITION)."""

    reason = "INVALID_CASE_TRANSITION"

    def __init__(self, case_id: str, current: CaseStatus, requested: CaseStatus) -> None:
        super().__init__(
            f"case {case_id} is {current}; it cannot become {requested}",
            {"case": f"cases/{case_id}", "current": str(current), "requested": str(requested)},
        )
        self.current = current
        self.requested = requested


class CaseClosedError(CrmError):
    """A closed case is final: nothing about it changes (FAILED_PRECONDITION)."""

    reason = "CASE_CLOSED"

    def __init__(self, case_id: str) -> None:
        super().__init__(
            f"case {case_id} is closed; open a new case instead", {"case": f"cases/{case_id}"}
        )


class CaseNotEscalatedError(CrmError):
    """De-escalating a case at level 0 (FAILED_PRECONDITION)."""

    reason = "CASE_NOT_ESCALATED"

    def __init__(self, case_id: str) -> None:
        super().__init__(f"case {case_id} is not escalated", {"case": f"cases/{case_id}"})
