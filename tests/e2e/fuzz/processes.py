"""The gateway as its own process, as scripts/run-dev.sh starts it, and what processes print."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[3]


class GatewayProcess:
    """`python -m services.gateway` on a free port, configured as scripts/run-dev.sh
    configures it; its output is kept for the test to read."""

    def __init__(self, crm_port: int, **extra_env: str) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'gen' / 'python'}{os.pathsep}{ROOT}",
            "CRM_GATEWAY_CRM_ADDRESS": f"127.0.0.1:{crm_port}",
            "CRM_GATEWAY_PORT": str(self.port),
            **extra_env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.gateway"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_until_serving(timeout=60)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def _wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the gateway did not serve; output:\n{''.join(self.lines)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# The last line of a Python traceback, e.g. "RecursionError: maximum recursion depth".
EXCEPTION_LINE = re.compile(r"^(\w+\.)*\w*(Error|Exception|Exit|Interrupt)\b.*")


def exceptions_by_request(lines: list[str]) -> dict[str, str]:
    """The error the CRM logged for each call that raised, and where."""
    found = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("error"), str):
            found[str(record.get("request_id"))] = _raised(record)[:200]
    return found


def _raised(record: dict[str, Any]) -> str:
    """An error as the services log it: its type and where it was raised (never its
    message, which may quote the request)."""
    frames = record.get("frames") or [""]
    where = str(frames[-1]).strip().splitlines()[0] if frames[-1] else ""
    return f"{record['error']} at {where}"


def exception_lines(lines: list[str]) -> list[str]:
    """The distinct last lines of the tracebacks in a process's output, JSON or not."""
    found: list[str] = []
    for line in lines:
        texts = [line]
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("error"), str):
            texts = [record["error"]]
        for text in texts:
            match = EXCEPTION_LINE.match(text.strip())
            if match and match.group(0) not in found:
                found.append(match.group(0)[:300])
    return found
