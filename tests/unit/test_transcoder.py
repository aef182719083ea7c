from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from uuid import uuid4

from services.crm.domain.channels import (
    Channel,
    ChatDetails,
    ChatMessage,
    ChatSpeaker,
    SocialDetails,
    SocialVisibility,
)
from services.crm.domain.identity import Identity
from services.crm.domain.interaction import InteractionContent, InteractionRecord
from services.crm.domain.profile import CustomerProfile
from services.crm.transcoder import crm_transcoder, fingerprint, plain
from tests.builders import content


def test_stored_values_come_back_equal_with_their_enums_and_tuples() -> None:
    transcoder = crm_transcoder()
    chat = content(
        channel=Channel.CHAT,
        tags=("billing", "urgent"),
        details=ChatDetails(
            (ChatMessage(ChatSpeaker.CUSTOMER, datetime(2026, 1, 2, tzinfo=UTC), "hi"),)
        ),
    )
    recorded = InteractionRecord(
        uuid4(), uuid4(), chat, Identity.chat_visitor("v-1"), "agent:a", datetime.now(UTC)
    )
    decoded = transcoder.decode(transcoder.encode(recorded))
    assert decoded == recorded
    assert decoded.content.channel is Channel.CHAT
    assert decoded.content.details.messages[0].speaker is ChatSpeaker.CUSTOMER


def test_attribute_keys_that_look_like_tagged_values_come_back_as_plain_text() -> None:
    transcoder = crm_transcoder()
    profile = CustomerProfile(attributes={"_type_": "crm.Identity", "_data_": "x", "tier": "gold"})
    assert transcoder.decode(transcoder.encode(profile)) == profile


def test_fingerprints_ignore_the_order_of_attributes() -> None:
    first = CustomerProfile(attributes={"a": "1", "b": "2"})
    second = CustomerProfile(attributes={"b": "2", "a": "1"})
    assert fingerprint(first) == fingerprint(second) != fingerprint(CustomerProfile())


def test_stored_facts_are_not_validated_again_when_read() -> None:
    transcoder = crm_transcoder()
    social = content(
        channel=Channel.SOCIAL,
        details=SocialDetails("x", SocialVisibility.PUBLIC, "https://x.test/1"),
    )
    stored = transcoder.encode(social).replace(
        b'"summary":"synthetic', b'"summary":"' + b"s" * 2000
    )
    decoded = transcoder.decode(stored)
    assert isinstance(decoded, InteractionContent)
    assert len(decoded.summary) > 2000


def test_plain_copies_give_the_fingerprints_asdict_gave() -> None:
    chat = content(
        channel=Channel.CHAT,
        tags=("billing", "urgent"),
        details=ChatDetails(
            (
                ChatMessage(ChatSpeaker.CUSTOMER, datetime(2026, 1, 2, tzinfo=UTC), "hi"),
                ChatMessage(ChatSpeaker.AGENT, None, "hello"),
            )
        ),
    )
    profile = CustomerProfile(display_name="Zoë", attributes={"tier": "gold"}, tags=("vip",))

    for value in (chat, profile, content()):
        assert plain(value) == dataclasses.asdict(value)
        assert fingerprint(plain(value)) == fingerprint(dataclasses.asdict(value))
