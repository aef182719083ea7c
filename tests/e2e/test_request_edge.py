"""The input edge: bytes that are no request, control characters in any string field,
forged page tokens; each refused as INVALID_ARGUMENT with a reason, storing nothing."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import customer_pb2, identity_pb2, interaction_pb2, note_pb2

from services.crm.server import RunningService
from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import (
    ErrorDetails,
    chat_interaction,
    email_interaction,
    record_by_email,
)
from tests.e2e.server_process import ServerProcess

INVALID = grpc.StatusCode.INVALID_ARGUMENT
SERVICE = "/crm.v1.CustomerHistoryService"


def not_utf8(message: Any) -> bytes:
    """The message with its "AAAA" string replaced by bytes that are not UTF-8."""
    return bytes(message.SerializeToString().replace(b"AAAA", b"\xff\xfe\xc0\x80"))


NOT_UTF8 = {
    "RecordInteraction": not_utf8(
        pb.RecordInteractionRequest(interaction=email_interaction(summary="AAAA"))
    ),
    "CreateCustomer": not_utf8(
        pb.CreateCustomerRequest(customer=customer_pb2.Customer(display_name="AAAA"))
    ),
    "WatchTimeline": not_utf8(pb.WatchTimelineRequest(customer="AAAA")),
}
TRUNCATED = pb.RecordInteractionRequest(
    identity=identity_pb2.Identity(email="ada@example.com"), interaction=email_interaction()
).SerializeToString()[:-5]
BROKEN = {
    "a truncated field": TRUNCATED,
    "a field of an impossible wire type": b"\x0f\x01",
    "random bytes": bytes(range(256)),
}


def call_raw(channel: grpc.Channel, method: str, payload: bytes, streaming: bool) -> None:
    """Sends bytes as they are, as a client with another protobuf library might."""
    identity: Callable[[bytes], bytes] = lambda data: data  # noqa: E731
    if streaming:
        stream = channel.unary_stream(
            f"{SERVICE}/{method}", request_serializer=identity, response_deserializer=identity
        )
        list(stream(payload, metadata=(*AGENT_METADATA, ("x-request-id", "raw-42")), timeout=30))
    else:
        unary = channel.unary_unary(
            f"{SERVICE}/{method}", request_serializer=identity, response_deserializer=identity
        )
        unary(payload, metadata=(*AGENT_METADATA, ("x-request-id", "raw-42")), timeout=30)


def test_undecodable_request_bytes_are_invalid_arguments_with_a_reason_and_the_request_id(
    database_url: str, start_server: Callable[[str], ServerProcess]
) -> None:
    server = start_server(database_url)
    calls = [("RecordInteraction", False), ("CreateCustomer", False), ("WatchTimeline", True)]
    for method, streaming in calls:
        for case, payload in {"invalid UTF-8": NOT_UTF8[method], **BROKEN}.items():
            with pytest.raises(grpc.RpcError) as raised:
                call_raw(server.channel, method, payload, streaming)
            error = ErrorDetails(raised.value)
            assert (error.code, error.reason) == (INVALID, "MALFORMED_REQUEST"), (case, method)
            assert dict(raised.value.trailing_metadata())["x-request-id"] == "raw-42"
    # The service is still fine and recorded nothing: the first customer is new.
    assert record_by_email(server.stub, random_refs.email()).customer_created


def test_a_nul_in_a_display_name_is_refused_and_stores_nothing(
    stub: Any, service: RunningService
) -> None:
    log_end = service.app.recorder.max_notification_id()
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateCustomer(
            pb.CreateCustomerRequest(customer=customer_pb2.Customer(display_name="Ada\0Lovelace")),
            metadata=AGENT_METADATA,
        )
    error = ErrorDetails(raised.value)
    assert (error.code, error.reason) == (INVALID, "CONTROL_CHARACTER")
    assert error.fields == {"customer.display_name": "CONTROL_CHARACTER"}
    assert service.app.recorder.max_notification_id() == log_end


def test_every_string_field_with_a_control_character_is_named_at_once(stub: Any) -> None:
    customer = customer_pb2.Customer(
        display_name="Ada\x1b[31m",
        language_code="en\n",
        attributes={"tier": "gold\x00", "note": "two\nlines are fine"},
        tags=["vip", "bad\ttag"],
        identities=[
            identity_pb2.Identity(email=random_refs.email()),
            identity_pb2.Identity(chat_visitor_id="visitor\x00"),
            identity_pb2.Identity(external=identity_pb2.ExternalReference(system="erp", id="\x85")),
            identity_pb2.Identity(
                social=identity_pb2.SocialHandle(platform="x", handle="@ada\x7f")
            ),
        ],
    )
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateCustomer(
            pb.CreateCustomerRequest(customer=customer, request_id="r\r"),
            metadata=AGENT_METADATA,
        )
    assert ErrorDetails(raised.value).fields == {
        "customer.display_name": "CONTROL_CHARACTER",
        "customer.language_code": "CONTROL_CHARACTER",
        "customer.attributes[tier]": "CONTROL_CHARACTER",
        "customer.tags[1]": "CONTROL_CHARACTER",
        "customer.identities[1].chat_visitor_id": "CONTROL_CHARACTER",
        "customer.identities[2].external.id": "CONTROL_CHARACTER",
        "customer.identities[3].social.handle": "CONTROL_CHARACTER",
        "request_id": "CONTROL_CHARACTER",
    }


def test_a_control_character_in_an_attribute_key_is_refused_without_echoing_the_key(
    stub: Any,
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.CreateCustomer(
            pb.CreateCustomerRequest(customer=customer_pb2.Customer(attributes={"ti\0er": "x"})),
            metadata=AGENT_METADATA,
        )
    assert ErrorDetails(raised.value).fields == {"customer.attributes": "CONTROL_CHARACTER"}


def test_chat_text_may_hold_tabs_and_line_breaks_but_no_other_control_character(
    stub: Any,
) -> None:
    visitor = identity_pb2.Identity(chat_visitor_id=f"visitor-{random_refs.suffix()}")
    accepted = stub.RecordInteraction(
        pb.RecordInteractionRequest(
            identity=visitor, interaction=chat_interaction("hello", "line one\r\nline two", "a\tb")
        ),
        metadata=AGENT_METADATA,
    )
    assert [m.text for m in accepted.interaction.chat.messages][1] == "line one\r\nline two"
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(
            pb.RecordInteractionRequest(
                identity=visitor,
                interaction=chat_interaction("hello", "fine", "bell\x07", "nul\x00"),
            ),
            metadata=AGENT_METADATA,
        )
    assert ErrorDetails(raised.value).fields == {
        "interaction.chat.messages[2].text": "CONTROL_CHARACTER",
        "interaction.chat.messages[3].text": "CONTROL_CHARACTER",
    }


@pytest.mark.parametrize(
    ("interaction", "field"),
    [
        (email_interaction(external_id="call\x001"), "interaction.external_id"),
        (
            email_interaction(email=interaction_pb2.EmailDetails(subject="Re:\nBcc: x")),
            "interaction.email.subject",
        ),
        (email_interaction(summary="bad\x00summary"), "interaction.summary"),
        (email_interaction(body="nul\x00body"), "interaction.body"),
    ],
)
def test_a_recording_with_a_control_character_is_refused(
    interaction: interaction_pb2.Interaction, field: str, stub: Any
) -> None:
    request = pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(email=random_refs.email()), interaction=interaction
    )
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(request, metadata=AGENT_METADATA)
    assert ErrorDetails(raised.value).fields == {field: "CONTROL_CHARACTER"}


def test_a_note_may_span_lines(stub: Any) -> None:
    customer = record_by_email(stub, random_refs.email()).interaction.customer
    added = stub.AddNote(
        pb.AddNoteRequest(
            customer=customer, note=note_pb2.Note(text="Called twice.\n\tPrefers email.")
        ),
        metadata=AGENT_METADATA,
    )
    assert added.note.text == "Called twice.\n\tPrefers email."


@pytest.mark.parametrize(
    "token",
    [
        base64.urlsafe_b64encode(b"[" * 1000).decode(),
        base64.urlsafe_b64encode(b'{"q": ' + b"[" * 100_000).decode(),
        base64.urlsafe_b64encode(b'["q"]').decode(),
        "A" * 20_000,
    ],
    ids=["nested arrays", "nested under a key", "a list", "oversized"],
)
def test_a_forged_page_token_is_an_invalid_argument_not_a_crash(token: str, stub: Any) -> None:
    customer = record_by_email(stub, random_refs.email()).interaction.customer
    for call, request in [
        (stub.GetTimeline, pb.GetTimelineRequest(customer=customer, page_token=token)),
        (stub.SearchCustomers, pb.SearchCustomersRequest(name="ada", page_token=token)),
    ]:
        with pytest.raises(grpc.RpcError) as raised:
            call(request, timeout=30)
        error = ErrorDetails(raised.value)
        assert (error.code, error.fields) == (INVALID, {"page_token": "INVALID_PAGE_TOKEN"})


def test_an_imported_record_with_a_control_character_fails_alone(stub: Any) -> None:
    def record(external_id: str, body: str) -> pb.RecordInteractionRequest:
        request = pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(email=random_refs.email()),
            interaction=email_interaction(external_id=external_id, body=body),
        )
        request.interaction.occurred_time.FromSeconds(1_700_000_000)
        return request

    suffix = random_refs.suffix()
    report = stub.ImportInteractions(
        pb.ImportInteractionsRequest(
            interactions=[
                record(f"a-{suffix}", "fine"),
                record(f"b-{suffix}", "nul\x00"),
                record(f"c-{suffix}", "also\nfine"),
            ]
        ),
        metadata=(("x-crm-actor", "service:legacy-import"),),
        timeout=60,
    )
    assert report.imported_count == 2
    [failure] = report.failures
    assert (failure.index, failure.reason) == (1, "CONTROL_CHARACTER")
    assert [(v.field, v.reason) for v in failure.field_violations] == [
        ("interaction.body", "CONTROL_CHARACTER")
    ]
