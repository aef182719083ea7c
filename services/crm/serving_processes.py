"""Several serving processes on one port: with CRM_SERVE_PROCESSES above 1, `crm serve`
is a parent that keeps that many single-process servers running, all on its port.

grpc cannot be used across fork(), so each child is a fresh interpreter. The kernel
spreads new connections over the children (SO_REUSEPORT), not calls: a client that
holds one connection talks to one child."""

from __future__ import annotations

import logging
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import multiprocess

from services.crm.child_processes import child_environ, die_with_parent
from services.crm.config import Settings
from services.crm.metrics.wiring import serve_metrics
from services.crm.projector import ProjectionProcess
from services.crm.stop_signals import StopSignals
from services.crm.storage import ensure_postgres_schema, eventsourcing_env
from services.metrics_server import MetricsServer

logger = logging.getLogger(__name__)
CHILD_OF = "CRM_SERVE_PARENT_PID"
READY_FD = "CRM_SERVE_READY_FD"
# A child waits this long for its database on start, like any single process would.
START_MARGIN_SECONDS = 60.0
# Beyond the children's own drain, for their interpreters to end.
STOP_MARGIN_SECONDS = 5.0
# A child that keeps dying is restarted at most once a second.
RESTART_INTERVAL_SECONDS = 1.0


class ServingProcessError(RuntimeError):
    """A serving process ended before it could serve."""


def serve_processes(settings: Settings, signals: StopSignals) -> None:
    """Run settings.serve_processes servers on one port until SIGTERM or SIGINT, then
    drain them all and stop the projection."""
    env = eventsourcing_env(settings.database_url, settings.database_timeout_seconds)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
        ensure_postgres_schema(env)  # Once, here, rather than raced by every child.
    with _reserved_port(settings.listen_address) as address, _metrics_directory() as metrics:
        projections = [ProjectionProcess(settings)] if settings.projections == "process" else []
        for projection in projections:
            projection.start()
        metrics_server: MetricsServer | None = None
        children = ServingChildren(settings.serve_processes, _child_env(settings, address, metrics))
        try:
            children.start(settings.database_timeout_seconds + START_MARGIN_SECONDS, signals)
            if not signals.received:
                metrics_server = serve_metrics(settings, multiprocess_dir=metrics)
                _announce(settings, address, metrics_server)
            while not signals.received:
                children.keep_running(0.2)
            logger.info("stopping", extra={"fields": {"signal": signals.received[0].name}})
        except ServingProcessError:
            logger.exception("a serving process did not start")
            raise SystemExit(1) from None
        finally:
            if metrics_server is not None:
                metrics_server.close()
            children.stop(settings.shutdown_grace_seconds + STOP_MARGIN_SECONDS)
            for projection in projections:
                projection.stop()
    logger.info("stopped")


def _announce(settings: Settings, address: str, metrics: MetricsServer | None) -> None:
    port = int(address.rpartition(":")[2])
    logger.info(
        "serving",
        extra={
            "fields": {
                "address": settings.listen_address,
                "port": port,
                "processes": settings.serve_processes,
                "metrics_port": metrics and metrics.port,
            }
        },
    )


def serving_parent() -> int:
    """The parent's pid when this process is one of several serving processes, which
    then dies with it; else 0."""
    parent = int(os.environ.get(CHILD_OF) or 0)
    if parent:
        die_with_parent()
    return parent


def tell_parent_serving() -> None:
    fd = os.environ.get(READY_FD)
    if not fd:
        return
    try:
        os.write(int(fd), b"1")
        os.close(int(fd))
    except OSError:
        logger.warning("the parent no longer waits for this process to serve")


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    started: float
    # The pipe's read end until the child says it serves.
    ready: int | None
    exit_logged: bool = False
    # Its pipe closed with nothing said: it ended before it served.
    never_served: bool = False


