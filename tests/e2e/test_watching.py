"""WatchTimeline: new entries stream live, and a client resumes where it left off."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import customer_history_service_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.crm.config import Settings
from services.crm.server import start_service
from tests import random_refs
from tests.e2e.conftest import AGENT_METADATA
from tests.e2e.grpc_helpers import ErrorDetails, email_interaction, record, record_by_email


def watch(stub: Any, customer: str, after: int, timeout: float = 30) -> Any:
    return stub.WatchTimeline(
        pb.WatchTimelineRequest(customer=customer, after_position=after),
        metadata=AGENT_METADATA,
        timeout=timeout,
    )


def summaries(stream: Iterator[pb.WatchTimelineResponse], count: int) -> list[str]:
    return [next(stream).entry.interaction.summary for _ in range(count)]


def record_for(stub: Any, customer: str, summary: str) -> pb.RecordInteractionResponse:
    return record(
        stub,
        pb.RecordInteractionRequest(
            customer=customer,
            interaction=email_interaction(summary=summary),
        ),
    )


def test_new_interactions_arrive_on_an_open_watch(stub: Any) -> None:
    first = record_by_email(stub, random_refs.email(), summary="first")
    customer = first.interaction.customer
    stream = watch(stub, customer, first.commit_position)

    record_by_email(stub, first.interaction.identity.email, summary="second")
    record_by_email(stub, first.interaction.identity.email, summary="third")

    assert summaries(stream, 2) == ["second", "third"]
    stream.cancel()


def test_a_watch_resumed_after_a_position_misses_nothing_and_repeats_nothing(
    stub: Any,
) -> None:
    email = random_refs.email()
    recorded = [record_by_email(stub, email, summary=f"message {n}") for n in range(4)]
    customer = recorded[0].interaction.customer

    stream = watch(stub, customer, 0)
    seen = [next(stream).entry for _ in range(2)]
    stream.cancel()  # The client drops off after two entries ...
    resumed = watch(stub, customer, seen[-1].position)  # ... and comes back.

    assert [e.interaction.summary for e in seen] == ["message 0", "message 1"]
    assert summaries(resumed, 2) == ["message 2", "message 3"]
    resumed.cancel()


def test_a_watch_on_a_merged_customer_follows_the_customer_it_was_merged_into(
    stub: Any,
) -> None:
    source = record_by_email(stub, random_refs.email(), summary="source").interaction.customer
    target = record_by_email(stub, random_refs.email(), summary="target").interaction.customer
    merged = stub.MergeCustomers(
        pb.MergeCustomersRequest(source=source, target=target),
        metadata=AGENT_METADATA,
        timeout=30,
    )

    stream = watch(stub, source, merged.commit_position)
    record_for(stub, target, "after the merge")

    assert summaries(stream, 1) == ["after the merge"]
    stream.cancel()


def test_a_watch_on_a_customer_merged_while_watching_follows_the_merge(stub: Any) -> None:
    source = record_by_email(stub, random_refs.email(), summary="source")
    target = record_by_email(stub, random_refs.email(), summary="target").interaction.customer
    stream = watch(stub, source.interaction.customer, source.commit_position)

    stub.MergeCustomers(
        pb.MergeCustomersRequest(source=source.interaction.customer, target=target),
        metadata=AGENT_METADATA,
        timeout=30,
    )
    record_by_email(stub, source.interaction.identity.email, summary="after the merge")

    # From the merge on, the watch shows the merged timeline after its cursor: the
    # target's newer entry, the merge itself, and what came after.
    seen = [next(stream).entry for _ in range(3)]
    assert seen[0].interaction.summary == "target"
    assert seen[1].customer_change.kind == pb.CUSTOMER_CHANGE_KIND_MERGED_FROM
    assert seen[2].interaction.summary == "after the merge"
    stream.cancel()


def test_health_watches_do_not_hold_the_threads_calls_need(database_url: str) -> None:
    service = start_service(
        Settings(
            database_url=database_url,
            listen_address="127.0.0.1:0",
            max_workers=1,
            max_watchers=1,
            metrics_address="127.0.0.1:0",
        )
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            watches = [health.Watch(health_pb2.HealthCheckRequest()) for _ in range(3)]
            for opened in watches:
                assert next(opened).status == health_pb2.HealthCheckResponse.SERVING

            checked = health.Check(health_pb2.HealthCheckRequest(), timeout=5)

            assert checked.status == health_pb2.HealthCheckResponse.SERVING
            for opened in watches:
                opened.cancel()
    finally:
        service.stop()


@pytest.mark.parametrize(
    ("customer", "after", "code", "reason"),
    [
        (f"customers/{uuid.UUID(int=1)}", 0, grpc.StatusCode.NOT_FOUND, "CUSTOMER_NOT_FOUND"),
        ("people/1", 0, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_CUSTOMER_NAME"),
        (None, -1, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_POSITION"),
        (None, 10**12, grpc.StatusCode.INVALID_ARGUMENT, "POSITION_BEYOND_LOG"),
    ],
)
def test_a_bad_watch_fails_at_once_with_the_reason(
    stub: Any, customer: str | None, after: int, code: grpc.StatusCode, reason: str
) -> None:
    if customer is None:
        customer = record_by_email(stub, random_refs.email()).interaction.customer

    with pytest.raises(grpc.RpcError) as raised:
        next(watch(stub, customer, after))

    error = ErrorDetails(raised.value)
    assert (error.code, error.reason) == (code, reason)


def test_watches_beyond_the_limit_are_refused_and_stopping_ends_the_rest(
    database_url: str,
) -> None:
    service = start_service(
        Settings(
            database_url=database_url,
            listen_address="127.0.0.1:0",
            max_watchers=1,
            metrics_address="127.0.0.1:0",
        )
    )
    stopped = False
    try:
        with grpc.insecure_channel(f"127.0.0.1:{service.port}") as channel:
            stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)
            customer = record_by_email(stub, random_refs.email()).interaction.customer
            open_watch = watch(stub, customer, 0)
            next(open_watch)

            with pytest.raises(grpc.RpcError) as raised:
                next(watch(stub, customer, 0))
            assert ErrorDetails(raised.value).reason == "TOO_MANY_WATCHERS"
            assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

            started = time.monotonic()
            service.stop()
            stopped = True
            assert list(open_watch) == []
            assert open_watch.code() == grpc.StatusCode.OK
            assert time.monotonic() - started < 5
    finally:
        if not stopped:
            service.stop()
