"""Runs every measurement in order and writes var/bench/results.json and a table."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import grpc
import psycopg
from crm.v1 import customer_history_service_pb2 as pb
from crm.v1 import customer_history_service_pb2_grpc

from bench.load import run_load
from bench.processes import ROOT, baseline_server, crm_server
from bench.table import table
from bench.workload import (
    email,
    record_request,
    record_requests,
    seed_store,
    timeline_requests,
)
from services.crm.projections.runner import open_application
from services.crm.storage import ensure_postgres_schema, eventsourcing_env

RECORD = "/crm.v1.CustomerHistoryService/RecordInteraction"
TIMELINE = "/crm.v1.CustomerHistoryService/GetTimeline"
ACTOR = (("x-crm-actor", "service:bench"),)
OUT = ROOT / "var" / "bench"


@dataclass(frozen=True)
class Plan:
    seconds: float
    small_events: int
    large_events: int
    read_customer_interactions: int
    known_customers: int

    @classmethod
    def from_environ(cls) -> Plan:
        if os.environ.get("BENCH_QUICK") == "1":
            return cls(3, 2_000, 20_000, 1_000, 50)
        return cls(20, 10_000, 1_000_000, 10_000, 500)


class Bench:
    def __init__(self, plan: Plan, database: str) -> None:
        self.plan = plan
        self.database = database
        self.run_id = f"bench_{os.getpid()}_{int(time.time())}"
        self.schemas: list[str] = []
        self.results: dict[str, Any] = {}
        self.peak_rss: list[float] = []

    def url(self, name: str) -> str:
        schema = f"{self.run_id}_{name}"
        self.schemas.append(schema)
        return f"{self.database}?schema={schema}"

    def run(self) -> dict[str, Any]:
        try:
            self._baselines()
            self._crm_under_load()
            self._timeline_by_store_size()
        finally:
            self._drop_schemas()
        self.results["server_rss_mb"] = round(max(self.peak_rss, default=0.0), 1)
        self.results["record_ratio"] = _ratio(self.results["record_rps"], self.results["echo_rps"])
        self.results["timeline_ratio"] = _ratio(
            self.results["timeline_rps"], self.results["echo_rps"]
        )
        self.results["record_to_naive"] = _ratio(
            self.results["record_rps"], self.results["naive_rps"]
        )
        return self.results

    def _baselines(self) -> None:
        requests = record_requests(2_000, [email(n) for n in range(100)], 0.5)
        for kind, key, database_url in (
            ("echo", "echo_rps", ""),
            ("naive", "naive_rps", self.url("naive")),
        ):
            server = baseline_server(kind, OUT / f"{kind}.log", database_url)
            try:
                load = run_load(server.address, RECORD, requests, 32, self.plan.seconds, 1, ACTOR)
                self.results[key] = round(load.rps, 1)
            finally:
                server.stop()

    def _crm_under_load(self) -> None:
        server = crm_server(self.url("crm"), OUT / "crm.log")
        try:
            known = [email(n) for n in range(self.plan.known_customers)]
            customers = _register(server.address, known)
            count = int(self.plan.seconds * 4_000)
            load = run_load(
                server.address,
                RECORD,
                record_requests(count, known, 0.5),
                32,
                self.plan.seconds,
                1,
                ACTOR,
            )
            self.results |= {
                "record_rps": round(load.rps, 1),
                "record_p50_ms": round(load.percentile(0.5), 2),
                "record_p99_ms": round(load.percentile(0.99), 2),
                "record_errors": load.errors,
            }
            timeline = run_load(
                server.address,
                TIMELINE,
                timeline_requests(customers),
                16,
                self.plan.seconds,
                1,
                ACTOR,
            )
            self.results |= {
                "timeline_rps": round(timeline.rps, 1),
                "timeline_p99_ms": round(timeline.percentile(0.99), 2),
            }
            rate = max(load.rps / 2, 1.0)
            self.results["projection_lag_p99_ms"] = round(
                _projection_lag_p99(server.address, rate, self.plan.seconds), 2
            )
            self.results["projection_lag_rate"] = round(rate, 1)
            self.peak_rss.append(server.peak_rss_mb())
        finally:
            server.stop()

    def _timeline_by_store_size(self) -> None:
        for key, events in (
            ("timeline_p99_ms_c1_small", self.plan.small_events),
            ("timeline_p99_ms_c1_large", self.plan.large_events),
        ):
            url = self.url(key.rsplit("_", 1)[-1])
            env = eventsourcing_env(url)
            ensure_postgres_schema(env)
            app = open_application(env)
            try:
                interactions = min(self.plan.read_customer_interactions, events)
                customer = seed_store(app, events, interactions)
                log_end = app.recorder.max_notification_id() or 0
            finally:
                app.close()
            server = crm_server(url, OUT / f"crm-{key}.log")
            try:
                name = f"customers/{customer}"
                _wait_caught_up(server.address, name, log_end)
                load = run_load(
                    server.address,
                    TIMELINE,
                    timeline_requests([name]),
                    1,
                    self.plan.seconds,
                    1,
                    ACTOR,
                )
                self.results[key] = round(load.percentile(0.99), 2)
                self.results[f"{key.replace('timeline_p99_ms_c1_', 'store_events_')}"] = events
                self.peak_rss.append(server.peak_rss_mb())
            finally:
                server.stop()

    def _drop_schemas(self) -> None:
        with psycopg.connect(self.database, autocommit=True) as connection:
            for schema in self.schemas:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _register(address: str, emails: list[str]) -> list[str]:
    with grpc.insecure_channel(address) as channel:
        stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(channel)
        names = []
        for address_ in emails:
            request = record_request(address_, "First contact")
            reply = stub.RecordInteraction(request, metadata=ACTOR, timeout=30)
            names.append(reply.interaction.customer)
        return names


def _wait_caught_up(address: str, customer: str, log_end: int) -> None:
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
            _retry_while_lagging(read)


def _retry_while_lagging(read: Any, timeout: float = 3_600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            read()
            return
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise


def _projection_lag_p99(address: str, rate: float, seconds: float) -> float:
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


def _ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 3) if baseline else 0.0


def postgres_settings(database: str) -> dict[str, str]:
    with psycopg.connect(database) as connection:
        return {
            name: str(connection.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("server_version", "fsync", "synchronous_commit")
        }


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"cpus": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def main() -> int:
    random.seed(7)
    plan = Plan.from_environ()
    database = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = Bench(plan, database).run()
    report = {
        "results": results,
        "quick": os.environ.get("BENCH_QUICK") == "1",
        "postgres": postgres_settings(database),
        "machine": machine(),
        "seconds": round(time.monotonic() - started, 1),
    }
    (OUT / "results.json").write_text(json.dumps({**results, "run": report}, indent=2) + "\n")
    print(table(results))
    return 0
