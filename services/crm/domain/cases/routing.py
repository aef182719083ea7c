"""Who works a case: agents, queues (teams) and the steps of its escalation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from services.crm.domain.cause import subject_of
from services.crm.domain.errors import InvalidInputError

# Tiers above the first line; the API refuses a named level beyond this.
MAX_ESCALATION_LEVEL = 3
_QUEUE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def check_agent(field: str, actor: str) -> None:
    if not actor.startswith("agent:") or subject_of(actor) is None:
        raise InvalidInputError.single(field, "INVALID_AGENT", "must be an 'agent:{subject}' actor")


def check_queue(field: str, queue: str) -> None:
    if _QUEUE.fullmatch(queue) is None:
        raise InvalidInputError.single(
            field, "INVALID_QUEUE", "must be 1-64 of [a-z0-9_-], starting with a letter or digit"
        )


class TargetKind(StrEnum):
    QUEUE = "queue"
    AGENT = "agent"


@dataclass(frozen=True)
class EscalationTarget:
    """Where an escalation sends a case: a team's queue, or one agent."""

    kind: TargetKind
    name: str

    def __post_init__(self) -> None:
        if self.kind is TargetKind.QUEUE:
            check_queue("escalate_to.queue", self.name)
        else:
            check_agent("escalate_to.agent", self.name)

    @classmethod
    def queue(cls, name: str) -> EscalationTarget:
        return cls(TargetKind.QUEUE, name)

    @classmethod
    def agent(cls, actor: str) -> EscalationTarget:
        return cls(TargetKind.AGENT, actor)


@dataclass(frozen=True)
class Escalation:
    """One step up: the level reached, who it went to, and the queue and assignee the
    case had before, which de-escalating it gives back."""

    level: int
    target: EscalationTarget
    queue_before: str | None = None
    assignee_before: str | None = None


def next_level(current: int, named: int | None) -> int:
    """The level an escalation reaches: one up, or the named one, which must be higher."""
    level = current + 1 if named is None else named
    if not current < level <= MAX_ESCALATION_LEVEL:
        raise InvalidInputError.single(
            "level",
            "INVALID_ESCALATION_LEVEL",
            f"must be above the current level {current} and at most {MAX_ESCALATION_LEVEL}",
        )
    return level