class ServingChildren:
    """count `crm serve` children, started by one thread (see die_with_parent) and
    replaced when they die."""

    def __init__(self, count: int, env: dict[str, str]) -> None:
        self.count = count
        self.env = env
        self.children: list[_Child] = []

    def start(self, timeout: float, signals: StopSignals) -> None:
        """Returns once every child serves, or a stop signal came."""
        self.children = [self._spawn() for _ in range(self.count)]
        deadline = time.monotonic() + timeout
        while any(child.ready is not None for child in self.children):
            if signals.received:
                return
            self._take_ready(0.2)
            for child in self.children:
                ended = child.ready is not None and child.process.poll() is not None
                if child.never_served or ended:
                    raise ServingProcessError(f"exit code {child.process.wait(30)}")
            if time.monotonic() > deadline:
                raise ServingProcessError(f"not serving after {timeout:.0f} s")

    def keep_running(self, wait: float) -> None:
        """Waits up to wait seconds for news, and replaces a child that died."""
        self._take_ready(wait)
        for slot, child in enumerate(self.children):
            code = child.process.poll()
            if code is None:
                continue
            if not child.exit_logged:
                child.exit_logged = True
                self._forget(child)
                logger.error(
                    "serving process exited; restarting",
                    extra={"fields": {"pid": child.process.pid, "exit_code": code}},
                )
            if time.monotonic() - child.started >= RESTART_INTERVAL_SECONDS:
                self.children[slot] = self._spawn()

    def stop(self, timeout: float) -> None:
        """SIGTERM to every child, so each drains its calls; killed after timeout."""
        for child in self.children:
            if child.process.poll() is None:
                child.process.terminate()
        deadline = time.monotonic() + timeout
        for child in self.children:
            try:
                child.process.wait(max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                logger.error("serving process killed", extra={"fields": {"pid": child.process.pid}})
                child.process.kill()
                child.process.wait()
            self._forget(child)

    def _spawn(self) -> _Child:
        ready, tell = os.pipe()
        try:
            # A session of its own: Ctrl-C reaches the parent, which then stops the
            # children, rather than all at once and a restart in the middle.
            process = subprocess.Popen(
                [sys.executable, "-m", "services.crm", "serve"],
                env={**self.env, READY_FD: str(tell)},
                pass_fds=(tell,),
                start_new_session=True,
            )
        finally:
            os.close(tell)
        return _Child(process, time.monotonic(), ready)

    def _take_ready(self, wait: float) -> None:
        waiting = {child.ready: child for child in self.children if child.ready is not None}
        if not waiting:
            time.sleep(wait)
            return
        readable, _, _ = select.select(list(waiting), [], [], wait)
        for fd in readable:
            child = waiting[fd]
            said = os.read(fd, 1)
            os.close(fd)
            child.ready = None
            if said:
                logger.info("serving process ready", extra={"fields": {"pid": child.process.pid}})
            else:  # It ended first; once started, keep_running replaces it.
                child.never_served = True

    def _forget(self, child: _Child) -> None:
        if child.ready is not None:
            os.close(child.ready)
            child.ready = None
        metrics = self.env.get("PROMETHEUS_MULTIPROC_DIR")
        if metrics:
            multiprocess.mark_process_dead(child.process.pid, metrics)  # type: ignore[no-untyped-call]


def _child_env(settings: Settings, address: str, metrics_dir: str) -> dict[str, str]:
    return child_environ(
        CRM_SERVE_PROCESSES="1",
        CRM_LISTEN_ADDRESS=address,
        # The parent runs the one projection, and serves the one metrics port: the
        # children write theirs to the directory (services/metrics_server.py).
        CRM_PROJECTIONS="off",
        PROMETHEUS_MULTIPROC_DIR=metrics_dir,
        **{CHILD_OF: str(os.getpid())},
    )


@contextmanager
def _reserved_port(listen_address: str) -> Iterator[str]:
    """Binds (without listening) a socket that shares its port, so port 0 becomes a
    real port every child then binds, and no other program takes it meanwhile;
    yields the children's HOST:PORT."""
    host, _, port = listen_address.rpartition(":")
    family, kind, proto, _, where = socket.getaddrinfo(
        host.strip("[]"), int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as reserved:
        reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        reserved.bind(where)
        yield f"{host}:{reserved.getsockname()[1]}"


@contextmanager
def _metrics_directory() -> Iterator[str]:
    """Under the system's temporary directory, which stays writable when the root
    filesystem is read-only (an emptyDir at /tmp)."""
    path = tempfile.mkdtemp(prefix="crm-metrics-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
