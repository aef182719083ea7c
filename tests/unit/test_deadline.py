from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.crm.domain.deadlines import Deadline, DeadlineError, schedule_deadline
from tests.deadline_log import START


def test_a_deadline_is_named_by_its_key_and_fires_with_what_it_was_scheduled_for() -> None:
    deadline = schedule_deadline("callback/9", START, "callback.due", {"callback": "9"})
    deadline.reschedule(START + timedelta(hours=1))
    deadline.fire()

    fired = deadline.collect_events()[-1]
    assert deadline.id == Deadline.create_id("callback/9")
    assert isinstance(fired, Deadline.Fired)
    assert (fired.key, fired.due_time, fired.consequence, fired.payload) == (
        "callback/9",
        START + timedelta(hours=1),
        "callback.due",
        {"callback": "9"},
    )


def test_a_cancelled_deadline_cannot_fire_or_move() -> None:
    deadline = schedule_deadline("survey/1", START, "survey.due")
    deadline.cancel()
    with pytest.raises(DeadlineError):
        deadline.fire()
    with pytest.raises(DeadlineError):
        deadline.reschedule(START)


@pytest.mark.parametrize(("key", "due_time"), [("", START), ("x", datetime(2030, 1, 1))])
def test_a_deadline_needs_a_key_and_a_due_time_with_its_zone(key: str, due_time: datetime) -> None:
    with pytest.raises(DeadlineError):
        schedule_deadline(key, due_time, "test.due")
