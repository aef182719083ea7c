from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.crm.domain.channels import (
    Channel,
    ChatDetails,
    ChatMessage,
    ChatSpeaker,
    EmailDetails,
    PhoneCallDetails,
)
from services.crm.domain.errors import InvalidInputError
from services.crm.domain.identity import Identity
from services.crm.domain.interaction import MAX_BODY_BYTES, Interaction, interaction_key
from tests.builders import AGENT, content


def reasons(error: InvalidInputError) -> set[str]:
    return {v.reason for v in error.violations}


@pytest.mark.parametrize(("summary", "body"), [("  ", ""), ("", "\n\t"), ("\u200b", "\u3000")])
def test_an_interaction_must_say_something(summary: str, body: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        content(summary=summary, body=body)
    assert reasons(raised.value) == {"EMPTY_INTERACTION"}


def test_a_chat_transcript_alone_is_enough() -> None:
    message = ChatMessage(ChatSpeaker.CUSTOMER, None, "hello?")
    chat = content(channel=Channel.CHAT, summary="", details=ChatDetails((message,)))
    assert chat.details == ChatDetails((message,))


def test_bodies_are_limited_in_utf8_bytes_not_characters() -> None:
    content(body="x" * MAX_BODY_BYTES)
    with pytest.raises(InvalidInputError) as raised:
        content(body="é" * (MAX_BODY_BYTES // 2 + 1))
    assert reasons(raised.value) == {"BODY_TOO_LARGE"}


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(InvalidInputError) as raised:
        content(summary="s" * 1001, tags=("Not A Tag",), external_id="e" * 201)
    assert reasons(raised.value) == {"SUMMARY_TOO_LONG", "INVALID_TAG", "EXTERNAL_ID_TOO_LONG"}
    assert {v.field for v in raised.value.violations} == {"summary", "tags[0]", "external_id"}


def test_details_must_match_the_channel() -> None:
    with pytest.raises(InvalidInputError) as raised:
        content(channel=Channel.SMS, details=PhoneCallDetails(duration_seconds=30))
    assert reasons(raised.value) == {"DETAILS_DO_NOT_MATCH_CHANNEL"}


def test_times_far_in_the_future_are_refused_but_the_past_is_fine() -> None:
    now = datetime.now(UTC)
    content(occurred_at=now - timedelta(days=400)).check_not_in_future(now)
    with pytest.raises(InvalidInputError) as raised:
        content(occurred_at=now + timedelta(hours=1)).check_not_in_future(now)
    assert reasons(raised.value) == {"OCCURRED_TIME_IN_FUTURE"}


def test_an_email_message_id_is_its_external_id() -> None:
    mail = content(details=EmailDetails(message_id="<m1@example.com>"))
    assert mail.idempotency_external_id == "<m1@example.com>"
    assert content(external_id="call-9").idempotency_external_id == "call-9"


def test_the_same_source_id_or_request_id_gives_the_same_interaction_id() -> None:
    by_source = interaction_key(Channel.PHONE, "call-1", "agent:a", "request-a")
    assert by_source == interaction_key(Channel.PHONE, "call-1", "agent:b", "request-b")
    assert by_source != interaction_key(Channel.SMS, "call-1", "agent:a", "request-a")
    by_request = interaction_key(Channel.PHONE, "", "agent:a", "r")
    assert by_request == interaction_key(Channel.EMAIL, "", "agent:a", "r")
    assert by_request != interaction_key(Channel.PHONE, "", "agent:b", "r")
    assert interaction_key(Channel.PHONE, "", "agent:a", "") != interaction_key(
        Channel.PHONE, "", "agent:a", ""
    )


def test_a_recorded_interaction_remembers_who_recorded_it_and_through_what() -> None:
    from uuid import uuid4

    customer_id = uuid4()
    email = Identity.email("ada@example.com")
    interaction = Interaction(
        idempotency_key="request:r1",
        customer_id=customer_id,
        content=content(),
        identity=email,
        fingerprint="f",
        customer_created=False,
        cause=AGENT,
    )
    (recorded,) = interaction.collect_events()
    assert isinstance(recorded, Interaction.Recorded)
    assert recorded.cause == AGENT
    assert interaction.identity == email
    assert interaction.id == Interaction.create_id("request:r1")


def test_chat_messages_may_not_be_sent_in_the_future_or_before_1970() -> None:
    now = datetime.now(UTC)
    late = ChatMessage(ChatSpeaker.AGENT, now + timedelta(hours=2), "from the future")
    with pytest.raises(InvalidInputError) as raised:
        content(channel=Channel.CHAT, details=ChatDetails((late,))).check_not_in_future(now)
    assert reasons(raised.value) == {"SEND_TIME_IN_FUTURE"}
    early = ChatMessage(ChatSpeaker.AGENT, datetime(1900, 1, 1, tzinfo=UTC), "too early")
    with pytest.raises(InvalidInputError) as raised:
        content(channel=Channel.CHAT, details=ChatDetails((early,)))
    assert reasons(raised.value) == {"SEND_TIME_OUT_OF_RANGE"}
