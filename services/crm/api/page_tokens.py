"""Opaque page tokens (AIP-158) that remember the query they belong to."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.crm.domain.errors import InvalidInputError
from services.crm.projections.directory_store import NameCursor
from services.crm.projections.timeline_store import TimelineCursor

MAX_NAME_CHARS = 1_000
# A name cursor of MAX_NAME_CHARS, every character escaped, base64-encoded, fits.
MAX_TOKEN_CHARS = 16_384


def query_fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode(cursor: TimelineCursor | NameCursor, query: str) -> str:
    if isinstance(cursor, TimelineCursor):
        data = {"t": cursor.occurred_at.isoformat(), "e": cursor.entry_id.hex, "q": query}
    else:
        data = {"n": cursor.sort_name, "c": cursor.customer_id.hex, "q": query}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def decode(token: str, query: str) -> TimelineCursor | None:
    """A timeline cursor from a token GetTimeline issued for the same query."""
    data = _open(token, query)
    if data is None:
        return None
    try:
        moment = datetime.fromisoformat(data["t"])
        if moment.tzinfo is None:
            raise ValueError("naive time")
        return TimelineCursor(moment.astimezone(UTC), UUID(hex=data["e"]))
    except (ValueError, KeyError, TypeError, OverflowError, AttributeError):
        raise _invalid() from None


def decode_name(token: str, query: str) -> NameCursor | None:
    """A name cursor from a token SearchCustomers issued for the same query."""
    data = _open(token, query)
    if data is None:
        return None
    try:
        name, customer = data["n"], data["c"]
        if not isinstance(name, str) or len(name) > MAX_NAME_CHARS or "\0" in name:
            raise ValueError("name")
        name.encode()  # Lone surrogates cannot be stored or compared.
        if not isinstance(customer, str) or len(customer) != 32:
            raise ValueError("customer")
        return NameCursor(name, UUID(hex=customer))
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeEncodeError):
        raise _invalid() from None


def _open(token: str, query: str) -> dict[str, Any] | None:
    if not token:
        return None
    if len(token) > MAX_TOKEN_CHARS:
        raise _invalid()
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        same_query = data["q"] == query
    except (ValueError, KeyError, TypeError, RecursionError):
        # Deeply nested JSON ("[[[[...") exhausts the parser's recursion limit.
        raise _invalid() from None
    if not same_query:
        raise InvalidInputError.single(
            "page_token",
            "PAGE_TOKEN_QUERY_MISMATCH",
            "the page token belongs to a request with other parameters",
        )
    if not isinstance(data, dict):
        raise _invalid()
    return data


def _invalid() -> InvalidInputError:
    return InvalidInputError.single(
        "page_token", "INVALID_PAGE_TOKEN", "not a page token this service issued"
    )
