"""Cause: who made a change, in which request, and why; carried by every event."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.crm.domain.errors import InvalidInputError

_ACTOR_PATTERN = re.compile(r"^(agent|service):[A-Za-z0-9._@-]{1,128}$")
MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class Cause:
    """Why an event happened: the actor ("agent:alice", "service:importer"), the
    correlation id of the call it came in (x-request-id), and an optional free-text
    reason for the audit trail."""

    actor: str
    correlation_id: str
    reason: str = ""

    def __post_init__(self) -> None:
        if not _ACTOR_PATTERN.match(self.actor):
            raise InvalidInputError.single(
                "actor", "INVALID_ACTOR", "must look like 'agent:{id}' or 'service:{name}'"
            )
        if len(self.reason) > MAX_REASON_LENGTH:
            raise InvalidInputError.single(
                "reason", "REASON_TOO_LONG", f"at most {MAX_REASON_LENGTH} characters"
            )
