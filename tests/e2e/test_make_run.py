"""`make run`'s script: both services up, a console address that works, Ctrl-C stops both."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx2 as httpx

from tests import random_refs
from tests.e2e.http_helpers import record_by_email

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_make_run(tmp_path: Path) -> tuple[subprocess.Popen[str], queue.Queue[str], int, int]:
    """scripts/run-dev.sh, as `make run` starts it, on free ports and a fresh database;
    its output arrives line by line in the queue."""
    gateway_port, crm_port = free_port(), free_port()
    env = {
        **os.environ,
        "CRM_DATABASE_URL": f"sqlite:///{tmp_path}/crm.sqlite3",
        "CRM_LISTEN_ADDRESS": f"127.0.0.1:{crm_port}",
        "CRM_GATEWAY_PORT": str(gateway_port),
        # Not the default ports, which a `make run` on this machine may hold.
        "CRM_METRICS_ADDRESS": "127.0.0.1:0",
        "CRM_GATEWAY_METRICS_ADDRESS": "127.0.0.1:0",
    }
    process = subprocess.Popen(
        ["scripts/run-dev.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process, lines), daemon=True).start()
    return process, lines, gateway_port, crm_port


def test_run_dev_serves_the_console_and_the_api_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process, lines, gateway_port, crm_port = start_make_run(tmp_path)
    try:
        console = _wait_for(lines, re.compile(r"Agent console\s+(\S+)"))
        token = console.split("#token=")[1]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{gateway_port}", timeout=30) as client:
            page = client.get(console.split("#")[0])
            email = random_refs.email()
            recorded = record_by_email(client, headers, email, "Tried the console")
            search = {"identity.email": email, "minPosition": recorded["commitPosition"]}
            found = client.get("/v1/customers:search", params=search)
            found_as_agent = client.get("/v1/customers:search", params=search, headers=headers)

        assert page.status_code == 200
        assert "<html" in page.text.lower()
        assert recorded["interaction"]["recordedBy"] == "agent:dev-agent"
        assert found.status_code == 401
        assert found_as_agent.json()["customers"][0]["name"] == recorded["interaction"]["customer"]
    finally:
        os.killpg(process.pid, signal.SIGINT)
        exit_code = process.wait(30)
    assert exit_code in (0, 130)
    assert not _listening(crm_port)
    assert not _listening(gateway_port)


def test_make_run_shows_demo_customers_and_the_readme_hint_finds_ada_once_named(
    tmp_path: Path,
) -> None:
    process, lines, gateway_port, _ = start_make_run(tmp_path)
    try:
        demo = _wait_for(lines, re.compile(r"^(demo data: .*)$"))
        token = _wait_for(lines, re.compile(r"Agent console\s+\S+#token=(\S+)"))
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{gateway_port}", timeout=30) as client:
            juniper = client.get("/v1/customers:search?name=juniper", headers=headers).json()
            for summary in ("Where is my order?", "Called back", "Thanks!"):
                recorded = record_by_email(client, headers, "ada@example.com", summary)
            nameless = client.get("/v1/customers:search?name=ada", headers=headers)
            customer = recorded["interaction"]["customer"]
            named = client.patch(
                f"/v1/{customer}",
                headers=headers,
                json={
                    "customer": {"displayName": "Ada Lovelace"},
                    "updateMask": "displayName",
                    "reason": "told us on the phone",
                },
            )
            position = named.json()["commitPosition"]
            found = client.get(
                f"/v1/customers:search?name=ada&minPosition={position}", headers=headers
            )
            timeline = client.get(
                f"/v1/{customer}/timeline?minPosition={position}", headers=headers
            )
            newest = timeline.json()["entries"][0]
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)

    assert demo.startswith("demo data: 5 fictional customers")
    assert [c["displayName"] for c in juniper["customers"]] == ["Juniper Testwell"]
    assert nameless.json() == {}
    assert named.status_code == 200, named.text
    assert named.json()["customer"]["displayName"] == "Ada Lovelace"
    assert [c["name"] for c in found.json()["customers"]] == [customer]
    assert newest["customerChange"] == {
        "kind": "CUSTOMER_CHANGE_KIND_PROFILE_UPDATED",
        "actor": "agent:dev-agent",
        "reason": "told us on the phone",
        "updatedFields": ["display_name"],
        "displayName": "Ada Lovelace",
    }


def _wait_for(lines: queue.Queue[str], pattern: re.Pattern[str], timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        if match := pattern.search(line):
            return match.group(1)
    raise AssertionError("make run printed no console address:\n" + "".join(seen))


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _pump(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    for line in process.stdout or ():
        lines.put(line)
