"""Two projectors at once (a holder that has not yet noticed it lost its lease, and the
standby that took it) apply no event twice: the read models stay what a rebuild gives."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from uuid import UUID

import pytest

from services.crm.application import CustomerHistory
from services.crm.domain.identity import Identity
from services.crm.projections.batch_runner import changes_of
from services.crm.projections.parked_events import AppliedElsewhereError
from services.crm.projections.runner import (
    READ_MODELS,
    ProjectionSupervisor,
    ReadModel,
    rebuild_read_model,
)
from tests import random_refs
from tests.builders import AGENT, content
from tests.integration.helpers import wait_caught_up
from tests.read_model_rows import read_model_rows


@pytest.mark.parametrize("read_model", READ_MODELS, ids=lambda m: m.projection_class.name)
def test_a_batch_overlapping_positions_another_projector_applied_is_refused_whole(
    app: CustomerHistory, env: dict[str, str], read_model: ReadModel
) -> None:
    for _ in range(6):
        app.record_interaction(Identity.email(random_refs.email()), content(), AGENT, "")
    notifications = app.recorder.select_notifications(start=1, limit=100)
    store = read_model.open(env)
    projection = read_model.projection_class(store)
    try:
        store.apply(changes_of(app, projection, notifications[:4]))
        stale = changes_of(app, projection, notifications)  # Read before the commit above.

        with pytest.raises(AppliedElsewhereError):
            store.apply(stale)

        assert store.max_tracking_id(app.name) == notifications[3].id
        store.apply(changes_of(app, projection, notifications[4:]))
        assert store.max_tracking_id(app.name) == notifications[-1].id
    finally:
        store.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_projectors_at_once_give_the_read_models_a_rebuild_gives(
    app: CustomerHistory, env: dict[str, str], database_url: str
) -> None:
    app.timeline.max_tracking_id(app.name)
    app.directory.max_tracking_id(app.name)
    projectors = [
        ProjectionSupervisor(env, model, restart_delay=0.05)
        for _ in range(2)
        for model in READ_MODELS
    ]
    for projector in projectors:
        projector.start()
    try:
        write_concurrently(app, [Identity.email(random_refs.email()) for _ in range(8)])
        wait_caught_up(app)
    finally:
        for projector in projectors:
            projector.stop()
    live = read_model_rows(database_url)

    for model in READ_MODELS:
        rebuild_read_model(env, model)

    assert sum(map(len, live.values())) >= 60  # The 60 interactions at least.
    assert read_model_rows(database_url) == live


def write_concurrently(app: CustomerHistory, emails: Sequence[Identity]) -> None:
    """Interactions from four threads on shared identities, and merges between them."""

    def write(offset: int) -> None:
        for round_ in range(15):
            email = emails[(offset + round_) % len(emails)]
            app.record_interaction(email, content(), AGENT, "")

    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    holders: list[UUID] = [app.find_customer(email).customer.id for email in emails[:4]]
    app.merge_customers(holders[0], holders[1], "same person", AGENT)
    app.merge_customers(holders[2], holders[3], "same person", AGENT)
    app.unmerge_customer(holders[2], AGENT)
