"""The README's request-level limits, at their boundaries, as a client meets them. The
figures are written out as the README publishes them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from crm.v1 import channel_pb2, customer_pb2, identity_pb2, interaction_pb2, note_pb2
from crm.v1 import customer_history_service_pb2 as pb
from google.protobuf import duration_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import ErrorDetails, email_interaction, record_by_email

SERVICE_METADATA = (("x-crm-actor", "service:limits-test"),)


def refused_fields(call: Any, request: Any) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as raised:
        call(request, metadata=AGENT_METADATA, timeout=30)
    error = ErrorDetails(raised.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    return error.fields


def test_a_request_id_may_have_128_characters_not_129(stub: Any) -> None:
    customer = record_by_email(stub, random_refs.email()).interaction.customer
    writes: list[tuple[Any, Callable[[str], Any]]] = [
        (
            stub.RecordInteraction,
            lambda rid: pb.RecordInteractionRequest(
                customer=customer, interaction=email_interaction(), request_id=rid
            ),
        ),
        (
            stub.CreateCustomer,
            lambda rid: pb.CreateCustomerRequest(customer=customer_pb2.Customer(), request_id=rid),
        ),
        (
            stub.AddNote,
            lambda rid: pb.AddNoteRequest(
                customer=customer, note=note_pb2.Note(text="hi"), request_id=rid
            ),
        ),
    ]
    for call, build in writes:
        longest = (random_refs.request_id() * 4)[:128]
        call(build(longest), metadata=AGENT_METADATA, timeout=30)
        assert refused_fields(call, build("r" * 129)) == {"request_id": "INVALID_REQUEST_ID"}


def call_of(seconds: int) -> pb.RecordInteractionRequest:
    return pb.RecordInteractionRequest(
        identity=identity_pb2.Identity(email=random_refs.email()),
        interaction=email_interaction(
            channel=channel_pb2.CHANNEL_PHONE,
            phone_call=interaction_pb2.PhoneCallDetails(
                duration=duration_pb2.Duration(seconds=seconds)
            ),
        ),
    )


def test_a_call_may_last_0_to_86400_seconds(stub: Any) -> None:
    missed = stub.RecordInteraction(call_of(0), metadata=AGENT_METADATA, timeout=30)
    assert missed.interaction.phone_call.HasField("duration")
    assert missed.interaction.phone_call.duration.seconds == 0
    stub.RecordInteraction(call_of(86_400), metadata=AGENT_METADATA, timeout=30)
    assert refused_fields(stub.RecordInteraction, call_of(86_401)) == {
        "interaction.phone_call.duration": "INVALID_DURATION"
    }


def test_a_customer_may_be_created_with_100_identities_not_101(stub: Any) -> None:
    def create(count: int) -> pb.CreateCustomerRequest:
        prefix = random_refs.suffix()
        return pb.CreateCustomerRequest(
            customer=customer_pb2.Customer(
                identities=[
                    identity_pb2.Identity(chat_visitor_id=f"{prefix}-{i}") for i in range(count)
                ]
            )
        )

    created = stub.CreateCustomer(create(100), metadata=AGENT_METADATA, timeout=30)
    assert len(created.customer.identities) == 100
    assert refused_fields(stub.CreateCustomer, create(101)) == {"identities": "TOO_MANY_IDENTITIES"}


def imported(email: str, count: int) -> pb.ImportInteractionsRequest:
    start = datetime.now(UTC) - timedelta(days=1)
    records = []
    for index in range(count):
        when = Timestamp()
        when.FromDatetime(start + timedelta(seconds=index))
        records.append(
            pb.RecordInteractionRequest(
                identity=identity_pb2.Identity(email=email),
                interaction=email_interaction(
                    external_id=f"limits-{random_refs.suffix()}", occurred_time=when
                ),
            )
        )
    return pb.ImportInteractionsRequest(interactions=records)


def test_a_timeline_page_holds_50_by_default_and_at_most_500(stub: Any) -> None:
    email = random_refs.email()
    report = stub.ImportInteractions(imported(email, 501), metadata=SERVICE_METADATA, timeout=120)
    assert report.imported_count == 501
    customer = stub.FindCustomerByIdentity(
        pb.FindCustomerByIdentityRequest(identity=identity_pb2.Identity(email=email)), timeout=30
    ).customer.name
    position = report.commit_position

    def page(size: int) -> pb.GetTimelineResponse:
        request = pb.GetTimelineRequest(customer=customer, page_size=size, min_position=position)
        response: pb.GetTimelineResponse = stub.GetTimeline(request, timeout=60)
        return response

    assert len(page(0).entries) == 50
    assert len(page(499).entries) == 499
    assert len(page(500).entries) == 500
    largest = page(501)
    assert len(largest.entries) == 500
    assert largest.next_page_token
    assert refused_fields(
        stub.GetTimeline, pb.GetTimelineRequest(customer=customer, page_size=-1)
    ) == {"page_size": "INVALID_PAGE_SIZE"}


def test_a_name_search_holds_20_by_default_and_at_most_100(stub: Any) -> None:
    word = f"quokka{random_refs.suffix()}"
    position = 0
    for index in range(101):
        created = stub.CreateCustomer(
            pb.CreateCustomerRequest(
                customer=customer_pb2.Customer(display_name=f"{word} member{index:03d}")
            ),
            metadata=AGENT_METADATA,
            timeout=30,
        )
        position = created.commit_position

    def found(size: int) -> int:
        request = pb.SearchCustomersRequest(name=word, page_size=size, min_position=position)
        return len(stub.SearchCustomers(request, timeout=60).customers)

    assert [found(0), found(100), found(101)] == [20, 100, 100]


def test_a_name_search_may_have_8_words_and_200_characters(stub: Any) -> None:
    def search(name: str) -> Any:
        return stub.SearchCustomers(pb.SearchCustomersRequest(name=name), timeout=30)

    search(" ".join(f"w{n}" for n in range(8)))
    search("a" * 200)
    for name in [" ".join(f"w{n}" for n in range(9)), "a" * 201]:
        assert refused_fields(stub.SearchCustomers, pb.SearchCustomersRequest(name=name)) == {
            "name": "SEARCH_TOO_LONG"
        }
    assert refused_fields(stub.SearchCustomers, pb.SearchCustomersRequest(name="\u200b !")) == {
        "name": "EMPTY_SEARCH"
    }
