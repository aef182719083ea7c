"""Every bad input gets a clear status, an ErrorInfo reason and field violations, and
stores nothing."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from crm.v1 import channel_pb2, customer_pb2, identity_pb2, interaction_pb2, note_pb2
from crm.v1 import customer_history_service_pb2 as pb
from google.protobuf import duration_pb2

from services.crm.domain.interaction import MAX_BODY_BYTES
from services.crm.server import RunningService
from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import ErrorDetails, email_interaction, record_by_email

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def by_email(email: str = "ada@example.com", **overrides: Any) -> pb.RecordInteractionRequest:
    return pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(email=email), interaction=email_interaction(**overrides)
    )


BAD_RECORDINGS = {
    "malformed email": (by_email("ada@@example"), INVALID, "INVALID_EMAIL", "identity.email"),
    "unparsable phone": (
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(phone="+44 12"), interaction=email_interaction()
        ),
        INVALID,
        "INVALID_PHONE_NUMBER",
        "identity.phone",
    ),
    "unknown channel": (by_email(channel=42), INVALID, "UNKNOWN_CHANNEL", "interaction.channel"),
    "missing channel": (by_email(channel=0), INVALID, "CHANNEL_REQUIRED", "interaction.channel"),
    "empty body": (
        by_email(summary=" ", body=""),
        INVALID,
        "EMPTY_INTERACTION",
        "interaction.body",
    ),
    "oversized body": (
        by_email(body="x" * (MAX_BODY_BYTES + 1)),
        INVALID,
        "BODY_TOO_LARGE",
        "interaction.body",
    ),
    "details of another channel": (
        by_email(phone_call=interaction_pb2.PhoneCallDetails(disposition="resolved")),
        INVALID,
        "DETAILS_DO_NOT_MATCH_CHANNEL",
        "interaction.details",
    ),
    "no target": (
        pb.RecordInteractionRequest(interaction=email_interaction()),
        INVALID,
        "TARGET_REQUIRED",
        "target",
    ),
    "malformed customer name": (
        pb.RecordInteractionRequest(customer="people/1", interaction=email_interaction()),
        INVALID,
        "INVALID_CUSTOMER_NAME",
        "customer",
    ),
    "unknown customer": (
        pb.RecordInteractionRequest(
            customer=f"customers/{uuid.uuid4()}", interaction=email_interaction()
        ),
        grpc.StatusCode.NOT_FOUND,
        "CUSTOMER_NOT_FOUND",
        None,
    ),
}


@pytest.mark.parametrize("case", BAD_RECORDINGS.keys())
def test_a_bad_recording_is_refused_clearly_and_stores_nothing(
    case: str, stub: Any, service: RunningService
) -> None:
    request, code, reason, field = BAD_RECORDINGS[case]
    log_end = service.app.recorder.max_notification_id()
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(request, metadata=AGENT_METADATA, timeout=30)
    error = ErrorDetails(raised.value)
    assert (error.code, error.reason) == (code, reason)
    if field:
        assert error.fields[field] == reason
    assert service.app.recorder.max_notification_id() == log_end


def test_an_error_keeps_the_request_id_for_support(stub: Any) -> None:
    metadata = (*AGENT_METADATA, ("x-request-id", "support-ticket-42"))
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(by_email("nope"), metadata=metadata)
    trailers = dict(raised.value.trailing_metadata())
    assert trailers["x-request-id"] == "support-ticket-42"
    assert ErrorDetails(raised.value).reason == "INVALID_EMAIL"


@pytest.mark.parametrize(
    ("interaction", "field", "reason"),
    [
        (
            email_interaction(
                channel=channel_pb2.CHANNEL_PHONE,
                phone_call=interaction_pb2.PhoneCallDetails(
                    duration=duration_pb2.Duration(seconds=2**62)
                ),
            ),
            "interaction.phone_call.duration",
            "INVALID_DURATION",
        ),
        (
            email_interaction(
                channel=channel_pb2.CHANNEL_PHONE,
                phone_call=interaction_pb2.PhoneCallDetails(
                    duration=duration_pb2.Duration(seconds=5, nanos=-3)
                ),
            ),
            "interaction.phone_call.duration",
            "INVALID_DURATION",
        ),
        (
            email_interaction(summary="\u200b"),
            "interaction.body",
            "EMPTY_INTERACTION",
        ),
    ],
)
def test_out_of_range_values_are_invalid_arguments_not_crashes(
    interaction: Any, field: str, reason: str, stub: Any
) -> None:
    request = pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(email=random_refs.email()), interaction=interaction
    )
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(request, metadata=AGENT_METADATA)
    error = ErrorDetails(raised.value)
    assert (error.code, error.fields.get(field)) == (INVALID, reason)


def test_attribute_keys_that_look_like_internal_markers_are_stored_as_given(stub: Any) -> None:
    attributes = {"_type_": "crm.Identity", "_data_": "x"}
    created = stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=customer_pb2.Customer(display_name="Ada", attributes=attributes)
        ),
        metadata=AGENT_METADATA,
    )
    fetched = stub.GetCustomer(pb.GetCustomerRequest(name=created.customer.name))
    assert dict(fetched.customer.attributes) == attributes
    timeline = stub.GetTimeline(
        pb.GetTimelineRequest(customer=created.customer.name, min_position=created.commit_position),
        timeout=30,
    )
    assert timeline.position >= created.commit_position


@pytest.mark.parametrize("name", ["customers/{x}", "customers/{X}", "customers/{x_hex}"])
def test_customer_names_must_be_canonical(name: str, stub: Any) -> None:
    raw = uuid.uuid4()
    name = name.format(x="{" + str(raw) + "}", X=str(raw).upper(), x_hex=raw.hex)
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetCustomer(pb.GetCustomerRequest(name=name))
    assert ErrorDetails(raised.value).fields == {"name": "INVALID_CUSTOMER_NAME"}


def test_a_time_window_that_ends_before_it_starts_is_refused(stub: Any) -> None:
    customer = record_by_email(stub, random_refs.email()).interaction.customer
    request = pb.GetTimelineRequest(customer=customer)
    request.start_time.FromSeconds(2_000_000_000)
    request.end_time.FromSeconds(1_000_000_000)
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetTimeline(request)
    assert ErrorDetails(raised.value).fields == {"end_time": "INVALID_TIME_RANGE"}


def test_several_problems_are_reported_in_one_answer(stub: Any) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(
            by_email("nope", channel=42, direction=0, tags=["Bad Tag"]), metadata=AGENT_METADATA
        )
    assert set(ErrorDetails(raised.value).fields) == {
        "identity.email",
        "interaction.channel",
        "interaction.direction",
        "interaction.tags[0]",
    }


def test_a_bad_email_no_channel_an_empty_summary_and_a_bad_tag_are_all_reported(
    stub: Any,
) -> None:
    request = by_email("not-an-email", channel=0, summary="", tags=["BAD TAG"])
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(request, metadata=AGENT_METADATA)
    error = ErrorDetails(raised.value)
    assert error.code == INVALID
    assert error.fields == {
        "identity.email": "INVALID_EMAIL",
        "interaction.channel": "CHANNEL_REQUIRED",
        "interaction.body": "EMPTY_INTERACTION",
        "interaction.tags[0]": "INVALID_TAG",
    }


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [((), "ACTOR_REQUIRED"), ((("x-crm-actor", "alice"),), "INVALID_ACTOR")],
)
def test_writes_without_a_valid_actor_are_unauthenticated(
    metadata: tuple[tuple[str, str], ...], reason: str, stub: Any
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(by_email(random_refs.email()), metadata=metadata)
    error = ErrorDetails(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.UNAUTHENTICATED, reason)


def test_a_page_token_from_another_query_is_refused(stub: Any) -> None:
    first = record_by_email(stub, random_refs.email())
    customer = first.interaction.customer
    for _ in range(3):
        last = stub.RecordInteraction(
            pb.RecordInteractionRequest(customer=customer, interaction=email_interaction()),
            metadata=AGENT_METADATA,
        )
    page = stub.GetTimeline(
        pb.GetTimelineRequest(customer=customer, page_size=2, min_position=last.commit_position),
        timeout=30,
    )
    assert page.next_page_token
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetTimeline(
            pb.GetTimelineRequest(
                customer=customer,
                page_size=2,
                page_token=page.next_page_token,
                channels=[channel_pb2.CHANNEL_SMS],
            )
        )
    error = ErrorDetails(raised.value)
    assert (error.code, error.fields) == (INVALID, {"page_token": "PAGE_TOKEN_QUERY_MISMATCH"})


def test_a_timeline_of_an_unknown_customer_is_not_found(stub: Any) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetTimeline(pb.GetTimelineRequest(customer=f"customers/{uuid.uuid4()}"))
    assert ErrorDetails(raised.value).reason == "CUSTOMER_NOT_FOUND"


def test_a_reused_request_id_with_other_content_is_refused(stub: Any) -> None:
    email = random_refs.email()
    request_id = random_refs.request_id()
    first = by_email(email, summary="first")
    first.request_id = request_id
    stub.RecordInteraction(first, metadata=AGENT_METADATA)
    again = stub.RecordInteraction(first, metadata=AGENT_METADATA)
    assert again.customer_created is True  # The first result, repeated.
    second = by_email(email, summary="second")
    second.request_id = request_id
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(second, metadata=AGENT_METADATA)
    assert ErrorDetails(raised.value).reason == "REQUEST_ID_REUSED"


def test_linking_an_identity_held_by_another_customer_names_the_holder(stub: Any) -> None:
    phone = random_refs.phone()
    holder = stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=customer_pb2.Customer(
                display_name="Holder", identities=[identity_pb2.Identity(phone=phone)]
            )
        ),
        metadata=AGENT_METADATA,
    ).customer
    other = stub.CreateCustomer(
        pb.CreateCustomerRequest(customer=customer_pb2.Customer(display_name="Other")),
        metadata=AGENT_METADATA,
    ).customer
    with pytest.raises(grpc.RpcError) as raised:
        stub.LinkIdentity(
            pb.LinkIdentityRequest(
                customer=other.name,
                identity=identity_pb2.Identity(phone=phone),
                reason="caller said so",
            ),
            metadata=AGENT_METADATA,
        )
    error = ErrorDetails(raised.value)
    assert error.code == grpc.StatusCode.ALREADY_EXISTS
    assert error.metadata["holder"] == holder.name


def test_a_note_with_a_bad_customer_an_empty_text_and_a_bad_request_id_reports_all_three(
    stub: Any,
) -> None:
    request = pb.AddNoteRequest(customer="people/1", note=note_pb2.Note(text=" "), request_id=" r")
    with pytest.raises(grpc.RpcError) as raised:
        stub.AddNote(request, metadata=AGENT_METADATA)
    assert ErrorDetails(raised.value).fields == {
        "customer": "INVALID_CUSTOMER_NAME",
        "note.text": "EMPTY_NOTE",
        "request_id": "INVALID_REQUEST_ID",
    }


def test_a_time_in_the_future_is_reported_with_the_other_violations(stub: Any) -> None:
    request = by_email("not-an-email", tags=["BAD TAG"])
    request.interaction.occurred_time.FromSeconds(4_000_000_000)  # In 2096.
    with pytest.raises(grpc.RpcError) as raised:
        stub.RecordInteraction(request, metadata=AGENT_METADATA)
    assert ErrorDetails(raised.value).fields == {
        "identity.email": "INVALID_EMAIL",
        "interaction.tags[0]": "INVALID_TAG",
        "interaction.occurred_time": "OCCURRED_TIME_IN_FUTURE",
    }


def test_a_reason_over_500_characters_is_reported_with_the_other_violations(stub: Any) -> None:
    too_long = "r" * 501
    requests = {
        "LinkIdentity": pb.LinkIdentityRequest(
            customer="people/1", identity=identity_pb2.Identity(email="nope"), reason=too_long
        ),
        "MergeCustomers": pb.MergeCustomersRequest(
            source="people/1", target="people/2", reason=too_long
        ),
        "UnmergeCustomer": pb.UnmergeCustomerRequest(customer="people/1", reason=too_long),
    }
    reported = {}
    for rpc, request in requests.items():
        with pytest.raises(grpc.RpcError) as raised:
            getattr(stub, rpc)(request, metadata=AGENT_METADATA)
        reported[rpc] = ErrorDetails(raised.value).fields
    assert reported == {
        "LinkIdentity": {
            "reason": "REASON_TOO_LONG",
            "customer": "INVALID_CUSTOMER_NAME",
            "identity.email": "INVALID_EMAIL",
        },
        "MergeCustomers": {
            "reason": "REASON_TOO_LONG",
            "source": "INVALID_CUSTOMER_NAME",
            "target": "INVALID_CUSTOMER_NAME",
        },
        "UnmergeCustomer": {"reason": "REASON_TOO_LONG", "customer": "INVALID_CUSTOMER_NAME"},
    }
