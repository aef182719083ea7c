"""Open streams are limited per caller and in all, and replays have slots of their own,
so one agent's watches block neither other agents nor auditors."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from crm.v1 import customer_history_service_pb2 as pb

from tests import random_refs
from tests.e2e.grpc_helpers import ErrorDetails, record_by_email
from tests.e2e.server_process import ServerProcess

StartServer = Callable[..., ServerProcess]
ALICE = (("x-crm-actor", "agent:alice"),)
BOB = (("x-crm-actor", "agent:bob"),)


def watch(server: ServerProcess, customer: str, after: int, caller: Any) -> Any:
    """A watch the service has accepted (it sends headers once it has)."""
    stream = server.stub.WatchTimeline(
        pb.WatchTimelineRequest(customer=customer, after_position=after),
        metadata=caller,
        timeout=60,
    )
    stream.initial_metadata()
    return stream


def refusal(stream: Any) -> ErrorDetails:
    with pytest.raises(grpc.RpcError) as refused:
        next(stream)
    return ErrorDetails(refused.value)


def test_a_caller_at_its_watch_limit_is_refused_while_another_caller_still_watches(
    database_url: str, start_server: StartServer
) -> None:
    server = start_server(database_url, CRM_MAX_WATCHERS_PER_CALLER="2")
    first = record_by_email(server.stub, random_refs.email())
    customer, after = first.interaction.customer, first.commit_position
    alices = [watch(server, customer, after, ALICE) for _ in range(2)]

    refused = refusal(watch(server, customer, after, ALICE))
    bobs = watch(server, customer, after, BOB)
    record_by_email(server.stub, first.interaction.identity.email, summary="for bob")

    assert (refused.code, refused.reason) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "TOO_MANY_WATCHERS",
    )
    assert refused.metadata == {"limit": "2", "scope": "caller"}
    # Another spelling of the same agent is no way round the limit.
    respelled = refusal(watch(server, customer, after, (("x-crm-actor", "agent:%61lice"),)))
    assert (respelled.code, respelled.reason) == (grpc.StatusCode.UNAUTHENTICATED, "INVALID_ACTOR")
    assert next(bobs).entry.interaction.summary == "for bob"

    alices.pop().cancel()  # Closing one frees its slot for the same caller.
    again, summary = first_entry_once_admitted(lambda: watch(server, customer, after, ALICE))
    assert summary == "for bob"
    for stream in [*alices, bobs, again]:
        stream.cancel()


def test_replay_works_while_every_watch_is_taken(
    database_url: str, start_server: StartServer
) -> None:
    server = start_server(database_url, CRM_MAX_WATCHERS="2", CRM_PROJECTIONS="off")
    first = record_by_email(server.stub, random_refs.email())
    customer, after = first.interaction.customer, first.commit_position
    watches = [watch(server, customer, after, caller) for caller in (ALICE, BOB)]

    refused = refusal(watch(server, customer, after, (("x-crm-actor", "agent:carol"),)))
    replayed = list(server.stub.ReplayEvents(pb.ReplayEventsRequest(), timeout=60))

    assert (refused.reason, refused.metadata) == (
        "TOO_MANY_WATCHERS",
        {"limit": "2", "scope": "service"},
    )
    assert replayed[-1].position == first.commit_position
    for stream in watches:
        stream.cancel()


def first_entry_once_admitted(open_watch: Callable[[], Any]) -> tuple[Any, str]:
    """A cancelled watch's slot is freed once the service sees the cancellation."""
    deadline = time.monotonic() + 30
    while True:
        stream = open_watch()
        try:
            return stream, next(stream).entry.interaction.summary
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED or time.monotonic() > deadline:
                raise
        time.sleep(0.05)
