"""Runs the service as a real process, as `make run` does, and reads its JSON logs."""

from __future__ import annotations

import os
import signal
import sys

import grpc
from crm.v1 import customer_history_service_pb2_grpc

from tests.e2e.logged_process import ROOT, LoggedProcess


def crm_env(database_url: str, **extra_env: str) -> dict[str, str]:
    """The environment `crm` commands run with in the tests."""
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'gen' / 'python'}{os.pathsep}{ROOT}",
        "CRM_DATABASE_URL": database_url,
        "CRM_LISTEN_ADDRESS": "127.0.0.1:0",
        "CRM_METRICS_ADDRESS": "127.0.0.1:0",
        "CRM_MAX_READ_WAIT_SECONDS": "30",
        **extra_env,
    }


class ProjectorProcess(LoggedProcess):
    """`python -m services.crm project`, as a deployment of its own runs it."""

    def __init__(self, database_url: str, **extra_env: str) -> None:
        command = [sys.executable, "-m", "services.crm", "project"]
        super().__init__(command, crm_env(database_url, **extra_env))

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


class ServerProcess(LoggedProcess):
    def __init__(self, database_url: str, **extra_env: str) -> None:
        command = [sys.executable, "-m", "services.crm", "serve"]
        super().__init__(command, crm_env(database_url, **extra_env))
        serving = self.wait_for_log("serving", timeout=60)
        self.port = int(serving["port"])
        # None when the test turned metrics off.
        self.metrics_port: int | None = serving.get("metrics_port")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(self.channel)

    def terminate(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self._wait(timeout)

    def kill(self) -> None:
        self.process.kill()
        self._wait(30)

    def _wait(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        self.channel.close()
        return code
