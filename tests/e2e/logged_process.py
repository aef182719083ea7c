"""A service started as its own process, whose JSON log lines the test reads."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class LoggedProcess:
    """Keeps every line the process prints, and finds log lines by their message."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path = ROOT) -> None:
        self.env = env
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            encoding="utf-8",
            errors="backslashreplace",
        )
        self.lines: list[str] = []
        self._incoming: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            self._incoming.put(line)

    def logged(self, message: str) -> list[dict[str, Any]]:
        """The log lines so far with this message."""
        return [
            record for record in map(_json, list(self.lines)) if record.get("message") == message
        ]

    def wait_for_log(self, message: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._incoming.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            record = _json(line)
            if record.get("message") == message:
                return record
        raise AssertionError(f"no {message!r} log line; output:\n{''.join(self.lines)}")


def _json(line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}
