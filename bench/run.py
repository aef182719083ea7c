"""Runs every measurement in order and writes var/bench/results.json and a table."""

from __future__ import annotations

import json
import os
import platform
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench import probes
from bench.cpu import cpu_shares
from bench.load import ClientProcesses, LoadResult, run_load
from bench.processes import ROOT, Server, baseline_server, crm_server
from bench.table import cpu_table, table
from bench.workload import email, record_requests, seed_store, timeline_requests
from services.crm.projections.runner import open_application
from services.crm.storage import ensure_postgres_schema, eventsourcing_env

RECORD = "/crm.v1.CustomerHistoryService/RecordInteraction"
TIMELINE = "/crm.v1.CustomerHistoryService/GetTimeline"
OUT = Path(os.environ.get("BENCH_OUT") or ROOT / "var" / "bench")
# Client processes driving the comparison of serving processes.
CLIENT_PROCESSES = 2


@dataclass(frozen=True)
class Plan:
    seconds: float
    small_events: int
    large_events: int
    read_customer_interactions: int
    known_customers: int
    import_records: int
    write_samples: int

    @classmethod
    def from_environ(cls) -> Plan:
        if os.environ.get("BENCH_TINY") == "1":  # The smoke test: every step, tiny sizes.
            return cls(1, 500, 2_000, 200, 20, 2_000, 20)
        if os.environ.get("BENCH_QUICK") == "1":
            return cls(2, 10_000, 100_000, 10_000, 50, 10_000, 100)
        return cls(15, 10_000, 1_000_000, 10_000, 500, 100_000, 500)


@dataclass(frozen=True)
class Loads:
    record: LoadResult
    record_cpu: dict[str, float]
    timeline: LoadResult
    timeline_cpu: dict[str, float]


class Bench:
    def __init__(self, plan: Plan, database: str) -> None:
        self.plan = plan
        self.database = database
        self.run_id = f"bench_{os.getpid()}_{int(time.time())}"
        self.schemas: list[str] = []
        self.results: dict[str, Any] = {}
        self.peak_rss: list[float] = []

    def run(self) -> dict[str, Any]:
        try:
            self._baselines()
            self._crm_under_load()
            self._serving_processes()
            self._import()
            self._small_and_large_stores()
        finally:
            self._drop_schemas()
        r = self.results
        r["server_rss_mb"] = round(max(self.peak_rss, default=0.0), 1)
        r["record_ratio"] = _ratio(r["record_rps"], r["echo_rps"])
        r["record_to_naive"] = _ratio(r["record_rps"], r["naive_rps"])
        r["timeline_ratio"] = _ratio(r["timeline_rps"], r["echo_rps"])
        r["timeline_2proc_to_1proc"] = _ratio(r["timeline_rps_2proc"], r["timeline_rps_1proc"])
        r["record_2proc_to_1proc"] = _ratio(r["record_rps_2proc"], r["record_rps_1proc"])
        r["timeline_large_to_small"] = _ratio(
            r["timeline_p99_ms_c1_large"], r["timeline_p99_ms_c1_small"]
        )
        return r

    def _url(self, name: str) -> str:
        schema = f"{self.run_id}_{name}"
        self.schemas.append(schema)
        joiner = "&" if "?" in self.database else "?"
        return f"{self.database}{joiner}schema={schema}"

    def _serve(self, name: str, url: str) -> Server:
        return crm_server(url, OUT / f"crm-{name}.log")

    def _stop(self, server: Server) -> None:
        self.peak_rss.append(server.peak_rss_mb())
        server.stop()

    def _baselines(self) -> None:
        requests = record_requests(2_000, [email(n) for n in range(100)], 0.5)
        for kind, database_url in (("echo", ""), ("naive", self._url("naive"))):
            server = baseline_server(kind, OUT / f"{kind}.log", database_url)
            try:
                load = run_load(
                    server.address, RECORD, requests, 32, self.plan.seconds, 1, probes.ACTOR
                )
                self.results[f"{kind}_rps"] = round(load.rps, 1)
            finally:
                server.stop()

    def _crm_under_load(self) -> None:
        server = self._serve("load", self._url("load"))
        try:
            loads = self._record_then_read(server)
            record = loads.record
            self.results |= {
                "record_cpu_pct": loads.record_cpu,
                "record_rps": round(record.rps, 1),
                "record_p50_ms": round(record.percentile(0.5), 2),
                "record_p99_ms": round(record.percentile(0.99), 2),
                "record_errors": record.errors,
                "timeline_cpu_pct": loads.timeline_cpu,
                "timeline_rps": round(loads.timeline.rps, 1),
                "timeline_p99_ms": round(loads.timeline.percentile(0.99), 2),
            }
            rate = max(record.rps / 2, 1.0)
            lag, missed = probes.projection_lag_p99(server.address, rate, self.plan.seconds)
            self.results |= {
                "projection_lag_p99_ms": round(lag, 2),
                "projection_lag_rate": round(rate, 1),
                "projection_lag_missed": missed,
            }
        finally:
            self._stop(server)

    def _serving_processes(self) -> None:
        """The same loads with CRM_SERVE_PROCESSES at 1 and at 2, each driven by
        CLIENT_PROCESSES client processes (one would be the bottleneck)."""
        with ClientProcesses(CLIENT_PROCESSES) as clients:
            for processes in (1, 2):
                self._serve_processes(processes, clients)

    def _serve_processes(self, processes: int, clients: ClientProcesses) -> None:
        url = self._url(f"processes{processes}")
        server = crm_server(url, OUT / f"crm-processes-{processes}.log", processes)
        try:
            loads = self._record_then_read(server, clients)
        finally:
            server.stop()  # Not in server_rss_mb: that is one serving process's.
        self.results |= {
            f"record_rps_{processes}proc": round(loads.record.rps, 1),
            f"record_errors_{processes}proc": loads.record.errors,
            f"timeline_rps_{processes}proc": round(loads.timeline.rps, 1),
            f"record_{processes}proc_cpu_pct": loads.record_cpu,
            f"timeline_{processes}proc_cpu_pct": loads.timeline_cpu,
        }

    def _record_then_read(self, server: Server, clients: ClientProcesses | None = None) -> Loads:
        """Writes for known and new customers, then timeline pages of known ones."""
        known = [email(n) for n in range(self.plan.known_customers)]
        customers = probes.register(server.address, known)
        requests = record_requests(int(self.plan.seconds * 4_000), known, 0.5)
        with cpu_shares(server) as record_cpu:
            record = run_load(
                server.address,
                RECORD,
                requests,
                32,
                self.plan.seconds,
                1,
                probes.ACTOR,
                clients,
            )
        readers = min(64, len(known))
        history_end = probes.add_history(server.address, known[:readers], 60)
        # Reads are measured once the read models have taken in that history.
        probes.wait_caught_up(server.address, customers[0], history_end)
        reads = timeline_requests(customers[:readers])
        with cpu_shares(server) as timeline_cpu:
            timeline = run_load(
                server.address,
                TIMELINE,
                reads,
                16,
                self.plan.seconds,
                1,
                probes.ACTOR,
                clients,
            )
        return Loads(record, record_cpu, timeline, timeline_cpu)

    def _import(self) -> None:
        server = self._serve("import", self._url("import"))
        try:
            with cpu_shares(server) as import_cpu:
                eps, _ = probes.import_throughput(server.address, self.plan.import_records)
            self.results["import_cpu_pct"] = import_cpu
            self.results["import_eps"] = round(eps, 1)
            self.results["import_records"] = self.plan.import_records
        finally:
            self._stop(server)

    def _small_and_large_stores(self) -> None:
        for size, events in (("small", self.plan.small_events), ("large", self.plan.large_events)):
            url = self._url(size)
            customer, log_end = self._seed(url, events)
            server = self._serve(size, url)
            try:
                name = f"customers/{customer}"
                probes.wait_caught_up(server.address, name, log_end)
                reads = timeline_requests([name])
                load = run_load(
                    server.address, TIMELINE, reads, 1, self.plan.seconds, 1, probes.ACTOR
                )
                self.results[f"timeline_p99_ms_c1_{size}"] = round(load.percentile(0.99), 2)
                self.results[f"store_events_{size}"] = events
                if size == "large":
                    self._large_store_figures(server.address, name)
            finally:
                self._stop(server)

    def _large_store_figures(self, address: str, customer: str) -> None:
        self.results["replay_eps"] = round(probes.replay_throughput(address), 1)
        big, new = probes.write_cost_ms(address, customer, self.plan.write_samples)
        self.results |= {
            "record_p50_ms_long_history": round(big, 2),
            "record_p50_ms_new_customer": round(new, 2),
            "long_history_write_ratio": _ratio(big, new),
        }

    def _seed(self, url: str, events: int) -> tuple[Any, int]:
        env = eventsourcing_env(url)
        ensure_postgres_schema(env)
        app = open_application(env)
        try:
            interactions = min(self.plan.read_customer_interactions, events)
            customer = seed_store(app, events, interactions)
            return customer, app.recorder.max_notification_id() or 0
        finally:
            app.close()

    def _drop_schemas(self) -> None:
        with psycopg.connect(self.database, autocommit=True) as connection:
            for schema in self.schemas:
                connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


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
    database = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = Bench(Plan.from_environ(), database).run()
    run = {
        "mode": "tiny"
        if os.environ.get("BENCH_TINY") == "1"
        else "quick"
        if os.environ.get("BENCH_QUICK") == "1"
        else "full",
        "postgres": postgres_settings(database),
        "machine": machine(),
        "seconds": round(time.monotonic() - started, 1),
    }
    (OUT / "results.json").write_text(json.dumps({**results, "run": run}, indent=2) + "\n")
    print(table(results))
    print(cpu_table(results))
    print(f"\n{run['mode']} run, {run['seconds']} s; {run['postgres']}; {run['machine']}")
    return 0
