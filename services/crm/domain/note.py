"""The Note aggregate: what an agent wrote down about a customer, for the next agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from services.crm.domain.cause import Cause
from services.crm.domain.errors import Violations
from services.crm.domain.namespace import CRM_NAMESPACE
from services.crm.domain.topics import stable_topics
from services.crm.domain.visible import says_something

MAX_NOTE_CHARS = 4_000


def check_note_text(text: str) -> None:
    problems = Violations()
    problems.check(says_something(text), "note.text", "EMPTY_NOTE", "the note must say something")
    problems.check(
        len(text) <= MAX_NOTE_CHARS,
        "note.text",
        "NOTE_TOO_LONG",
        f"at most {MAX_NOTE_CHARS} characters",
    )
    problems.raise_if_any()


@stable_topics("Note")
class Note(Aggregate):
    """A note; its own aggregate, like an interaction, so it is written once and
    retries of the same request find it."""

    @staticmethod
    def create_id(idempotency_key: str) -> UUID:
        return uuid5(CRM_NAMESPACE, f"note/{idempotency_key}")

    class Added(Aggregate.Created):
        idempotency_key: str
        customer_id: UUID
        text: str
        fingerprint: str
        cause: Cause

    @event(Added)
    def __init__(
        self, idempotency_key: str, customer_id: UUID, text: str, fingerprint: str, cause: Cause
    ) -> None:
        self.idempotency_key = idempotency_key
        self.customer_id = customer_id
        self.text = text
        self.fingerprint = fingerprint
        self.author = cause.actor


@dataclass(frozen=True)
class NoteRecord:
    """A note as readers see it."""

    id: UUID
    customer_id: UUID
    text: str
    author: str
    created_at: datetime
