"""The package as an operator installs it (scripts/build-venv.sh, which the image runs):
`crm` and `crm-gateway` work from any folder with no PYTHONPATH."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx2 as httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e import operator_venv
from tests.e2e.logged_process import LoggedProcess
from tests.e2e.operator_venv import operator_env

pytestmark = pytest.mark.slow
SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def outside() -> Iterator[Path]:
    """A folder outside the repository, so nothing is imported from the source tree,
    holding the venv build-venv.sh made (started with the test run: operator_venv.py)."""
    yield operator_venv.built()
    operator_venv.remove()


@pytest.fixture(scope="module")
def bin_dir(outside: Path) -> Path:
    return outside / "venv" / "bin"


@pytest.fixture(scope="module")
def crm(bin_dir: Path, outside: Path) -> Iterator[LoggedProcess]:
    env = operator_env(
        CRM_LISTEN_ADDRESS="127.0.0.1:0",
        CRM_DATABASE_URL=f"sqlite:///{outside}/crm.sqlite3",
        CRM_PROJECTIONS="thread",
        CRM_METRICS_ADDRESS="127.0.0.1:0",
    )
    process = LoggedProcess([str(bin_dir / "crm"), "serve"], env, cwd=outside)
    yield process
    if process.process.poll() is None:
        process.process.kill()
        process.process.wait(30)


def test_crm_help_lists_every_command(bin_dir: Path, outside: Path) -> None:
    shown = subprocess.run(
        [str(bin_dir / "crm"), "--help"],
        cwd=outside,
        env=operator_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    listed = {line.split()[0] for line in shown.stdout.splitlines() if line.startswith("    ")}
    assert shown.returncode == 0, shown.stderr
    assert {"serve", "project", "import", "rebuild-projections", "demo-data"} <= listed


def test_crm_gateway_refuses_a_bad_setting_by_name(bin_dir: Path, outside: Path) -> None:
    refused = subprocess.run(
        [str(bin_dir / "crm-gateway")],
        cwd=outside,
        env=operator_env(CRM_GATEWAY_HEADER_TIMEOUT_SECONDS="0"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert refused.returncode == 2
    assert "CRM_GATEWAY_HEADER_TIMEOUT_SECONDS must be a number of seconds above 0" in (
        refused.stderr
    )


def test_crm_gateway_serves_the_agent_console_from_the_package(
    bin_dir: Path, outside: Path
) -> None:
    gateway = LoggedProcess(
        [str(bin_dir / "crm-gateway")],
        operator_env(CRM_GATEWAY_PORT="0", CRM_GATEWAY_METRICS_ADDRESS="127.0.0.1:0"),
        cwd=outside,
    )
    try:
        port = gateway.wait_for_log("serving", timeout=60)["port"]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            page = client.get("/console/")
            script = client.get("/console/console.js")
    finally:
        gateway.process.send_signal(signal.SIGTERM)
        gateway.process.wait(30)

    assert page.status_code == 200
    assert "<html" in page.text.lower()
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")


def test_crm_serve_answers_its_health_check_and_stops_cleanly_on_sigterm(
    crm: LoggedProcess,
) -> None:
    port = crm.wait_for_log("serving", timeout=60)["port"]
    request = health_pb2.HealthCheckRequest(service="crm.v1.CustomerHistoryService")
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        statuses = health_pb2_grpc.HealthStub(channel).Watch(request, timeout=30)
        serving = next((s for s in statuses if s.status == SERVING), None)
        statuses.cancel()

    crm.process.send_signal(signal.SIGTERM)

    assert serving is not None
    assert crm.process.wait(30) == 0
