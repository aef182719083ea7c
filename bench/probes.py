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


def projection_lag_p99(address: str, rate: float, seconds: float) -> float:
    """Records at a steady rate; for each, the time from the acknowledgement until a
    timeline read asking for that write's position answers."""

    async def measure() -> list[float]:
        lags: list[float] = []
        async with grpc.aio.insecure_channel(address) as channel:
            stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)

            async def one() -> None:
                request = record_request(email(uuid4()), "Lag probe")
                reply = await stub.RecordInteraction(request, metadata=ACTOR, timeout=30)
                acknowledged = time.perf_counter()
                await stub.GetTimeline(
                    pb.GetTimelineRequest(
                        customer=reply.interaction.customer,
                        page_size=1,
                        min_position=reply.commit_position,
                    ),
                    timeout=30,
                )
                lags.append((time.perf_counter() - acknowledged) * 1000)

            tasks = []
            start = time.perf_counter()
            sent = 0
            while time.perf_counter() - start < seconds:
                due = start + sent / rate
                await asyncio.sleep(max(due - time.perf_counter(), 0))
                tasks.append(asyncio.create_task(one()))
                sent += 1
            await asyncio.gather(*tasks, return_exceptions=True)
        return lags

    lags = sorted(asyncio.run(measure()))
    return lags[min(int(len(lags) * 0.99), len(lags) - 1)] if lags else 0.0


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
