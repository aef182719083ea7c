"""Runs the service as a real process, as `make run` does, and reads its JSON logs."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import grpc
from crm.v1 import customer_history_service_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    def __init__(self, database_url: str, **extra_env: str) -> None:
        self.env = env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'gen' / 'python'}{os.pathsep}{ROOT}",
            "CRM_DATABASE_URL": database_url,
            "CRM_LISTEN_ADDRESS": "127.0.0.1:0",
            "CRM_MAX_READ_WAIT_SECONDS": "30",
            **extra_env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.crm", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._incoming: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = int(self.wait_for_log("serving", timeout=60)["port"])
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = customer_history_service_pb2_grpc.CustomerHistoryServiceStub(self.channel)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._incoming.put(line)

    def wait_for_log(self, message: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._incoming.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("message") == message:
                return dict(record)
        raise AssertionError(f"no {message!r} log line; output:\n{''.join(self.lines)}")

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
