"""A long history must not make the next interaction more work to record."""

from __future__ import annotations

from typing import Any

import pytest

from services.crm.application import CustomerHistory
from services.crm.domain.profile import CustomerProfile
from tests.builders import AGENT, content
from tests.seeding import seed_interactions


class EventsRead:
    """Counts stored events that the application loads, from the log and snapshots."""

    def __init__(self, app: CustomerHistory) -> None:
        self.count = 0
        recorders = [app.recorder] + ([app.snapshots.recorder] if app.snapshots else [])
        for recorder in recorders:
            original = recorder.select_events

            def counting(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                events = _original(*args, **kwargs)
                self.count += len(events)
                return events

            recorder.select_events = counting  # type: ignore[method-assign]

    def during(self, action: Any) -> int:
        before = self.count
        action()
        return self.count - before


@pytest.fixture
def counted(app: CustomerHistory) -> EventsRead:
    return EventsRead(app)


@pytest.mark.slow
def test_recording_for_a_customer_with_ten_thousand_interactions_reads_no_more_events(
    app: CustomerHistory, counted: EventsRead
) -> None:
    veteran = app.create_customer(CustomerProfile("Veteran"), [], AGENT, "").customer
    newcomer = app.create_customer(CustomerProfile("Newcomer"), [], AGENT, "").customer
    seed_interactions(app, veteran.id, 10_000)

    for_veteran = counted.during(lambda: app.record_interaction(veteran.id, content(), AGENT, ""))
    for_newcomer = counted.during(lambda: app.record_interaction(newcomer.id, content(), AGENT, ""))

    assert for_veteran == for_newcomer == 1  # The customer's registration, nothing else.


def test_a_customer_with_many_changes_loads_from_a_snapshot(
    app: CustomerHistory, counted: EventsRead
) -> None:
    from services.crm.domain.identity import Identity

    customer = app.create_customer(CustomerProfile("Busy"), [], AGENT, "").customer
    for n in range(99):
        app.link_identity(customer.id, Identity.chat_visitor(f"visitor-{n}"), AGENT)

    loaded = counted.during(lambda: app.get_customer(customer.id))

    assert app.get_customer(customer.id).version == 100
    assert loaded == 1  # The snapshot taken at version 100 and no event replayed.
