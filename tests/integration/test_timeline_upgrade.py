"""A timeline built by an earlier version, before entries were stored in the API's form."""

from __future__ import annotations

from typing import Any

import pytest
from crm.v1 import customer_history_service_pb2 as pb

from services.crm.api import mapping
from services.crm.application import CustomerHistory
from services.crm.domain.identity import Identity
from services.crm.projections.runner import open_timeline_store
from services.crm.projections.timeline_store import TimelineQuery
from tests import random_refs
from tests.builders import AGENT, content
from tests.integration.helpers import wait_caught_up

pytestmark = pytest.mark.usefixtures("projection")


def served(app: CustomerHistory, customer_id: object) -> list[pb.TimelineEntry]:
    page = app.timeline_page(TimelineQuery(customer_id, limit=10), 0, 5.0)  # type: ignore[arg-type]
    return [mapping.timeline_entry_to_proto(entry) for entry in page.entries]


def test_entries_stored_before_the_rendered_column_are_served_alike(
    app: CustomerHistory, env: dict[str, str]
) -> None:
    email = Identity.email(random_refs.email())
    first = app.record_interaction(email, content(summary="before the upgrade"), AGENT, "")
    app.add_note(first.interaction.customer_id, "Called back", AGENT, "")
    wait_caught_up(app)
    customer_id = first.interaction.customer_id
    rendered = served(app, customer_id)

    timeline: Any = app.timeline
    with timeline.datastore.transaction(commit=True) as cursor:
        # As an earlier version left it: no rendered column at all.
        cursor.execute(timeline._q("ALTER TABLE {entries} DROP COLUMN rendered"))
    upgraded = open_timeline_store(env)  # What the next start of the service opens.
    try:
        app._timeline, before = upgraded, app.timeline
        assert [
            row.rendered
            for row in upgraded.select_entries(TimelineQuery(customer_id, limit=10), app.name).rows
        ] == [None, None]
        assert served(app, customer_id) == rendered
        assert len(rendered) == 2
    finally:
        app._timeline = before
        upgraded.close()
