"""The identity issue's terminal story, over a real gRPC server."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import grpc
import pytest
from crm.v1 import channel_pb2, customer_pb2, identity_pb2, interaction_pb2
from crm.v1 import customer_history_service_pb2 as pb

from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import ErrorDetails, email_interaction, record, record_by_email
from tests.e2e.server_process import ServerProcess


def summaries(stub: Any, customer: str, position: int) -> list[str]:
    page = stub.GetTimeline(
        pb.GetTimelineRequest(customer=customer, min_position=position), timeout=30
    )
    return [e.interaction.summary for e in page.entries if e.WhichOneof("kind") == "interaction"]


def test_call_and_email_become_one_customer_and_split_again(stub: Any) -> None:
    phone = identity_pb2.Identity(phone=random_refs.phone())
    email = identity_pb2.Identity(email=random_refs.email())
    call = record(
        stub,
        pb.RecordInteractionRequest(
            identity=phone,
            interaction=interaction_pb2.Interaction(
                channel=channel_pb2.CHANNEL_PHONE,
                direction=channel_pb2.DIRECTION_INBOUND,
                summary="call",
            ),
        ),
    )
    mail = record(
        stub,
        pb.RecordInteractionRequest(identity=email, interaction=email_interaction(summary="email")),
    )
    caller, writer = call.interaction.customer, mail.interaction.customer
    assert caller != writer
    before = (summaries(stub, caller, mail.commit_position), summaries(stub, writer, 0))

    merged = stub.MergeCustomers(
        pb.MergeCustomersRequest(
            source=caller,
            target=writer,
            reason="same person",
            evidence="caller confirmed the email address",
        ),
        metadata=AGENT_METADATA,
    )
    assert sorted(summaries(stub, writer, merged.commit_position)) == ["call", "email"]
    redirected = stub.GetCustomer(pb.GetCustomerRequest(name=caller))
    assert (redirected.customer.name, redirected.redirected_from) == (writer, caller)
    assert list(redirected.customer.merged_from) == [caller]
    page = stub.GetTimeline(pb.GetTimelineRequest(customer=writer), timeout=30)
    merge_entries = [
        e.customer_change for e in page.entries if e.WhichOneof("kind") == "customer_change"
    ]
    assert [(c.kind, c.other_customer, c.actor, c.evidence) for c in merge_entries] == [
        (
            pb.CUSTOMER_CHANGE_KIND_MERGED_FROM,
            caller,
            "agent:test-agent",
            "caller confirmed the email address",
        ),
    ]

    split = stub.UnmergeCustomer(
        pb.UnmergeCustomerRequest(customer=caller, reason="wrong merge"), metadata=AGENT_METADATA
    )
    assert (summaries(stub, caller, split.commit_position), summaries(stub, writer, 0)) == before


def test_linking_a_held_identity_names_the_holder_and_a_tombstone_cannot_merge(stub: Any) -> None:
    phone = identity_pb2.Identity(phone=random_refs.phone())
    held_by = record(
        stub,
        pb.RecordInteractionRequest(
            identity=phone, interaction=email_interaction(channel=channel_pb2.CHANNEL_SMS)
        ),
    ).interaction.customer
    other = record(
        stub,
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(email=random_refs.email()),
            interaction=email_interaction(),
        ),
    ).interaction.customer

    with pytest.raises(grpc.RpcError) as raised:
        stub.LinkIdentity(
            pb.LinkIdentityRequest(customer=other, identity=phone), metadata=AGENT_METADATA
        )
    error = ErrorDetails(raised.value)
    assert (error.code, error.reason, error.metadata["holder"]) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "IDENTITY_ALREADY_LINKED",
        held_by,
    )

    stub.MergeCustomers(
        pb.MergeCustomersRequest(source=held_by, target=other), metadata=AGENT_METADATA
    )
    with pytest.raises(grpc.RpcError) as raised:
        stub.MergeCustomers(
            pb.MergeCustomersRequest(source=held_by, target=other), metadata=AGENT_METADATA
        )
    error = ErrorDetails(raised.value)
    assert (error.code, error.reason, error.metadata["merged_into"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "ALREADY_MERGED",
        other,
    )
    with pytest.raises(grpc.RpcError) as raised:
        stub.MergeCustomers(
            pb.MergeCustomersRequest(source=other, target=held_by), metadata=AGENT_METADATA
        )
    error = ErrorDetails(raised.value)
    assert (error.code, error.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "TARGET_MERGED_INTO_SOURCE",
    )
    with pytest.raises(grpc.RpcError) as raised:
        stub.MergeCustomers(
            pb.MergeCustomersRequest(source=other, target=other), metadata=AGENT_METADATA
        )
    assert ErrorDetails(raised.value).fields == {"target": "CANNOT_MERGE_INTO_ITSELF"}


def test_search_finds_a_phone_in_any_spelling_and_names_page_through(stub: Any) -> None:
    created = [
        stub.CreateCustomer(
            pb.CreateCustomerRequest(
                customer=customer_pb2.Customer(display_name=f"Ada Tester {n:02d}")
            ),
            metadata=AGENT_METADATA,
        )
        for n in range(7)
    ]
    holder = stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=customer_pb2.Customer(
                display_name="Phone Holder",
                identities=[identity_pb2.Identity(phone="+44 20 7946 0958")],
            )
        ),
        metadata=AGENT_METADATA,
    )
    position = holder.commit_position
    for spelling in ("+44 20 7946 0958", "0044 20 7946 0958", "+442079460958"):
        found = stub.SearchCustomers(
            pb.SearchCustomersRequest(
                identity=identity_pb2.Identity(phone=spelling), min_position=position
            ),
            timeout=30,
        )
        assert [c.name for c in found.customers] == [holder.customer.name]

    seen, token = [], ""
    while True:
        page = stub.SearchCustomers(
            pb.SearchCustomersRequest(
                name="ada TEST", page_size=3, page_token=token, min_position=position
            ),
            timeout=30,
        )
        seen += [c.display_name for c in page.customers]
        token = page.next_page_token
        if not token:
            break
    assert seen == [c.customer.display_name for c in created]

    with pytest.raises(grpc.RpcError) as raised:
        stub.SearchCustomers(pb.SearchCustomersRequest(name=" - "))
    assert ErrorDetails(raised.value).fields == {"name": "EMPTY_SEARCH"}
    with pytest.raises(grpc.RpcError) as raised:
        stub.SearchCustomers(pb.SearchCustomersRequest(name="a " * 1500), timeout=30)
    assert ErrorDetails(raised.value).fields == {"name": "SEARCH_TOO_LONG"}


def test_merge_suggestions_name_both_customers_and_the_evidence(stub: Any) -> None:
    first = stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=customer_pb2.Customer(
                display_name="Grace",
                identities=[identity_pb2.Identity(email="grace.hopper@gmail.com")],
            )
        ),
        metadata=AGENT_METADATA,
    )
    second = stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=customer_pb2.Customer(
                display_name="Grace H",
                identities=[identity_pb2.Identity(email="gracehopper+cobol@googlemail.com")],
            )
        ),
        metadata=AGENT_METADATA,
    )
    stub.SearchCustomers(
        pb.SearchCustomersRequest(name="grace", min_position=second.commit_position), timeout=30
    )
    suggestions = stub.ListMergeSuggestions(
        pb.ListMergeSuggestionsRequest(), timeout=30
    ).suggestions
    assert [(sorted(s.customers), s.rule) for s in suggestions] == [
        (sorted([first.customer.name, second.customer.name]), "SAME_MAILBOX")
    ]
    assert "gracehopper@gmail.com" in suggestions[0].evidence


def test_concurrent_unmerges_over_grpc_succeed_once_and_never_fail_inside(
    database_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    stub = start_server(database_url).stub
    source = record_by_email(stub, random_refs.email(), summary="source").interaction.customer
    target = record_by_email(stub, random_refs.email(), summary="target").interaction.customer
    rounds, racers = 10, 3
    start = Barrier(racers)

    positions: list[int] = []

    def unmerge() -> str:
        start.wait()
        try:
            done = stub.UnmergeCustomer(
                pb.UnmergeCustomerRequest(customer=source), metadata=AGENT_METADATA, timeout=30
            )
        except grpc.RpcError as error:
            details = ErrorDetails(error)
            return f"{details.code.name} {details.reason}"
        positions.append(done.commit_position)
        return "OK"

    with ThreadPoolExecutor(max_workers=racers) as pool:
        for _ in range(rounds):
            stub.MergeCustomers(
                pb.MergeCustomersRequest(source=source, target=target), metadata=AGENT_METADATA
            )
            answers = [f.result() for f in [pool.submit(unmerge) for _ in range(racers)]]
            assert answers.count("OK") == 1, answers
            assert set(answers) <= {
                "OK",
                "FAILED_PRECONDITION NOT_MERGED",
                "ABORTED CONCURRENT_UPDATE",
            }, answers

    kept = stub.GetCustomer(pb.GetCustomerRequest(name=target)).customer
    assert list(kept.merged_from) == []
    assert stub.GetCustomer(pb.GetCustomerRequest(name=source)).redirected_from == ""
    assert summaries(stub, source, max(positions)) == ["source"]
    assert summaries(stub, target, 0) == ["target"]


def call_from(stub: Any, phone: str, summary: str) -> pb.RecordInteractionResponse:
    return record(
        stub,
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(phone=phone),
            interaction=email_interaction(channel=channel_pb2.CHANNEL_PHONE, summary=summary),
        ),
    )


def unlink(
    stub: Any, customer: str, phone: str, kind: pb.UnlinkKind.ValueType
) -> pb.UnlinkIdentityResponse:
    response: pb.UnlinkIdentityResponse = stub.UnlinkIdentity(
        pb.UnlinkIdentityRequest(
            customer=customer, identity=identity_pb2.Identity(phone=phone), kind=kind
        ),
        metadata=AGENT_METADATA,
        timeout=30,
    )
    return response


def listed_identities(stub: Any, customer: str) -> list[str]:
    found = stub.GetCustomer(pb.GetCustomerRequest(name=customer), timeout=30).customer
    return [identity.phone or identity.email for identity in found.identities]


def test_a_released_number_calling_from_someone_new_shows_them_none_of_the_old_calls(
    database_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    stub = start_server(database_url).stub
    phone = random_refs.phone()
    ada = call_from(stub, phone, "Ada about her bill").interaction.customer
    assert listed_identities(stub, ada) == [phone.replace(" ", "")]

    released = unlink(stub, ada, phone, pb.UNLINK_KIND_RELEASE)
    assert list(released.customer.identities) == []
    assert listed_identities(stub, ada) == []
    new = call_from(stub, phone, "Bo, new to this number")

    bo = new.interaction.customer
    assert new.customer_created
    assert bo != ada
    assert summaries(stub, bo, new.commit_position) == ["Bo, new to this number"]
    assert summaries(stub, ada, 0) == ["Ada about her bill"]
    page = stub.GetTimeline(pb.GetTimelineRequest(customer=ada), timeout=30)
    assert [
        (e.customer_change.kind, e.customer_change.unlink_kind)
        for e in page.entries
        if e.WhichOneof("kind") == "customer_change"
    ] == [(pb.CUSTOMER_CHANGE_KIND_IDENTITY_UNLINKED, pb.UNLINK_KIND_RELEASE)]


def test_a_corrected_number_leaves_the_customer_and_takes_its_calls_to_the_right_one(
    stub: Any,
) -> None:
    phone = random_refs.phone()
    wrong = call_from(stub, phone, "the wife's call").interaction.customer
    right = record(
        stub,
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(email=random_refs.email()),
            interaction=email_interaction(summary="her email"),
        ),
    ).interaction.customer

    unlink(stub, wrong, phone, pb.UNLINK_KIND_CORRECTION)
    assert listed_identities(stub, wrong) == []
    linked = stub.LinkIdentity(
        pb.LinkIdentityRequest(customer=right, identity=identity_pb2.Identity(phone=phone)),
        metadata=AGENT_METADATA,
    )

    assert sorted(summaries(stub, right, linked.commit_position)) == [
        "her email",
        "the wife's call",
    ]
    assert summaries(stub, wrong, 0) == []


def test_an_unlink_that_does_not_say_which_kind_is_refused_and_changes_nothing(
    stub: Any,
) -> None:
    phone = random_refs.phone()
    ada = call_from(stub, phone, "a call").interaction.customer

    with pytest.raises(grpc.RpcError) as raised:
        stub.UnlinkIdentity(
            pb.UnlinkIdentityRequest(customer="people/1", identity=identity_pb2.Identity()),
            metadata=AGENT_METADATA,
        )
    error = ErrorDetails(raised.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.fields == {
        "customer": "INVALID_CUSTOMER_NAME",
        "identity": "IDENTITY_REQUIRED",
        "kind": "UNLINK_KIND_REQUIRED",
    }
    for kind, reason in (
        (pb.UNLINK_KIND_UNSPECIFIED, "UNLINK_KIND_REQUIRED"),
        (pb.UnlinkKind.ValueType(7), "UNKNOWN_UNLINK_KIND"),
    ):
        with pytest.raises(grpc.RpcError) as raised:
            unlink(stub, ada, phone, kind)
        error = ErrorDetails(raised.value)
        assert (error.code, error.fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"kind": reason})
    assert listed_identities(stub, ada) == [phone.replace(" ", "")]
