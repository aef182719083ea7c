"""CPU used by each party of a measurement, read from /proc: where the cores went."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.processes import Server, children

TICKS = os.sysconf("SC_CLK_TCK")


@contextmanager
def cpu_shares(server: Server) -> Iterator[dict[str, float]]:
    """Percent of one core used by the service (with its serving processes), its
    projector, PostgreSQL (all of the machine's, as the benchmark owns it) and the
    client (this process and its client processes) while the block runs; filled in
    when it ends."""
    shares: dict[str, float] = {}
    before, started = _seconds(server), time.monotonic()
    yield shares
    after, elapsed = _seconds(server), time.monotonic() - started
    # A process that ended meanwhile takes its seconds along: never below zero.
    shares.update(
        {party: round(max(after[party] - before[party], 0.0) / elapsed * 100, 1) for party in after}
    )


def _seconds(server: Server) -> dict[str, float]:
    helpers = children(server.process.pid)
    projector = [pid for pid in helpers if _arguments(pid)[-1:] == ["project"]]
    service = [server.process.pid, *(pid for pid in helpers if pid not in projector)]
    postgres = [pid for pid in _pids() if _command(pid) == "postgres"]
    own = os.times()
    clients = [pid for pid in children(os.getpid()) if pid != server.process.pid]
    return {
        "service": sum(_cpu(pid) for pid in service),
        "projector": sum(_cpu(pid) for pid in projector),
        "postgres": sum(_cpu(pid) for pid in postgres),
        "client": own.user + own.system + sum(_cpu(pid) for pid in clients),
    }


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _arguments(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().rstrip("\0").split("\0")
    except OSError:
        return []


def _cpu(pid: int) -> float:
    """User and system seconds of a process so far; 0 for one that has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS
