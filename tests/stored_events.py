"""Events written straight into the event store, past the API's and the domain's checks,
as a log written before a check existed holds them."""

from __future__ import annotations

import json
from dataclasses import replace
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from services.crm.domain.customer import Customer
from services.crm.domain.profile import CustomerProfile
from tests.builders import AGENT


def store_customer_named(app: Application[UUID], display_name: str) -> tuple[UUID, int]:
    """A customer registered with any display name, e.g. one holding NUL; returns its id
    and its log position."""
    placeholder = f"Placeholder {uuid4().hex}"
    customer = Customer.register(
        f"random:{uuid4()}", CustomerProfile(display_name=placeholder), (), "", AGENT
    )
    stored = [app.mapper.to_stored_event(event) for event in customer.collect_events()]
    written, wanted = json.dumps(placeholder).encode(), json.dumps(display_name).encode()
    assert written in stored[0].state, "the event state is not plain JSON"
    stored[0] = replace(stored[0], state=stored[0].state.replace(written, wanted))
    return customer.id, _insert(app, stored)


def store_unreadable_customer(app: Application[UUID], canary: str) -> tuple[UUID, int]:
    """A customer registration whose state is cut short, so it cannot be decoded; it
    quotes the canary, which must then appear in no log line or record."""
    customer_id = uuid4()
    state = json.dumps({"profile": {"display_name": canary}}).encode()[:-2]
    event = StoredEvent(customer_id, 1, "crm.Customer.Registered", state)
    return customer_id, _insert(app, [event])


def _insert(app: Application[UUID], stored: list[StoredEvent]) -> int:
    app.recorder.insert_events(stored)
    return app.recorder.max_notification_id() or 0
