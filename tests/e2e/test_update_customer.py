"""UpdateCustomer against the service as its own process: an agent names a customer
first seen by email, the change shows on the timeline with who and why, and search
finds them by the new name."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from crm.v1 import channel_pb2, customer_pb2, identity_pb2
from crm.v1 import customer_history_service_pb2 as pb
from google.protobuf.field_mask_pb2 import FieldMask

from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import ErrorDetails, email_interaction, record, record_by_email
from tests.e2e.logged_process import ROOT
from tests.e2e.server_process import ServerProcess

PROFILE_UPDATED = pb.CUSTOMER_CHANGE_KIND_PROFILE_UPDATED


@pytest.fixture
def crm(database_url: str, start_server: Callable[..., ServerProcess]) -> ServerProcess:
    return start_server(database_url)


def update(
    stub: Any,
    customer: customer_pb2.Customer,
    paths: list[str] | None = None,
    request_id: str = "",
    reason: str = "",
) -> pb.UpdateCustomerResponse:
    response: pb.UpdateCustomerResponse = stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=customer,
            update_mask=FieldMask(paths=paths or []),
            request_id=request_id,
            reason=reason,
        ),
        metadata=AGENT_METADATA,
        timeout=30,
    )
    return response


def refused(call: Callable[[], Any]) -> ErrorDetails:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return ErrorDetails(raised.value)


def get(stub: Any, name: str) -> customer_pb2.Customer:
    response = stub.GetCustomer(pb.GetCustomerRequest(name=name), timeout=30)
    customer: customer_pb2.Customer = response.customer
    return customer


def profile_changes(stub: Any, name: str, position: int) -> list[pb.CustomerChange]:
    response = stub.GetTimeline(
        pb.GetTimelineRequest(customer=name, min_position=position), timeout=30
    )
    return [
        e.customer_change for e in response.entries if e.customer_change.kind == PROFILE_UPDATED
    ]


def search(stub: Any, words: str, position: int) -> list[str]:
    response = stub.SearchCustomers(
        pb.SearchCustomersRequest(name=words, min_position=position), timeout=30
    )
    return [c.name for c in response.customers]


def test_an_agent_names_a_customer_first_seen_by_email_and_search_finds_them(
    crm: ServerProcess,
) -> None:
    first_name = f"Ada{random_refs.suffix()}"
    recorded = record_by_email(crm.stub, random_refs.email())
    name = recorded.interaction.customer
    assert search(crm.stub, first_name, recorded.commit_position) == []

    updated = update(
        crm.stub,
        customer_pb2.Customer(name=name, display_name=f"{first_name} Lovelace"),
        ["display_name"],
        reason="she spelled it on the call",
    )

    assert updated.customer.display_name == f"{first_name} Lovelace"
    assert updated.commit_position > recorded.commit_position
    assert get(crm.stub, name).display_name == f"{first_name} Lovelace"
    assert search(crm.stub, first_name.lower(), updated.commit_position) == [name]
    [change] = profile_changes(crm.stub, name, updated.commit_position)
    assert change.actor == "agent:test-agent"
    assert change.reason == "she spelled it on the call"
    assert list(change.updated_fields) == ["display_name"]
    assert change.display_name == f"{first_name} Lovelace"


def test_the_mask_says_which_fields_change_and_without_one_the_fields_set_do(
    crm: ServerProcess,
) -> None:
    created = crm.stub.CreateCustomer(
        pb.CreateCustomerRequest(
            customer=customer_pb2.Customer(
                display_name="Grace Hopper", language_code="en", tags=["vip"]
            )
        ),
        metadata=AGENT_METADATA,
        timeout=30,
    ).customer

    masked = update(
        crm.stub,
        customer_pb2.Customer(name=created.name, display_name="Ignored", tags=["gold"]),
        ["tags"],
    ).customer
    unmasked = update(
        crm.stub,
        customer_pb2.Customer(
            name=created.name, preferred_channel=channel_pb2.CHANNEL_PHONE, attributes={"tier": "2"}
        ),
    ).customer
    cleared = update(crm.stub, customer_pb2.Customer(name=created.name), ["tags"]).customer

    assert (masked.display_name, list(masked.tags)) == ("Grace Hopper", ["gold"])
    assert unmasked.preferred_channel == channel_pb2.CHANNEL_PHONE
    assert dict(unmasked.attributes) == {"tier": "2"}
    assert (unmasked.language_code, list(unmasked.tags)) == ("en", ["gold"])
    assert list(cleared.tags) == []
    assert cleared.language_code == "en"


def test_a_stale_etag_is_aborted_and_changes_nothing(crm: ServerProcess) -> None:
    name = record_by_email(crm.stub, random_refs.email()).interaction.customer
    seen = get(crm.stub, name)
    first = update(
        crm.stub, customer_pb2.Customer(name=name, display_name="One", etag=seen.etag)
    ).customer

    error = refused(
        lambda: update(
            crm.stub, customer_pb2.Customer(name=name, display_name="Two", etag=seen.etag)
        )
    )
    unconditional = update(crm.stub, customer_pb2.Customer(name=name, language_code="fr"))

    assert first.etag != seen.etag
    assert error.code == grpc.StatusCode.ABORTED
    assert error.reason == "ETAG_MISMATCH"
    assert unconditional.customer.display_name == "One"
    assert unconditional.customer.language_code == "fr"


def test_a_retried_update_changes_once_and_a_reused_request_id_is_refused(
    crm: ServerProcess,
) -> None:
    name = record_by_email(crm.stub, random_refs.email()).interaction.customer
    seen = get(crm.stub, name)
    change = customer_pb2.Customer(name=name, display_name="Ada Lovelace", etag=seen.etag)

    first = update(crm.stub, change, request_id="rename-1", reason="typo")
    again = update(crm.stub, change, request_id="rename-1", reason="typo")
    error = refused(
        lambda: update(
            crm.stub, customer_pb2.Customer(name=name, display_name="Other"), request_id="rename-1"
        )
    )

    assert again.customer.display_name == first.customer.display_name == "Ada Lovelace"
    assert again.commit_position >= first.commit_position
    assert len(profile_changes(crm.stub, name, again.commit_position)) == 1
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
    assert get(crm.stub, name).display_name == "Ada Lovelace"


def test_a_mask_naming_unknown_or_fixed_fields_is_refused_with_each_one(
    crm: ServerProcess,
) -> None:
    recorded = record_by_email(crm.stub, random_refs.email())
    name = recorded.interaction.customer
    bad_name = customer_pb2.Customer(name=name, display_name="x" * 201, language_code="not a tag")

    mask_error = refused(
        lambda: update(crm.stub, bad_name, ["identities", "nickname", "name", "display_name"])
    )
    value_error = refused(lambda: update(crm.stub, bad_name, ["display_name", "language_code"]))
    empty_error = refused(lambda: update(crm.stub, customer_pb2.Customer(name=name)))

    assert mask_error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert mask_error.fields == {
        "update_mask.paths[0]": "FIELD_NOT_UPDATABLE",
        "update_mask.paths[1]": "UNKNOWN_FIELD",
        "update_mask.paths[2]": "FIELD_NOT_UPDATABLE",
    }
    assert value_error.fields == {
        "customer.display_name": "DISPLAY_NAME_TOO_LONG",
        "customer.language_code": "INVALID_LANGUAGE_CODE",
    }
    assert (empty_error.code, empty_error.reason) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "NOTHING_TO_UPDATE",
    )
    assert get(crm.stub, name).display_name == ""
    assert profile_changes(crm.stub, name, recorded.commit_position) == []


def test_a_customer_first_seen_through_a_named_address_takes_the_name(
    crm: ServerProcess,
) -> None:
    address = random_refs.email()
    first = record(
        crm.stub,
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(email=f'"Ada Lovelace" <{address}>'),
            interaction=email_interaction(),
        ),
    )
    later = record(
        crm.stub,
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(email=f"Someone Else <{address}>"),
            interaction=email_interaction(),
        ),
    )

    customer = get(crm.stub, first.interaction.customer)
    assert first.customer_created
    assert later.interaction.customer == first.interaction.customer
    assert customer.display_name == "Ada Lovelace"
    assert [i.email for i in customer.identities] == [address]


def test_read_models_rebuilt_after_updates_answer_as_the_live_ones(
    database_url: str, start_server: Callable[..., ServerProcess]
) -> None:
    crm = start_server(database_url)
    word = f"Zed{random_refs.suffix()}"
    name = record_by_email(crm.stub, random_refs.email()).interaction.customer
    update(crm.stub, customer_pb2.Customer(name=name, display_name=f"{word} Old"))
    last = update(crm.stub, customer_pb2.Customer(name=name, display_name=f"{word} New"))
    position = last.commit_position
    live = (
        search(crm.stub, word, position),
        search(crm.stub, "old", position),
        crm.stub.GetTimeline(pb.GetTimelineRequest(customer=name, min_position=position)),
    )
    assert crm.terminate() == 0

    subprocess.run(
        [sys.executable, "-m", "services.crm", "rebuild-projections"],
        cwd=ROOT,
        env=crm.env,
        check=True,
        capture_output=True,
    )
    again = start_server(database_url)
    rebuilt = (
        search(again.stub, word, position),
        search(again.stub, "old", position),
        again.stub.GetTimeline(pb.GetTimelineRequest(customer=name, min_position=position)),
    )

    assert live[0] == [name]
    assert name not in live[1]
    assert rebuilt == live
