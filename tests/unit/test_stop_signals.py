"""A process waits for SIGTERM or SIGINT without taking a lock in the handler."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest

from services.crm.stop_signals import StopSignals


@pytest.fixture
def handlers_restored() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("handlers_restored")
def test_a_burst_of_sigterms_ends_the_wait_once_noted() -> None:
    signals = StopSignals()

    def burst() -> None:
        for _ in range(3):
            os.kill(os.getpid(), signal.SIGTERM)

    sender = threading.Timer(0.05, burst)
    sender.start()

    signals.wait(0.01)
    sender.join()

    assert set(signals.received) == {signal.SIGTERM}


@pytest.mark.usefixtures("handlers_restored")
def test_the_wait_also_ends_when_its_condition_holds() -> None:
    signals = StopSignals()
    looks = []

    def third_look() -> bool:
        looks.append(1)
        return len(looks) == 3

    signals.wait(0.001, or_until=third_look)

    assert signals.received == []
    assert len(looks) == 3
