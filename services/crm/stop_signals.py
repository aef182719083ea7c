"""Waiting in the main thread until SIGTERM or SIGINT asks a process to stop."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType


class StopSignals:
    """The handlers only note the signal. Python runs a handler in the main thread
    between two bytecodes, possibly while that thread holds a lock inside
    Event.wait(); a handler calling Event.set() then waits for that lock forever,
    and the process never stops (an orphaned projector was found so)."""

    def __init__(self) -> None:
        self.received: list[signal.Signals] = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._note)

    def _note(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signal.Signals(signum))

    def wait(self, poll_seconds: float, or_until: Callable[[], bool] = lambda: False) -> None:
        """Returns once a signal came or or_until() holds; a signal cuts the sleep short."""
        while not self.received and not or_until():
            time.sleep(poll_seconds)
