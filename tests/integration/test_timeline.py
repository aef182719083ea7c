"""The timeline projection, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.crm.application import CustomerHistory
from services.crm.domain.channels import Channel, Direction
from services.crm.domain.errors import InvalidInputError
from services.crm.domain.identity import Identity
from services.crm.domain.profile import CustomerProfile
from services.crm.projections.runner import ProjectionSupervisor
from services.crm.projections.timeline_store import TimelineChange, TimelineQuery
from tests import random_refs
from tests.builders import AGENT, content
from tests.integration.helpers import all_rows, interactions, wait_caught_up

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.usefixtures("projection")
def test_an_agent_reads_what_they_just_recorded(app: CustomerHistory) -> None:
    email = Identity.email(random_refs.email())
    recorded = app.record_interaction(email, content(summary="just now"), AGENT, "")
    page = app.timeline_page(
        TimelineQuery(recorded.interaction.customer_id, limit=10), recorded.position, 10.0
    )
    assert [i.content.summary for i in interactions(page)] == ["just now"]
    assert page.position >= recorded.position


@pytest.mark.usefixtures("projection")
def test_channels_interleave_by_when_they_happened_not_when_recorded(app: CustomerHistory) -> None:
    customer = app.create_customer(CustomerProfile("Ada"), [], AGENT, "").customer
    # Recorded out of order, as imports and late emails arrive.
    for minutes, channel in [
        (30, Channel.EMAIL),
        (10, Channel.PHONE),
        (20, Channel.CHAT),
        (0, Channel.SMS),
    ]:
        app.record_interaction(
            customer.id,
            content(channel=channel, occurred_at=BASE + timedelta(minutes=minutes)),
            AGENT,
            "",
        )
    wait_caught_up(app)
    page = app.timeline_page(TimelineQuery(customer.id, limit=10), 0, 1.0)
    assert [i.content.channel for i in interactions(page)] == [
        Channel.EMAIL,
        Channel.CHAT,
        Channel.PHONE,
        Channel.SMS,
    ]


@pytest.mark.usefixtures("projection")
def test_filters_by_channel_direction_and_time(app: CustomerHistory) -> None:
    customer = app.create_customer(CustomerProfile("Ada"), [], AGENT, "").customer
    for offset, channel, direction in [
        (0, Channel.EMAIL, Direction.INBOUND),
        (1, Channel.EMAIL, Direction.OUTBOUND),
        (2, Channel.PHONE, Direction.INBOUND),
        (3, Channel.SMS, Direction.OUTBOUND),
    ]:
        app.record_interaction(
            customer.id,
            content(
                channel=channel, direction=direction, occurred_at=BASE + timedelta(minutes=offset)
            ),
            AGENT,
            "",
        )
    wait_caught_up(app)

    def minutes(**filters: object) -> list[int]:
        page = app.timeline_page(TimelineQuery(customer.id, limit=10, **filters), 0, 1.0)  # type: ignore[arg-type]
        return [
            int((i.content.occurred_at - BASE).total_seconds() // 60) for i in interactions(page)
        ]

    assert minutes(channels=frozenset({"email", "sms"})) == [3, 1, 0]
    assert minutes(direction="outbound") == [3, 1]
    assert minutes(start=BASE + timedelta(minutes=1), end=BASE + timedelta(minutes=3)) == [2, 1]


@pytest.mark.usefixtures("projection")
def test_time_filters_agree_on_every_backend_even_for_early_years(app: CustomerHistory) -> None:
    customer = app.create_customer(CustomerProfile("Ada"), [], AGENT, "").customer
    app.record_interaction(customer.id, content(occurred_at=BASE), AGENT, "")
    wait_caught_up(app)

    def count(start: datetime | None = None, end: datetime | None = None) -> int:
        query = TimelineQuery(customer.id, limit=10, start=start, end=end)
        return len(app.timeline_page(query, 0, 1.0).entries)

    early = datetime(500, 1, 1, tzinfo=UTC)
    assert count(start=early) == 1
    assert count(end=early) == 0
    assert count(start=early, end=BASE) == 0
    assert count(start=BASE, end=datetime(9999, 1, 1, tzinfo=UTC)) == 1


def test_a_position_beyond_the_log_is_refused(app: CustomerHistory) -> None:
    with pytest.raises(InvalidInputError) as raised:
        app.wait_for_position(10_000, 0.1)
    assert raised.value.reason == "POSITION_BEYOND_LOG"


def test_a_projection_that_crashes_mid_stream_resumes_without_gaps_or_duplicates(
    app: CustomerHistory, env: dict[str, str]
) -> None:
    from eventsourcing.persistence import OperationalError

    from services.crm.projections.timeline_projection import TimelineProjection

    class CrashingProjection(TimelineProjection):
        name = TimelineProjection.name
        seen = 0

        def changes(self, event: Any) -> list[TimelineChange]:
            CrashingProjection.seen += 1
            if CrashingProjection.seen == 57:
                # A database error: the runner starts again, rather than parking the event.
                raise OperationalError("simulated loss of the database part-way through the log")
            return super().changes(event)

    email = Identity.email(random_refs.email())
    recorded = [app.record_interaction(email, content(), AGENT, "") for _ in range(120)]
    supervisor = ProjectionSupervisor(env, projection_class=CrashingProjection, restart_delay=0.05)
    supervisor.start()
    try:
        app.wait_for_position(app.recorder.max_notification_id() or 0, 60)
    finally:
        supervisor.stop()

    rows = all_rows(app, recorded[0].interaction.customer_id)
    assert supervisor.restarts == 1
    # Each entry once, at its own event's position: nothing skipped, nothing applied twice.
    assert {r.entry_id: r.position for r in rows} == {
        r.interaction.id: r.position for r in recorded
    }


def test_rebuilding_from_event_zero_gives_the_live_timeline(
    app: CustomerHistory, env: dict[str, str], projection: ProjectionSupervisor
) -> None:
    from services.crm.projections.runner import rebuild_timeline

    customers = [Identity.email(random_refs.email()) for _ in range(3)]
    for index in range(60):
        app.record_interaction(
            customers[index % 3],
            content(channel=list(Channel)[index % 5], occurred_at=BASE - timedelta(hours=index)),
            AGENT,
            "",
        )
    wait_caught_up(app)
    ids = [app.find_customer(email).id for email in customers]
    live = [all_rows(app, customer_id) for customer_id in ids]
    projection.stop()

    replayed = rebuild_timeline(env)

    assert replayed == app.recorder.max_notification_id()
    assert [all_rows(app, customer_id) for customer_id in ids] == live
    assert sum(len(rows) for rows in live) == 60
