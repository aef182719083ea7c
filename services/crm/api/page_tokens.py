"""Opaque page tokens (AIP-158) that remember the query they belong to."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from uuid import UUID

from services.crm.domain.errors import InvalidInputError
from services.crm.projections.timeline_store import TimelineCursor


def query_fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def encode(cursor: TimelineCursor, query: str) -> str:
    data = {"t": cursor.occurred_at.isoformat(), "e": cursor.entry_id.hex, "q": query}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def decode(token: str, query: str) -> TimelineCursor | None:
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        moment = datetime.fromisoformat(data["t"])
        if moment.tzinfo is None:
            raise ValueError("naive time")
        cursor = TimelineCursor(moment.astimezone(UTC), UUID(hex=data["e"]))
        same_query = data["q"] == query
    except (ValueError, KeyError, TypeError, OverflowError, AttributeError):
        raise InvalidInputError.single(
            "page_token", "INVALID_PAGE_TOKEN", "not a page token this service issued"
        ) from None
    if not same_query:
        raise InvalidInputError.single(
            "page_token",
            "PAGE_TOKEN_QUERY_MISMATCH",
            "the page token belongs to a request with another customer or other filters",
        )
    return cursor
