from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.crm.api import page_tokens
from services.crm.domain.errors import InvalidInputError
from services.crm.projections.timeline_store import TimelineCursor


def test_a_token_brings_back_its_cursor_for_the_same_query() -> None:
    cursor = TimelineCursor(datetime(2026, 5, 1, 12, tzinfo=UTC), uuid4())
    token = page_tokens.encode(cursor, "q1")
    assert page_tokens.decode(token, "q1") == cursor


def test_a_token_from_another_query_is_refused() -> None:
    token = page_tokens.encode(TimelineCursor(datetime.now(UTC), uuid4()), "q1")
    with pytest.raises(InvalidInputError) as raised:
        page_tokens.decode(token, "q2")
    assert raised.value.reason == "PAGE_TOKEN_QUERY_MISMATCH"


def forged(time: object, entry: object = "0" * 32) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(
        json.dumps({"t": time, "e": entry, "q": "q1"}).encode()
    ).decode()


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "e30=",
        "!!!",
        forged("0001-01-01T00:00:00+01:00"),
        forged("2026-01-01T00:00:00"),
        forged(12),
        forged("2026-01-01T00:00:00+00:00", entry=7),
    ],
)
def test_a_forged_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        page_tokens.decode(token, "q1")
    assert raised.value.reason == "INVALID_PAGE_TOKEN"


@pytest.mark.parametrize("name", ["a\u0000b", "\ud800", "x" * 5000, 7])
def test_a_forged_name_cursor_is_refused(name: object) -> None:
    import base64
    import json

    data = json.dumps({"n": name, "c": "0" * 32, "q": "q1"}).encode()
    with pytest.raises(InvalidInputError) as raised:
        page_tokens.decode_name(base64.urlsafe_b64encode(data).decode(), "q1")
    assert raised.value.reason == "INVALID_PAGE_TOKEN"


@pytest.mark.parametrize(
    "raw",
    [b"[" * 1000, b'{"q": ' + b"[" * 100_000, b'["q"]', b'"q"', b"7", b"null"],
    ids=["nested", "nested under a key", "a list", "a string", "a number", "null"],
)
def test_a_token_that_is_not_our_json_object_is_refused(raw: bytes) -> None:
    import base64

    token = base64.urlsafe_b64encode(raw).decode()
    for decode in (page_tokens.decode, page_tokens.decode_name):
        with pytest.raises(InvalidInputError) as raised:
            decode(token, "q1")
        assert raised.value.reason == "INVALID_PAGE_TOKEN"
