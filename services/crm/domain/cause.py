"""Cause: who made a change, in which request, and why; carried by every event."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from services.crm.domain.errors import InvalidInputError

ACTOR_KINDS = ("agent", "service")
# OpenID Connect's bound on `sub`; counted in characters before encoding.
MAX_SUBJECT_LENGTH = 255
# Kept as they are: RFC 3986's unreserved characters and "@", so most subjects read as sent.
SUBJECT_SAFE = "@"
_ENCODED = re.compile(r"(?:[A-Za-z0-9._~@-]|%[0-9A-F]{2})+")
MAX_REASON_LENGTH = 500


def actor_of(kind: str, subject: str) -> str:
    """ "agent", "Jane Doe" -> "agent:Jane%20Doe": any subject, as ASCII that metadata carries."""
    return f"{kind}:{quote(subject, safe=SUBJECT_SAFE)}"


def subject_of(actor: str) -> str | None:
    """The subject an actor names, or None unless the actor is written as actor_of writes it."""
    kind, _, encoded = actor.partition(":")
    if kind not in ACTOR_KINDS or not _ENCODED.fullmatch(encoded):
        return None
    try:
        subject = unquote(encoded, errors="strict")
    except UnicodeDecodeError:
        return None
    if len(subject) > MAX_SUBJECT_LENGTH or actor_of(kind, subject) != actor:
        return None
    return subject


@dataclass(frozen=True)
class Cause:
    """Why an event happened: the actor ("agent:alice", "service:importer"), the
    correlation id of the call it came in (x-request-id), and an optional free-text
    reason for the audit trail."""

    actor: str
    correlation_id: str
    reason: str = ""

    def __post_init__(self) -> None:
        if subject_of(self.actor) is None:
            raise InvalidInputError.single(
                "actor",
                "INVALID_ACTOR",
                "must be 'agent:{subject}' or 'service:{name}', the subject percent-encoded "
                "(UTF-8, upper-case hex; letters, digits, '-._~@' as they are), "
                f"at most {MAX_SUBJECT_LENGTH} characters before encoding",
            )
        if len(self.reason) > MAX_REASON_LENGTH:
            raise InvalidInputError.single(
                "reason", "REASON_TOO_LONG", f"at most {MAX_REASON_LENGTH} characters"
            )
