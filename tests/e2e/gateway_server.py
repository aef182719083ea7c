"""The gateway as its own process, as `make run` starts it, in front of a CRM process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.e2e.logged_process import ROOT, LoggedProcess
from tests.e2e.server_process import ServerProcess


class GatewayProcess(LoggedProcess):
    """`python -m services.gateway` on a free port, configured by CRM_GATEWAY_* variables."""

    def __init__(self, crm_address: str, **settings: str) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'gen' / 'python'}{os.pathsep}{ROOT}",
            "CRM_GATEWAY_CRM_ADDRESS": crm_address,
            "CRM_GATEWAY_HOST": "127.0.0.1",
            "CRM_GATEWAY_PORT": "0",
            "CRM_GATEWAY_METRICS_ADDRESS": "127.0.0.1:0",
            **settings,
        }
        super().__init__([sys.executable, "-m", "services.gateway"], env)
        serving = self.wait_for_log("serving", timeout=60)
        self.port = int(serving["port"])
        self.url = f"http://127.0.0.1:{self.port}"
        # None when the test turned metrics off.
        self.metrics_port: int | None = serving.get("metrics_port")

    def records(self) -> list[dict[str, Any]]:
        """Every log line so far, parsed; a line that is not JSON fails the test."""
        return [json.loads(line) for line in list(self.lines)]

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout)


@contextmanager
def serve_gateway(crm_address: str, **settings: str) -> Iterator[GatewayProcess]:
    """Yields the running gateway; it stops when the block ends."""
    gateway = GatewayProcess(crm_address, **settings)
    try:
        yield gateway
    finally:
        gateway.stop()


@contextmanager
def crm_process(
    request: pytest.FixtureRequest, directory: Path, **extra_env: str
) -> Iterator[ServerProcess]:
    """A CRM process on a database of its own, for a module-scoped fixture whose param
    is the backend ("sqlite" or "postgres"), as tests/conftest.py's database_url."""
    with _database(request, directory) as url:
        server = ServerProcess(url, **extra_env)
        try:
            yield server
        finally:
            if server.process.poll() is None:
                server.terminate()


@contextmanager
def _database(request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{directory}/crm.sqlite3"
        return
    postgres: str = request.getfixturevalue("postgres_server")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{postgres}?schema={schema}"
    finally:
        with psycopg.connect(postgres, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )
