from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.crm.domain.channels import (
    Channel,
    ChatDetails,
    ChatMessage,
    ChatSpeaker,
    EmailDetails,
    PhoneCallDetails,
    SocialDetails,
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


def test_a_body_alone_or_a_summary_alone_is_enough() -> None:
    assert content(summary="", body="Order 42 arrived broken.").body == "Order 42 arrived broken."
    assert content(summary="Refund", body="").summary == "Refund"


def test_a_transcript_with_one_message_that_says_something_is_enough() -> None:
    messages = (
        ChatMessage(ChatSpeaker.BOT, None, "\u200b"),
        ChatMessage(ChatSpeaker.BOT, None, "hi"),
    )
    with pytest.raises(InvalidInputError) as raised:
        content(channel=Channel.CHAT, summary="", details=ChatDetails(messages))
    assert {(v.field, v.reason) for v in raised.value.violations} == {
        ("chat.messages[0].text", "INVALID_CHAT_MESSAGE")
    }


@pytest.mark.parametrize(
    ("details", "allowed"),
    [
        (PhoneCallDetails(duration_seconds=0), {Channel.PHONE, Channel.VIDEO_CALL}),
        (EmailDetails(subject="Hello"), {Channel.EMAIL}),
        (
            ChatDetails((ChatMessage(ChatSpeaker.CUSTOMER, None, "hi"),)),
            {Channel.CHAT, Channel.WHATSAPP},
        ),
        (SocialDetails(platform="x"), {Channel.SOCIAL}),
    ],
)
def test_details_belong_to_their_channels_only(details: Any, allowed: set[Channel]) -> None:
    for channel in Channel:
        if channel in allowed:
            assert content(channel=channel, details=details).details == details
        else:
            with pytest.raises(InvalidInputError) as raised:
                content(channel=channel, details=details)
            assert {(v.field, v.reason) for v in raised.value.violations} == {
                ("details", "DETAILS_DO_NOT_MATCH_CHANNEL")
            }


def test_a_missed_call_of_zero_seconds_and_a_call_of_unknown_length_are_accepted() -> None:
    for seconds in (0, None):
        call = content(channel=Channel.PHONE, details=PhoneCallDetails(duration_seconds=seconds))
        assert call.details == PhoneCallDetails(duration_seconds=seconds)


@pytest.mark.parametrize("url", ["https://x.com/ada/status/1", "http://example.com/p", ""])
def test_a_post_url_is_http_or_https(url: str) -> None:
    assert content(channel=Channel.SOCIAL, details=SocialDetails(post_url=url)).details


@pytest.mark.parametrize("url", ["ftp://example.com/p", "javascript:alert(1)", "x.com/ada"])
def test_a_post_url_of_another_scheme_is_refused(url: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        content(channel=Channel.SOCIAL, details=SocialDetails(post_url=url))
    assert {(v.field, v.reason) for v in raised.value.violations} == {
        ("social.post_url", "INVALID_URL")
    }


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(InvalidInputError) as raised:
        content(occurred_at=datetime(2026, 1, 1, 12, 0))
    assert {(v.field, v.reason) for v in raised.value.violations} == {
        ("occurred_time", "OCCURRED_TIME_OUT_OF_RANGE")
    }


def test_without_a_source_id_only_an_email_message_id_stands_in() -> None:
    assert content(details=EmailDetails()).idempotency_external_id == ""
    assert content().idempotency_external_id == ""
    call = content(channel=Channel.PHONE, details=PhoneCallDetails(recording_ref="r-1"))
    assert call.idempotency_external_id == ""
    both = content(external_id="src-1", details=EmailDetails(message_id="<m@x>"))
    assert both.idempotency_external_id == "src-1"


def test_idempotency_keys_and_interaction_ids_are_stable_across_versions() -> None:
    assert interaction_key(Channel.PHONE, "call-1", "agent:a", "r1") == "external:phone:call-1"
    assert interaction_key(Channel.PHONE, "", "agent:a", "r1") == "request:agent:a:r1"
    assert interaction_key(Channel.PHONE, "", "agent:a", "").startswith("random:")
    # Stored interactions are found again by these ids: they must never change.
    assert str(Interaction.create_id("external:phone:call-1")) == (
        "d3759d5d-4d10-5352-b0b6-56cc7e926d6e"
    )


def test_a_recorded_interaction_keeps_its_customer_and_whether_it_created_them() -> None:
    from uuid import uuid4

    customer_id = uuid4()
    interaction = Interaction(
        idempotency_key="request:r2",
        customer_id=customer_id,
        content=content(),
        identity=None,
        fingerprint="fp",
        customer_created=True,
        cause=AGENT,
    )
    assert (interaction.customer_id, interaction.customer_created) == (customer_id, True)
    assert (interaction.recorded_by, interaction.fingerprint) == ("agent:test-agent", "fp")
    assert interaction.idempotency_key == "request:r2"
