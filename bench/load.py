"""The load client: many concurrent calls over one channel, latencies kept; or the same
from several client processes, each over connections of its own.

Every measurement in a run uses one client process, so ratios compare servers, not
clients; the comparison of serving processes uses several, as one Python client
would cap what two serving processes can show. Requests are serialised before the
clock starts.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import grpc

CHANNEL_OPTIONS = (("grpc.max_receive_message_length", 64 * 1024 * 1024),)
# Without it, channels to one address share one connection, and the kernel spreads
# connections (not calls) over serving processes.
OWN_CONNECTION = (*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1))
# Time for the client processes to receive their shares before the warm-up begins.
HAND_OUT_SECONDS = 0.5


@dataclass(frozen=True)
class LoadResult:
    calls: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies_ms:
            return 0.0
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=1000, method="inclusive")[
            round(share * 1000) - 1
        ]


@dataclass(frozen=True)
class _Share:
    """One client process's part of a load: its requests, callers and connections,
    and the shared moments (time.monotonic, one clock for every process) at which
    counting begins and calls stop."""

    address: str
    method: str
    requests: Sequence[bytes]
    concurrency: int
    connections: int
    count_from: float
    stop_at: float
    metadata: tuple[tuple[str, str], ...]


async def _drive(share: _Share) -> LoadResult:
    options = OWN_CONNECTION if share.connections > 1 else CHANNEL_OPTIONS
    channels = [
        grpc.aio.insecure_channel(share.address, options=options) for _ in range(share.connections)
    ]
    calls = [channel.unary_unary(share.method) for channel in channels]
    feed = itertools.cycle(share.requests)
    latencies: list[float] = []
    errors = 0

    async def worker(call: grpc.aio.UnaryUnaryMultiCallable) -> None:
        nonlocal errors
        while time.monotonic() < share.stop_at:
            started = time.perf_counter()
            try:
                await call(next(feed), timeout=30, metadata=share.metadata)
            except grpc.aio.AioRpcError:
                errors += 1
                continue
            if time.monotonic() >= share.count_from:
                latencies.append((time.perf_counter() - started) * 1000)

    try:
        tasks = [worker(calls[n % len(calls)]) for n in range(share.concurrency)]
        await asyncio.gather(*tasks)
        counted = max(time.monotonic() - share.count_from, 0.0)
        return LoadResult(len(latencies), errors, counted, latencies)
    finally:
        for channel in channels:
            await channel.close()


def _run_share(share: _Share) -> LoadResult:
    return asyncio.run(_drive(share))


class ClientProcesses:
    """Client processes started once, before any clock runs, for run_load to share a
    load between."""

    def __init__(self, count: int) -> None:
        self.count = count
        # spawn: this process already runs grpc, which a fork would copy broken.
        self.pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"))

    def __enter__(self) -> ClientProcesses:
        # The pool starts a process per task that finds none idle: count tasks, count
        # processes, each with grpc imported.
        list(self.pool.map(time.sleep, [0.5] * self.count))
        return self

    def __exit__(self, *_: object) -> None:
        self.pool.shutdown()

    def run(self, shares: list[_Share]) -> list[LoadResult]:
        return list(self.pool.map(_run_share, shares))


def run_load(
    address: str,
    method: str,
    requests: Sequence[bytes],
    concurrency: int,
    seconds: float,
    warmup_seconds: float = 1.0,
    metadata: tuple[tuple[str, str], ...] = (),
    clients: ClientProcesses | None = None,
) -> LoadResult:
    """Calls method with the requests in turn from concurrency callers for seconds,
    after a warm-up whose calls are not counted. With client processes, each takes
    its slice of the requests and of the callers, one connection per caller."""
    if clients is None:
        count_from = time.monotonic() + warmup_seconds
        share = _Share(
            address, method, requests, concurrency, 1, count_from, count_from + seconds, metadata
        )
        return _run_share(share)
    count_from = time.monotonic() + HAND_OUT_SECONDS + warmup_seconds
    callers = max(concurrency // clients.count, 1)
    results = clients.run(
        [
            _Share(
                address,
                method,
                requests[n :: clients.count],
                callers,
                callers,
                count_from,
                count_from + seconds,
                metadata,
            )
            for n in range(clients.count)
        ]
    )
    return LoadResult(
        sum(result.calls for result in results),
        sum(result.errors for result in results),
        statistics.fmean(result.seconds for result in results),
        [latency for result in results for latency in result.latencies_ms],
    )
