"""ReplayEvents: auditors read the log itself, in order, with who and when, resumably."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import identity_pb2, note_pb2

from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import ErrorDetails, email_interaction, record_by_email


def replay(stub: Any, **fields: int) -> list[pb.ReplayEventsResponse]:
    return list(stub.ReplayEvents(pb.ReplayEventsRequest(**fields), timeout=60))


def test_replay_gives_every_event_in_order_with_its_actor_and_state(stub: Any) -> None:
    first = record_by_email(stub, random_refs.email(), summary="first")
    stub.AddNote(
        pb.AddNoteRequest(customer=first.interaction.customer, note=note_pb2.Note(text="Hi")),
        metadata=AGENT_METADATA,
        timeout=30,
    )
    last = record_by_email(stub, first.interaction.identity.email, summary="last")

    pages = replay(stub, page_size=2)

    events = [event for page in pages for event in page.events]
    positions = [event.position for event in events]
    assert positions == list(range(1, last.commit_position + 1))
    assert all(len(page.events) <= 2 for page in pages)
    assert [page.position for page in pages] == [page.events[-1].position for page in pages]
    recorded = [e for e in events if e.topic == "crm.Interaction.Recorded"]
    assert [json.loads(e.state_json)["content"]["_data_"]["summary"] for e in recorded][-2:] == [
        "first",
        "last",
    ]
    assert {e.actor for e in events} == {"agent:test-agent"}
    assert "crm.Note.Added" in {e.topic for e in events}
    assert recorded[-1].record_time == last.interaction.record_time


def test_a_replayed_event_names_the_request_that_caused_it(stub: Any) -> None:
    reply = stub.RecordInteraction(
        pb.RecordInteractionRequest(
            identity=identity_pb2.Identity(email=random_refs.email()),
            interaction=email_interaction(),
        ),
        metadata=(*AGENT_METADATA, ("x-request-id", "audit-trail-42")),
        timeout=30,
    )

    pages = replay(stub, after_position=reply.commit_position - 1)

    (event,) = [event for page in pages for event in page.events]
    assert (event.topic, event.correlation_id) == ("crm.Interaction.Recorded", "audit-trail-42")


def test_a_replay_resumes_after_a_position_and_stops_where_asked(stub: Any) -> None:
    email = random_refs.email()
    ends = [record_by_email(stub, email).commit_position for _ in range(4)]

    pages = replay(stub, after_position=ends[0], up_to_position=ends[2])

    positions = [event.position for page in pages for event in page.events]
    assert positions == list(range(ends[0] + 1, ends[2] + 1))


def test_a_replay_page_of_long_events_fits_a_default_client_message(stub: Any) -> None:
    email = random_refs.email()
    for _ in range(80):
        record_by_email(stub, email, body="x" * 60_000)

    pages = replay(stub, page_size=2_000)

    assert sum(len(page.events) for page in pages) >= 80
    assert max(page.ByteSize() for page in pages) <= 4 * 1024 * 1024
    assert len(pages) > 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"after_position": 5, "up_to_position": 2}, "INVALID_POSITION_RANGE"),
        ({"up_to_position": 10**12}, "INVALID_POSITION_RANGE"),
        ({"page_size": -1}, "INVALID_PAGE_SIZE"),
    ],
)
def test_a_bad_replay_range_is_refused(stub: Any, fields: dict[str, int], reason: str) -> None:
    record_by_email(stub, random_refs.email())
    record_by_email(stub, random_refs.email())

    with pytest.raises(grpc.RpcError) as raised:
        replay(stub, **fields)

    error = ErrorDetails(raised.value)
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
