"""The engine's one source of time: the system's, or a file's that tests advance.

CRM_CLOCK=file:PATH reads the time from PATH (an ISO 8601 time with its offset), so an
end-to-end test moves time for a separate process without sleeping for a rule's wait.
It is for tests only: it is refused unless CRM_TEST_CLOCK=on says so as well.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

Clock = Callable[[], datetime]
SYSTEM = "system"
FILE_PREFIX = "file:"


def system_clock() -> datetime:
    return datetime.now(UTC)


def file_clock(path: Path) -> Clock:
    def now() -> datetime:
        return datetime.fromisoformat(path.read_text().strip())

    return now


def clock_from(setting: str) -> Clock:
    """The clock a CRM_CLOCK setting names (checked by config)."""
    if setting == SYSTEM:
        return system_clock
    return file_clock(Path(setting.removeprefix(FILE_PREFIX)))


def set_test_clock(path: Path, now: datetime) -> None:
    """Moves a file clock; the rename makes a reader see the old time or the new."""
    if now.tzinfo is None:
        raise ValueError("a test clock's time must say its time zone")
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_text(now.isoformat())
    partial.replace(path)
