"""Who is calling and in which request, read from gRPC metadata."""

from __future__ import annotations

import contextvars
import uuid

import grpc

from services.crm.api.errors import REQUEST_ID_HEADER, CallerUnauthenticatedError
from services.crm.domain.cause import Cause
from services.crm.domain.errors import InvalidInputError

ACTOR_HEADER = "x-crm-actor"
# Longer ids are cut here, as the gateway cuts them, so both log the id the caller sees.
MAX_REQUEST_ID_LENGTH = 128

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def request_id_from(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str:
    for key, value in metadata or ():
        if key == REQUEST_ID_HEADER and isinstance(value, str) and value:
            return value[:MAX_REQUEST_ID_LENGTH]
    return str(uuid.uuid4())


def cause_of(context: grpc.ServicerContext, reason: str = "") -> Cause:
    """The cause every event of this call records; writes without an actor are refused."""
    actor = ""
    for key, value in context.invocation_metadata() or ():
        if key == ACTOR_HEADER and isinstance(value, str):
            actor = value
    if not actor:
        raise CallerUnauthenticatedError(
            "ACTOR_REQUIRED",
            f"writes need metadata '{ACTOR_HEADER}: agent:{{subject}}' or 'service:{{name}}'",
        )
    try:
        return Cause(actor=actor, correlation_id=current_request_id.get(), reason=reason)
    except InvalidInputError as error:
        if error.violations[0].field == "actor":
            raise CallerUnauthenticatedError(
                "INVALID_ACTOR", error.violations[0].description
            ) from None
        raise
