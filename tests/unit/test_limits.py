"""Each limit in the README's Limits table, at its boundary, both sides. The figures are
written out here as the README publishes them, never imported from the code."""

from __future__ import annotations

from collections.abc import Callable
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
)
from services.crm.domain.customer import Customer
from services.crm.domain.errors import InvalidInputError
from services.crm.domain.identity import Identity
from services.crm.domain.note import check_note_text
from services.crm.domain.profile import CustomerProfile
from tests.builders import AGENT, content


def violations(build: Callable[[], Any]) -> set[tuple[str, str]]:
    """The (field, reason) pairs a value is refused with; empty when it is accepted."""
    try:
        build()
    except InvalidInputError as error:
        return {(v.field, v.reason) for v in error.violations}
    return set()


def assert_limit(build: Callable[[int], Any], limit: int, field: str, reason: str) -> None:
    assert violations(lambda: build(limit)) == set()
    assert violations(lambda: build(limit + 1)) == {(field, reason)}


def local_part_and_domain(length: int) -> str:
    """An address of exactly `length` characters, every label within its own limit."""
    domain = ".".join(["d" * 60, "d" * 60, "d" * (length - 64 - 1 - 60 - 60 - 2 - 4)]) + ".com"
    return "a" * 64 + "@" + domain


# --- identity values: 200 characters -------------------------------------------------


def test_an_email_may_have_200_characters_not_201() -> None:
    assert len(local_part_and_domain(200)) == 200
    assert_limit(lambda n: Identity.email(local_part_and_domain(n)), 200, "email", "INVALID_EMAIL")


def test_a_chat_visitor_id_may_have_200_characters_not_201() -> None:
    assert_limit(
        lambda n: Identity.chat_visitor("v" * n),
        200,
        "chat_visitor_id",
        "INVALID_CHAT_VISITOR_ID",
    )


def test_an_external_id_of_an_identity_may_have_200_characters_not_201() -> None:
    assert_limit(
        lambda n: Identity.external("erp", "e" * n), 200, "external.id", "INVALID_EXTERNAL_ID"
    )


def test_a_social_handle_may_have_200_characters_not_201_besides_its_at_sign() -> None:
    assert_limit(
        lambda n: Identity.social("x", "@" + "h" * n),
        200,
        "social.handle",
        "INVALID_SOCIAL_HANDLE",
    )


def test_platform_and_system_names_have_1_to_32_characters() -> None:
    assert_limit(
        lambda n: Identity.social("p" * n, "ada"), 32, "social.platform", "INVALID_SOCIAL_PLATFORM"
    )
    assert_limit(
        lambda n: Identity.external("s" * n, "1"), 32, "external.system", "INVALID_EXTERNAL_SYSTEM"
    )


# --- interactions ---------------------------------------------------------------------


def test_a_summary_may_have_1000_characters_not_1001() -> None:
    assert_limit(lambda n: content(summary="s" * n), 1_000, "summary", "SUMMARY_TOO_LONG")


def test_a_body_may_have_65536_bytes_of_utf8_not_65537() -> None:
    assert_limit(lambda n: content(body="x" * n), 65_536, "body", "BODY_TOO_LARGE")
    # Two bytes each: 32,768 of them are exactly 65,536 bytes.
    assert violations(lambda: content(body="é" * 32_768)) == set()
    assert violations(lambda: content(body="é" * 32_768 + "x")) == {("body", "BODY_TOO_LARGE")}


def test_an_interaction_external_id_may_have_200_characters_not_201() -> None:
    assert_limit(lambda n: content(external_id="e" * n), 200, "external_id", "EXTERNAL_ID_TOO_LONG")


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def chat(*messages: ChatMessage) -> Any:
    return content(channel=Channel.CHAT, occurred_at=NOW, details=ChatDetails(messages))


def said(text: str, sent_at: datetime | None = None) -> ChatMessage:
    return ChatMessage(ChatSpeaker.CUSTOMER, sent_at, text)


def test_a_chat_message_may_have_4000_characters_not_4001() -> None:
    assert_limit(
        lambda n: chat(said("m" * n)), 4_000, "chat.messages[0].text", "INVALID_CHAT_MESSAGE"
    )


def test_a_chat_message_must_say_something() -> None:
    assert violations(lambda: chat(said("ok"), said(""))) == {
        ("chat.messages[1].text", "INVALID_CHAT_MESSAGE")
    }


def test_a_transcript_may_have_1000_messages_not_1001() -> None:
    assert_limit(lambda n: chat(*[said("hi")] * n), 1_000, "chat.messages", "TRANSCRIPT_TOO_LONG")


def test_a_call_may_last_from_0_to_86400_seconds() -> None:
    def call(seconds: float) -> Any:
        return content(channel=Channel.PHONE, details=PhoneCallDetails(duration_seconds=seconds))

    assert violations(lambda: call(0)) == set()  # A missed call.
    assert violations(lambda: call(86_400)) == set()
    assert violations(lambda: call(86_400.001)) == {("phone_call.duration", "INVALID_DURATION")}
    assert violations(lambda: call(-0.001)) == {("phone_call.duration", "INVALID_DURATION")}


