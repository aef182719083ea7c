"""The load client: one process, many concurrent calls over one channel, latencies kept.

Every measurement in a run uses this same client, so ratios compare servers, not
clients. Requests are serialised before the clock starts.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

CHANNEL_OPTIONS = (("grpc.max_receive_message_length", 64 * 1024 * 1024),)


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


async def _drive(
    address: str,
    method: str,
    requests: Sequence[bytes],
    concurrency: int,
    seconds: float,
    warmup_seconds: float,
    metadata: tuple[tuple[str, str], ...],
) -> LoadResult:
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        call = channel.unary_unary(method)
        feed = itertools.cycle(requests)
        latencies: list[float] = []
        errors = 0
        measuring = False
        stop_at = time.monotonic() + warmup_seconds + seconds

        async def worker() -> None:
            nonlocal errors
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    await call(next(feed), timeout=30, metadata=metadata)
                except grpc.aio.AioRpcError:
                    errors += 1
                    continue
                if measuring:
                    latencies.append((time.perf_counter() - started) * 1000)

        tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
        await asyncio.sleep(warmup_seconds)
        measuring = True
        began = time.monotonic()
        await asyncio.gather(*tasks)
        return LoadResult(len(latencies), errors, time.monotonic() - began, latencies)


def run_load(
    address: str,
    method: str,
    requests: Sequence[bytes],
    concurrency: int,
    seconds: float,
    warmup_seconds: float = 1.0,
    metadata: tuple[tuple[str, str], ...] = (),
) -> LoadResult:
    """Calls method with the requests in turn from concurrency callers for seconds,
    after a warm-up whose calls are not counted."""
    return asyncio.run(
        _drive(address, method, requests, concurrency, seconds, warmup_seconds, metadata)
    )
