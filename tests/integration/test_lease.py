"""The lease that keeps a once-per-deployment process to one holder, on PostgreSQL."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from services.crm.lease import Lease, lease_key
from services.crm.storage import eventsourcing_env
from tests.leases import end_holder_session

MakeLease = Callable[..., Lease]


@pytest.fixture
def make_lease(postgres_server: str) -> Iterator[MakeLease]:
    """Leases in a schema of this test's own (the schema need not exist: it names the
    key); every lease made is released afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    made: list[Lease] = []

    def make(name: str = "projector", retry_seconds: float = 0.2, in_schema: str = "") -> Lease:
        env = eventsourcing_env(f"{postgres_server}?schema={in_schema or schema}")
        made.append(Lease(name, env, retry_seconds))
        return made[-1]

    yield make
    for lease in made:
        lease.release()


def acquired_at_once(lease: Lease) -> bool:
    """One try, then give up: whether the lease was free."""
    asked = iter([False])
    return lease.acquire(lambda: next(asked, True))


class Standby:
    """A lease acquired in a thread of its own, as a standby process would."""

    def __init__(self, lease: Lease) -> None:
        self.lease = lease
        self.stop = threading.Event()
        self.result: bool | None = None
        self.acquired_at = 0.0
        self._thread = threading.Thread(target=self._acquire, daemon=True)
        self._thread.start()

    def _acquire(self) -> None:
        self.result = self.lease.acquire(self.stop.is_set)
        self.acquired_at = time.monotonic()

    def wait(self, timeout: float) -> bool | None:
        self._thread.join(timeout)
        return self.result


def test_the_lease_key_stays_the_same_across_releases() -> None:
    # Old and new versions side by side during a rolling update must contend for one key.
    assert lease_key("projector", "public") == 7514020251323627593
    assert lease_key("deadlines", "public") == -1737610280675439533


def test_one_holder_at_a_time_and_the_second_waits(make_lease: MakeLease) -> None:
    first = make_lease()
    assert acquired_at_once(first)
    assert first.held()

    second = Standby(make_lease())
    assert second.wait(1.0) is None, "a second holder while the first holds"
    assert not second.lease.held()
    second.stop.set()
    assert second.wait(5) is False


def test_a_standby_takes_over_within_the_retry_interval_of_a_release(
    make_lease: MakeLease,
) -> None:
    first = make_lease(retry_seconds=0.5)
    assert acquired_at_once(first)
    second = Standby(make_lease(retry_seconds=0.5))
    assert second.wait(0.8) is None

    released = time.monotonic()
    first.release()

    assert second.wait(5) is True
    assert second.lease.held()
    assert second.acquired_at - released <= 0.5 + 0.5  # One retry interval, and slack.


def test_a_holder_whose_session_ends_learns_it_lost_and_a_standby_takes_over(
    make_lease: MakeLease, postgres_server: str
) -> None:
    first = make_lease(retry_seconds=0.2)
    assert acquired_at_once(first)
    second = Standby(make_lease(retry_seconds=0.2))
    assert second.wait(0.5) is None

    end_holder_session(postgres_server, first.key)

    assert second.wait(5) is True
    assert first.lost.wait(5), "the holder keeps working without its lease"
    assert not first.held()


def test_leases_of_two_schemas_or_two_names_never_block_each_other(
    make_lease: MakeLease,
) -> None:
    assert acquired_at_once(make_lease())
    assert acquired_at_once(make_lease(in_schema=f"test_{uuid.uuid4().hex[:12]}"))
    assert acquired_at_once(make_lease("deadlines"))
    assert not acquired_at_once(make_lease())


def test_a_standby_stops_waiting_as_soon_as_it_is_asked(make_lease: MakeLease) -> None:
    assert acquired_at_once(make_lease())
    standby = Standby(make_lease(retry_seconds=60))
    assert standby.wait(0.5) is None

    asked = time.monotonic()
    standby.stop.set()

    assert standby.wait(2) is False
    assert standby.acquired_at - asked < 1.0, "a SIGTERM would wait for the next retry"


def test_a_holder_that_cannot_confirm_its_lease_for_3_s_counts_it_lost(
    postgres_server: str,
) -> None:
    now = [1000.0]
    env = eventsourcing_env(f"{postgres_server}?schema=test_{uuid.uuid4().hex[:12]}")
    with Lease("projector", env, retry_seconds=60, clock=lambda: now[0]) as lease:
        assert acquired_at_once(lease)
        now[0] += 2.9
        assert lease.held()
        now[0] += 0.1  # Its checks have hung this long: the server frees it within 6 s.
        assert not lease.held()
