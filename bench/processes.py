"""Server processes for the benchmark: started on port 0, their peak memory read at the end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class Server:
    """A server process whose first lines say its port."""

    def __init__(self, args: list[str], extra_env: dict[str, str], log: Path) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT / 'gen' / 'python'}{os.pathsep}{ROOT}",
            **extra_env,
        }
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, *args], cwd=ROOT, env=env, stdout=output, stderr=output
            )
        self.port = self._read_port()
        self.address = f"127.0.0.1:{self.port}"

    def _read_port(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text().splitlines():
                if line.startswith("port "):
                    return int(line.split()[1])
                if line.startswith("{") and json.loads(line).get("message") == "serving":
                    return int(json.loads(line)["port"])
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.process.args!r} did not start; see {self.log}")

    def peak_rss_mb(self) -> float:
        """The high-water mark of resident memory (VmHWM) of the process and of its
        children (the CRM's projector), added up."""
        return sum(_peak_mb(pid) for pid in [self.process.pid, *children(self.process.pid)])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kilobytes = next(
        int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
    )
    return kilobytes / 1024


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # A thread that ended while being read.
            continue
    return found


def crm_server(database_url: str, log: Path, serve_processes: int = 1) -> Server:
    return Server(
        ["-m", "services.crm", "serve"],
        {
            "CRM_DATABASE_URL": database_url,
            "CRM_LISTEN_ADDRESS": "127.0.0.1:0",
            # Recorded as in production, on a port no other bench server holds.
            "CRM_METRICS_ADDRESS": "127.0.0.1:0",
            "CRM_MAX_READ_WAIT_SECONDS": "30",
            # The lag probe watches 16 customers as one caller, as 16 consoles would.
            "CRM_MAX_WATCHERS_PER_CALLER": "16",
            "CRM_SERVE_PROCESSES": str(serve_processes),
        },
        log,
    )


def baseline_server(kind: str, log: Path, database_url: str = "") -> Server:
    args = ["-m", "bench.baseline_servers", kind, "--database-url", database_url]
    return Server(args, {}, log)
