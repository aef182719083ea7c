"""Client-side probes: calls that set up a scenario or time one thing the table shows."""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any
from uuid import uuid4

import grpc
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import customer_history_service_pb2_grpc, identity_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from bench.workload import email, record_request

ACTOR = (("x-crm-actor", "service:bench"),)
LAG_TIMEOUT = 30.0
# Open consoles during the lag probe: writes go to each customer in turn.
LAG_CUSTOMERS = 16


def _stub(channel: grpc.Channel) -> customer_history_service_pb2_grpc.CustomerHistoryServiceStub:
    return customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)


def register(address: str, emails: list[str]) -> list[str]:
    with grpc.insecure_channel(address) as channel:
        stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)
        names = []
        for address_ in emails:
            request = record_request(address_, "First contact")
            reply = stub.RecordInteraction(request, metadata=ACTOR, timeout=30)
            names.append(reply.interaction.customer)
        return names


def add_history(address: str, emails: list[str], per_customer: int) -> int:
    """Imports per_customer interactions for each address, so timeline reads get full
    pages (the record phase leaves each known customer only a few); returns the log's
    position after the last."""
    when = Timestamp()
    when.FromSeconds(int(time.time()) - 3_600)
    batch_id = uuid4().hex[:8]
    records = []
    for address_ in emails:
        for n in range(per_customer):
            request = record_request(address_, f"Earlier interaction {n}")
            request.interaction.external_id = f"history-{batch_id}-{address_}-{n}"
            request.interaction.occurred_time.CopyFrom(when)
            records.append(request)
    position = 0
    with grpc.insecure_channel(address) as channel:
        for start in range(0, len(records), 1_000):
            reply = _stub(channel).ImportInteractions(
                pb.ImportInteractionsRequest(interactions=records[start : start + 1_000]),
                metadata=ACTOR,
                timeout=300,
            )
            if reply.failures:
                raise RuntimeError(f"import refused records: {reply.failures[0]}")
            position = max(position, reply.commit_position)
    return position


def wait_caught_up(address: str, customer: str, log_end: int) -> None:
    """Until both read models have taken in the whole seeded log, so that catching up
    does not share the CPU with the reads measured next."""
    with grpc.insecure_channel(address) as channel:
        stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)
        for read in (
            lambda: stub.GetTimeline(
                pb.GetTimelineRequest(customer=customer, page_size=1, min_position=log_end),
                timeout=60,
            ),
            lambda: stub.SearchCustomers(
                pb.SearchCustomersRequest(name="reader", min_position=log_end), timeout=60
            ),
        ):
            retry_while_lagging(read)


def retry_while_lagging(read: Any, timeout: float = 3_600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            read()
            return
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise


def projection_lag_p99(
    address: str, rate: float, seconds: float, watched: int = LAG_CUSTOMERS
) -> tuple[float, int]:
    """Records at a steady rate, in turn to each of several customers, while a
    WatchTimeline on each (as an agent's open console has) reports entries as the
    timeline takes them in; the lag is from a write's acknowledgement to its arrival.
    Starts once the projections have caught up; a write that never arrives counts as
    LAG_TIMEOUT. Returns the p99 and the misses."""
    with grpc.insecure_channel(address) as channel:
        firsts = [
            _stub(channel).RecordInteraction(
                record_request(email(uuid4()), "Lag probe"), metadata=ACTOR, timeout=30
            )
            for _ in range(watched)
        ]
    customers = [first.interaction.customer for first in firsts]
    after = max(first.commit_position for first in firsts)
    wait_caught_up(address, customers[0], after)

    async def measure() -> tuple[dict[str, float], dict[str, float]]:
        acked: dict[str, float] = {}
        seen: dict[str, float] = {}
        async with grpc.aio.insecure_channel(address) as channel:
            stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)
            watches = [
                stub.WatchTimeline(
                    pb.WatchTimelineRequest(customer=customer, after_position=after),
                    metadata=ACTOR,
                )
                for customer in customers
            ]

            async def follow(watch: Any) -> None:
                async for message in watch:
                    seen[message.entry.interaction.name] = time.perf_counter()

            followers = [asyncio.create_task(follow(watch)) for watch in watches]
            in_flight = asyncio.Semaphore(64)

            async def one(customer: str) -> None:
                async with in_flight:
                    request = record_request("", "Lag probe")
                    request.customer = customer
                    reply = await stub.RecordInteraction(request, metadata=ACTOR, timeout=30)
                    acked[reply.interaction.name] = time.perf_counter()

            tasks, start, sent = [], time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                await asyncio.sleep(max(start + sent / rate - time.perf_counter(), 0))
                tasks.append(asyncio.create_task(one(customers[sent % len(customers)])))
                sent += 1
            await asyncio.gather(*tasks, return_exceptions=True)
            deadline = time.perf_counter() + LAG_TIMEOUT
            while set(acked) - set(seen) and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            for watch, follower in zip(watches, followers, strict=True):
                watch.cancel()
                follower.cancel()
        return acked, seen

    acked, seen = asyncio.run(measure())
    lags = sorted(
        max(seen[name] - at, 0.0) * 1000 if name in seen else LAG_TIMEOUT * 1000
        for name, at in acked.items()
    )
    missed = sum(1 for name in acked if name not in seen)
    return (lags[min(int(len(lags) * 0.99), len(lags) - 1)] if lags else 0.0), missed


