"""`crm deadlines` as a process of its own: killed as it fires, down while deadlines
fall due, and two of them on PostgreSQL. Time moves by the test clock, never by sleeping."""

from __future__ import annotations

import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from services.crm.application import CustomerHistory
from services.crm.application.deadlines import schedule
from services.crm.deadlines.clock import set_test_clock
from services.crm.lease import lease_key
from services.crm.storage import eventsourcing_env
from tests.deadline_log import START, fired_keys
from tests.e2e.logged_process import LoggedProcess
from tests.e2e.server_process import crm_env
from tests.leases import end_holder_session


class DeadlineEngineProcess(LoggedProcess):
    """`python -m services.crm deadlines` on a test clock read from clock_file."""

    def __init__(self, database_url: str, clock_file: Path, **extra_env: str) -> None:
        env = crm_env(
            database_url,
            CRM_CLOCK=f"file:{clock_file}",
            CRM_TEST_CLOCK="on",
            CRM_DEADLINES_POLL_SECONDS="0.05",
            CRM_LEASE_RETRY_SECONDS="0.2",
            **extra_env,
        )
        super().__init__([sys.executable, "-m", "services.crm", "deadlines"], env)

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def wait_until_fired(app: CustomerHistory, key: str, timeout: float = 30) -> list[str]:
    """The fired keys once key is among them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if key in (keys := fired_keys(app)):
            return keys
        time.sleep(0.05)
    raise AssertionError(f"{key} did not fire; fired: {fired_keys(app)}")


@pytest.mark.parametrize(
    ("crash_at", "fired_before_restart"), [("before-record", []), ("after-record", ["b"])]
)
def test_deadlines_missed_while_down_fire_once_each_in_due_order_though_killed_mid_fire(
    app: CustomerHistory,
    database_url: str,
    tmp_path: Path,
    crash_at: str,
    fired_before_restart: list[str],
) -> None:
    clock = tmp_path / "clock"
    set_test_clock(clock, START)
    for key, minutes in (("a", 3), ("b", 1), ("c", 2), ("later", 60)):
        schedule(app, key, START + timedelta(minutes=minutes), "test.due")
    set_test_clock(clock, START + timedelta(minutes=10))

    crashing = DeadlineEngineProcess(database_url, clock, CRM_DEADLINES_TEST_CRASH=crash_at)
    assert crashing.process.wait(30) == -signal.SIGKILL
    assert fired_keys(app) == fired_before_restart

    engine = DeadlineEngineProcess(database_url, clock)
    try:
        assert wait_until_fired(app, "a") == ["b", "c", "a"]
        set_test_clock(clock, START + timedelta(hours=2))
        # Fired in due order, so once "later" has, no earlier one can fire again.
        assert wait_until_fired(app, "later") == ["b", "c", "a", "later"]
    finally:
        assert engine.stop() == 0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_second_engine_stands_by_and_fires_each_deadline_once_after_the_first_is_killed(
    app: CustomerHistory, database_url: str, postgres_server: str, tmp_path: Path
) -> None:
    clock = tmp_path / "clock"
    set_test_clock(clock, START)
    first = DeadlineEngineProcess(database_url, clock)
    first.wait_for_log("deadline engine running", timeout=30)
    second = DeadlineEngineProcess(database_url, clock)
    try:
        second.wait_for_log("standby", timeout=30)
        schedule(app, "before-takeover", START + timedelta(minutes=1), "test.due")
        set_test_clock(clock, START + timedelta(minutes=2))
        assert wait_until_fired(app, "before-takeover") == ["before-takeover"]
        assert second.logged("deadline engine running") == []

        first.process.kill()
        second.wait_for_log("deadline engine running", timeout=30)
        schedule(app, "after-takeover", START + timedelta(minutes=3), "test.due")
        set_test_clock(clock, START + timedelta(minutes=4))
        assert wait_until_fired(app, "after-takeover") == ["before-takeover", "after-takeover"]

        schema = eventsourcing_env(database_url)["POSTGRES_SCHEMA"]
        end_holder_session(postgres_server, lease_key("deadlines", schema))
        # It cannot know it fires alone any more: it exits, to be started as a standby.
        assert second.process.wait(10) == 1
        assert second.logged("deadline engine exiting: it lost the lease")
    finally:
        first.stop()
        second.stop()
