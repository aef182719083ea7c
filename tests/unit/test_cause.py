"""Actors: 'agent:' or 'service:' and the subject percent-encoded, as the README states."""

from __future__ import annotations

import pytest

from services.crm.domain.cause import Cause
from services.crm.domain.errors import InvalidInputError


@pytest.mark.parametrize(
    "actor",
    [
        "agent:alice",
        "service:legacy-import",
        "agent:dev.agent_1~x@example.com",
        "agent:auth0%7C5f7c8ec7c33c6c004bbafe82",
        "agent:alice%2Bsupport@example.com",
        "agent:Jane%20Doe",
        "agent:Zo%C3%AB",
        "agent:a%00b",
        "service:" + "x" * 255,
        "agent:" + "%C3%BC" * 255,
    ],
)
def test_actors_with_any_subject_encoded_up_to_255_characters_are_accepted(actor: str) -> None:
    assert Cause(actor=actor, correlation_id="r").actor == actor


@pytest.mark.parametrize(
    "actor",
    [
        "alice",
        "human:alice",
        "agent:",
        "agent:Jane Doe",  # not encoded
        "agent:auth0|5f7c",  # not encoded
        "agent:Zoë",  # not ASCII
        "agent:Zo%c3%ab",  # lower-case hex: one subject, one spelling
        "agent:%61lice",  # an encoded letter that travels as it is
        "agent:%FF",  # not UTF-8
        "agent:%4",  # a broken escape
        "service:" + "x" * 256,
        "agent:" + "%C3%BC" * 256,
    ],
)
def test_other_actors_are_invalid_actor(actor: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Cause(actor=actor, correlation_id="r")
    assert raised.value.reason == "INVALID_ACTOR"