@pytest.mark.parametrize("name", ["subject", "message_id", "in_reply_to", "thread_id"])
def test_email_detail_fields_may_have_1000_characters_not_1001(name: str) -> None:
    assert_limit(
        lambda n: content(details=EmailDetails(**{name: "m" * n})),
        1_000,
        f"email.{name}",
        "FIELD_TOO_LONG",
    )


def test_an_interaction_may_be_10_minutes_ahead_of_the_clock_not_more() -> None:
    ahead = NOW + timedelta(minutes=10)
    assert violations(lambda: content(occurred_at=ahead).check_not_in_future(NOW)) == set()
    assert violations(lambda: content(occurred_at=ahead + TICK).check_not_in_future(NOW)) == {
        ("occurred_time", "OCCURRED_TIME_IN_FUTURE")
    }


def test_a_chat_message_may_be_sent_10_minutes_ahead_of_the_clock_not_more() -> None:
    ahead = NOW + timedelta(minutes=10)
    assert violations(lambda: chat(said("hi", ahead)).check_not_in_future(NOW)) == set()
    assert violations(
        lambda: chat(said("a"), said("b", ahead + TICK)).check_not_in_future(NOW)
    ) == {("chat.messages[1].send_time", "SEND_TIME_IN_FUTURE")}


def test_an_interaction_may_happen_from_1970_on() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert violations(lambda: content(occurred_at=epoch)) == set()
    assert violations(lambda: content(occurred_at=epoch - TICK)) == {
        ("occurred_time", "OCCURRED_TIME_OUT_OF_RANGE")
    }
    assert violations(lambda: chat(said("hi", epoch))) == set()
    assert violations(lambda: chat(said("hi", epoch - TICK))) == {
        ("chat.messages[0].send_time", "SEND_TIME_OUT_OF_RANGE")
    }


# --- tags, profiles, identities per customer, notes ------------------------------------


def test_an_interaction_or_a_customer_may_have_20_tags_not_21() -> None:
    def tags(n: int) -> tuple[str, ...]:
        return tuple(f"t{i}" for i in range(n))

    assert_limit(lambda n: content(tags=tags(n)), 20, "tags", "TOO_MANY_TAGS")
    assert_limit(lambda n: CustomerProfile(tags=tags(n)), 20, "tags", "TOO_MANY_TAGS")


def test_a_tag_has_1_to_64_of_lower_case_letters_digits_and_underscore_colon_hyphen() -> None:
    assert_limit(lambda n: content(tags=("t" * n,)), 64, "tags[0]", "INVALID_TAG")
    assert violations(lambda: content(tags=("a_b:c-1",))) == set()
    for bad in ["", "A", "a b", "a.b", "é"]:
        refused = violations(lambda bad=bad: content(tags=("ok", bad)))  # type: ignore[misc]
        assert refused == {("tags[1]", "INVALID_TAG")}, bad


def test_a_display_name_may_have_200_characters_not_201() -> None:
    assert_limit(
        lambda n: CustomerProfile(display_name="n" * n),
        200,
        "display_name",
        "DISPLAY_NAME_TOO_LONG",
    )


def test_a_customer_may_have_50_attributes_not_51() -> None:
    assert_limit(
        lambda n: CustomerProfile(attributes={f"k{i}": "v" for i in range(n)}),
        50,
        "attributes",
        "TOO_MANY_ATTRIBUTES",
    )


def test_attribute_keys_have_1_to_64_characters_and_values_up_to_1000() -> None:
    key = "k" * 64
    assert_limit(
        lambda n: CustomerProfile(attributes={"k" * n: "v"}),
        64,
        f"attributes[{key}]",
        "INVALID_ATTRIBUTE",
    )
    assert violations(lambda: CustomerProfile(attributes={"": "v"})) == {
        ("attributes[]", "INVALID_ATTRIBUTE")
    }
    assert_limit(
        lambda n: CustomerProfile(attributes={"tier": "v" * n}),
        1_000,
        "attributes[tier]",
        "INVALID_ATTRIBUTE",
    )
    assert violations(lambda: CustomerProfile(attributes={"tier": ""})) == set()


def register(*identities: Identity) -> Customer:
    return Customer.register("random:limits", CustomerProfile(), identities, "f", AGENT)


def visitors(count: int) -> tuple[Identity, ...]:
    return tuple(Identity.chat_visitor(f"v{i}") for i in range(count))


def test_a_customer_is_registered_with_at_most_100_identities() -> None:
    assert_limit(lambda n: register(*visitors(n)), 100, "identities", "TOO_MANY_IDENTITIES")


def test_a_customer_may_link_up_to_100_identities() -> None:
    customer = register(*visitors(99))
    customer.link_identity(Identity.chat_visitor("the-100th"), AGENT)
    assert len(customer.identities) == 100
    assert violations(lambda: customer.link_identity(Identity.chat_visitor("101st"), AGENT)) == {
        ("identity", "TOO_MANY_IDENTITIES")
    }
    assert len(customer.identities) == 100


def test_a_note_may_have_4000_characters_not_4001() -> None:
    assert_limit(lambda n: check_note_text("n" * n), 4_000, "note.text", "NOTE_TOO_LONG")
