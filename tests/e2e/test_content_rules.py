"""What counts as content, which numbers and addresses customers may have, and language
tags: each rule as a client meets it over gRPC."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import customer_pb2, identity_pb2, note_pb2

from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import (
    ErrorDetails,
    chat_interaction,
    email_interaction,
    record_by_email,
)

INVALID = grpc.StatusCode.INVALID_ARGUMENT
# Each displays as nothing: zero-width space, Hangul fillers, blank braille, word joiner.
SAYS_NOTHING = ["\u200b", "\u3164", "\u2800", "\u115f\u1160", "\uffa0", " \u2060 ", "\ufeff"]
DRAMA_MOBILE = "+44 7700 900123"  # Ofcom's drama range: possible, in no allocated range.


def refused(call: Any, request: Any) -> ErrorDetails:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, metadata=AGENT_METADATA, timeout=30)
    return ErrorDetails(raised.value)


@pytest.mark.parametrize("blank", ["\u200b", "   "])
def test_a_transcript_that_says_nothing_is_refused_like_an_empty_summary(
    blank: str, stub: Any
) -> None:
    request = pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(email=random_refs.email()),
        interaction=chat_interaction(blank, blank),
    )
    error = refused(stub.RecordInteraction, request)
    assert error.fields == {
        "interaction.body": "EMPTY_INTERACTION",
        "interaction.chat.messages[0].text": "INVALID_CHAT_MESSAGE",
        "interaction.chat.messages[1].text": "INVALID_CHAT_MESSAGE",
    }


@pytest.mark.parametrize("blank", SAYS_NOTHING)
def test_characters_that_display_as_nothing_are_not_content(blank: str, stub: Any) -> None:
    recording = pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(email=random_refs.email()),
        interaction=email_interaction(summary=blank, body=blank),
    )
    assert refused(stub.RecordInteraction, recording).fields == {
        "interaction.body": "EMPTY_INTERACTION"
    }
    customer = record_by_email(stub, random_refs.email()).interaction.customer
    note = pb.AddNoteRequest(customer=customer, note=note_pb2.Note(text=blank))
    assert refused(stub.AddNote, note).fields == {"note.text": "EMPTY_NOTE"}
    named = pb.CreateCustomerRequest(customer=customer_pb2.Customer(display_name=blank))
    assert refused(stub.CreateCustomer, named).fields == {
        "customer.display_name": "BLANK_DISPLAY_NAME"
    }
    visitor = pb.CreateCustomerRequest(
        customer=customer_pb2.Customer(identities=[identity_pb2.Identity(chat_visitor_id=blank)])
    )
    assert refused(stub.CreateCustomer, visitor).fields == {
        "customer.identities[0].chat_visitor_id": "INVALID_CHAT_VISITOR_ID"
    }


def test_a_possible_number_is_accepted_with_a_warning_on_every_write_that_takes_it(
    stub: Any,
) -> None:
    phone = identity_pb2.Identity(phone=DRAMA_MOBILE)
    recorded = stub.RecordInteraction(
        pb.RecordInteractionRequest(identity=phone, interaction=email_interaction()),
        metadata=AGENT_METADATA,
    )
    assert [(w.code, w.field) for w in recorded.warnings] == [
        ("UNKNOWN_PHONE_RANGE", "identity.phone")
    ]
    found = stub.FindCustomerByIdentity(
        pb.FindCustomerByIdentityRequest(identity=identity_pb2.Identity(phone="+447700900123"))
    )
    assert found.customer.name == recorded.interaction.customer
    assert [i.phone for i in found.customer.identities] == ["+447700900123"]

    other = identity_pb2.Identity(phone="+44 7700 900456")
    created = stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=customer_pb2.Customer(
                identities=[identity_pb2.Identity(email=random_refs.email()), other]
            )
        ),
        metadata=AGENT_METADATA,
    )
    assert [(w.code, w.field) for w in created.warnings] == [
        ("UNKNOWN_PHONE_RANGE", "customer.identities[1].phone")
    ]
    linked = stub.LinkIdentity(
        pb.LinkIdentityRequest(
            customer=created.customer.name,
            identity=identity_pb2.Identity(phone="+44 7700 900789"),
            reason="second mobile",
        ),
        metadata=AGENT_METADATA,
    )
    assert [(w.code, w.field) for w in linked.warnings] == [
        ("UNKNOWN_PHONE_RANGE", "identity.phone")
    ]


def test_a_number_in_an_allocated_range_has_no_warning(stub: Any) -> None:
    recorded = stub.RecordInteraction(
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(phone=random_refs.phone()),
            interaction=email_interaction(),
        ),
        metadata=AGENT_METADATA,
    )
    assert list(recorded.warnings) == []


@pytest.mark.parametrize("phone", ["+44 20", "+44 7700 900123 4567 89", "+1 23"])
def test_an_impossible_number_is_refused(phone: str, stub: Any) -> None:
    request = pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(phone=phone), interaction=email_interaction()
    )
    assert refused(stub.RecordInteraction, request).fields == {
        "identity.phone": "INVALID_PHONE_NUMBER"
    }


def test_an_email_of_251_characters_is_refused(stub: Any) -> None:
    domain = ".".join(["d" * 60] * 3) + ".com"  # 187 characters, each label allowed
    email = "a" * 64 + "@" + domain
    assert len(email) == 251
    request = pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(email=email), interaction=email_interaction()
    )
    assert refused(stub.RecordInteraction, request).fields == {"identity.email": "INVALID_EMAIL"}


@pytest.mark.parametrize("code", ["en\n", "english!", "en_GB", "en-", "e", "en-GB-", "12"])
def test_a_language_code_that_is_no_bcp47_tag_is_refused(code: str, stub: Any) -> None:
    request = pb.CreateCustomerRequest(customer=customer_pb2.Customer(language_code=code))
    error = refused(stub.CreateCustomer, request)
    assert error.code == INVALID
    # "en\n" is stopped at the edge for its line feed, before the tag is read.
    expected = "CONTROL_CHARACTER" if "\n" in code else "INVALID_LANGUAGE_CODE"
    assert error.fields == {"customer.language_code": expected}


@pytest.mark.parametrize("code", ["en", "en-GB", "zh-Hant-TW", "es-419", "sr-Latn-RS"])
def test_bcp47_language_tags_are_kept_as_given(code: str, stub: Any) -> None:
    created = stub.CreateCustomer(
        pb.CreateCustomerRequest(customer=customer_pb2.Customer(language_code=code)),
        metadata=AGENT_METADATA,
    )
    assert created.customer.language_code == code


@pytest.mark.parametrize(
    ("identity", "field", "reason"),
    [
        (
            identity_pb2.Identity(social=identity_pb2.SocialHandle(platform="x", handle="@")),
            "identity.social.handle",
            "INVALID_SOCIAL_HANDLE",
        ),
        (
            identity_pb2.Identity(social=identity_pb2.SocialHandle(platform=" ", handle="ada")),
            "identity.social.platform",
            "INVALID_SOCIAL_PLATFORM",
        ),
        (
            identity_pb2.Identity(external=identity_pb2.ExternalReference(system="erp", id=" ")),
            "identity.external.id",
            "INVALID_EXTERNAL_ID",
        ),
        (
            identity_pb2.Identity(external=identity_pb2.ExternalReference(system="", id="42")),
            "identity.external.system",
            "INVALID_EXTERNAL_SYSTEM",
        ),
    ],
)
def test_blank_handles_platforms_and_external_ids_are_refused(
    identity: identity_pb2.Identity, field: str, reason: str, stub: Any
) -> None:
    request = pb.RecordInteractionRequest(identity=identity, interaction=email_interaction())
    assert refused(stub.RecordInteraction, request).fields == {field: reason}