def import_throughput(address: str, records: int, per_customer: int = 10) -> tuple[float, int]:
    """Imports records in batches of 1,000, two in flight, and waits until both read
    models show them; returns interactions per second over the whole, and the log end."""
    batch_id = uuid4().hex[:8]
    when = Timestamp()
    when.FromSeconds(int(time.time()) - 86_400)
    requests = []
    for start in range(0, records, 1_000):
        chunk = []
        for n in range(start, min(start + 1_000, records)):
            request = record_request(email(f"import-{batch_id}-{n // per_customer}"))
            request.interaction.external_id = f"{batch_id}-{n}"
            request.interaction.occurred_time.CopyFrom(when)
            chunk.append(request)
        requests.append(pb.ImportInteractionsRequest(interactions=chunk))

    async def send_all() -> int:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)
            queue = list(requests)
            positions: list[int] = []

            async def sender() -> None:
                while queue:
                    reply = await stub.ImportInteractions(queue.pop(), metadata=ACTOR, timeout=300)
                    assert (
                        reply.imported_count == len(reply.failures) * 0 + 1_000
                        or reply.failures == []
                    )
                    positions.append(reply.commit_position)

            await asyncio.gather(sender(), sender())
            return int(max(positions))

    started = time.perf_counter()
    log_end = asyncio.run(send_all())
    with grpc.insecure_channel(address) as channel:
        customer = (
            _stub(channel)
            .SearchCustomers(
                pb.SearchCustomersRequest(
                    identity=identity_pb2.Identity(email=email(f"import-{batch_id}-0")),
                    min_position=log_end,
                ),
                timeout=300,
            )
            .customers[0]
            .name
        )
    wait_caught_up(address, customer, log_end)
    return records / (time.perf_counter() - started), log_end


def replay_throughput(address: str) -> float:
    """Streams the whole log through ReplayEvents; events per second."""
    with grpc.insecure_channel(
        address, options=(("grpc.max_receive_message_length", 64 << 20),)
    ) as channel:
        started = time.perf_counter()
        events = sum(
            len(page.events)
            for page in _stub(channel).ReplayEvents(
                pb.ReplayEventsRequest(page_size=2_000), metadata=ACTOR, timeout=3_600
            )
        )
        return events / (time.perf_counter() - started)


def write_cost_ms(address: str, customer: str, count: int) -> tuple[float, float]:
    """Median latency of one client recording to a customer with a long history, then
    to new customers, alternating so that noise hits both alike."""
    big: list[float] = []
    new: list[float] = []
    with grpc.insecure_channel(address) as channel:
        stub = _stub(channel)
        for _ in range(count):
            for target, latencies in ((customer, big), (None, new)):
                request = record_request(email(uuid4()))
                if target is not None:
                    request.customer = target
                started = time.perf_counter()
                stub.RecordInteraction(request, metadata=ACTOR, timeout=30)
                latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(big), statistics.median(new)
