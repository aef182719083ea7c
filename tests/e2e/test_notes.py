"""Agents' notes: on the timeline beside interactions, written once per request."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import note_pb2

from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import ErrorDetails, record_by_email


def add_note(stub: Any, customer: str, text: str, request_id: str = "") -> pb.AddNoteResponse:
    response: pb.AddNoteResponse = stub.AddNote(
        pb.AddNoteRequest(customer=customer, note=note_pb2.Note(text=text), request_id=request_id),
        metadata=AGENT_METADATA,
        timeout=30,
    )
    return response


def timeline(stub: Any, customer: str, min_position: int) -> pb.GetTimelineResponse:
    response: pb.GetTimelineResponse = stub.GetTimeline(
        pb.GetTimelineRequest(customer=customer, min_position=min_position),
        metadata=AGENT_METADATA,
        timeout=30,
    )
    return response


def test_a_note_shows_on_the_timeline_with_its_author(stub: Any) -> None:
    customer = record_by_email(stub, random_refs.email()).interaction.customer

    added = add_note(stub, customer, "Promised a refund by Friday")

    assert added.note.name.startswith(f"{customer}/notes/")
    assert added.note.author == "agent:test-agent"
    entries = timeline(stub, customer, added.commit_position).entries
    assert [e.WhichOneof("kind") for e in entries] == ["note", "interaction"]
    assert entries[0].note.text == "Promised a refund by Friday"
    assert entries[0].note.name == added.note.name


def test_a_retried_note_is_written_once(stub: Any) -> None:
    customer = record_by_email(stub, random_refs.email()).interaction.customer
    first = add_note(stub, customer, "Called back, no answer", request_id="note-1")

    again = add_note(stub, customer, "Called back, no answer", request_id="note-1")

    assert again.note.name == first.note.name
    notes = [e for e in timeline(stub, customer, again.commit_position).entries if e.note.text]
    assert len(notes) == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "EMPTY_NOTE"), ("\u200b \n", "EMPTY_NOTE"), ("x" * 4_001, "NOTE_TOO_LONG")],
)
def test_a_note_that_says_nothing_or_too_much_is_refused(stub: Any, text: str, reason: str) -> None:
    recorded = record_by_email(stub, random_refs.email())
    customer = recorded.interaction.customer

    with pytest.raises(grpc.RpcError) as raised:
        add_note(stub, customer, text)

    error = ErrorDetails(raised.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.fields == {"note.text": reason}
    entries = timeline(stub, customer, recorded.commit_position).entries
    assert [e.WhichOneof("kind") for e in entries] == ["interaction"]


def test_a_note_for_nobody_is_not_found(stub: Any) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        add_note(stub, f"customers/{uuid.uuid4()}", "hello")

    assert ErrorDetails(raised.value).reason == "CUSTOMER_NOT_FOUND"
