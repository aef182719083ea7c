"""Who a bearer token proves, and the tokens `make run` prints, without a server."""

from __future__ import annotations

import time

import jwt
import pytest

from services.gateway.auth import AuthenticationError, caller_from, is_actor, issue_token
from services.gateway.roles import Role

SECRET = "unit-test-signing-key-0123456789abcdef"


def bearer(subject: object) -> str:
    claims = {"sub": subject, "role": "agent", "exp": int(time.time()) + 60}
    return "Bearer " + jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.mark.parametrize("subject", ["a", "x" * 255])
def test_a_subject_of_1_to_255_characters_is_a_caller(subject: str) -> None:
    assert caller_from(bearer(subject), {}, SECRET).actor == f"agent:{subject}"


@pytest.mark.parametrize("subject", ["", "x" * 256])
def test_an_empty_subject_or_one_over_255_characters_is_refused(subject: str) -> None:
    with pytest.raises(AuthenticationError):
        caller_from(bearer(subject), {}, SECRET)


def test_an_actor_names_a_subject_of_1_to_255_characters_as_tokens_encode_it() -> None:
    assert is_actor("agent:a")
    assert is_actor("service:" + "x" * 255)
    assert is_actor("agent:Jane%20Doe")
    assert not is_actor("agent:")
    assert not is_actor("agent:" + "x" * 256)
    assert not is_actor("agent:Jane Doe")


def test_make_runs_tokens_carry_the_subject_and_last_eight_hours() -> None:
    claims = jwt.decode(issue_token("dev-agent", Role.AGENT, SECRET), SECRET, algorithms=["HS256"])

    assert claims["sub"] == "dev-agent"
    assert claims["role"] == "agent"
    assert claims["exp"] - claims["iat"] == 8 * 3600
