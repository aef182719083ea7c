"""Released identities: a recycled phone number's next holder starts with an empty
history, while a corrected one still takes its history along; on both databases."""

from __future__ import annotations

import dataclasses
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from services.crm.application import CustomerHistory
from services.crm.domain.channels import Channel
from services.crm.domain.customer_change import CustomerChange
from services.crm.domain.errors import CrmError
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import IdentityIndex, UnlinkKind
from services.crm.domain.interaction import Interaction
from services.crm.domain.profile import CustomerProfile
from services.crm.projections.timeline_store import TimelineQuery
from tests import random_refs
from tests.builders import AGENT, content
from tests.integration.helpers import all_rows, interactions, wait_caught_up

pytestmark = pytest.mark.usefixtures("projection")


def timeline(app: CustomerHistory, customer_id: UUID) -> list[str]:
    wait_caught_up(app)
    page = app.timeline_page(TimelineQuery(customer_id, limit=1000), 0, 5.0)
    return sorted(record.content.summary for record in interactions(page))


def call(app: CustomerHistory, phone: Identity, summary: str) -> UUID:
    recorded = app.record_interaction(
        phone, content(channel=Channel.PHONE, summary=summary), AGENT, ""
    )
    return recorded.interaction.customer_id


def test_a_released_number_calling_in_from_someone_new_shows_them_only_their_own_calls(
    app: CustomerHistory,
) -> None:
    phone = Identity.phone(random_refs.phone())
    ada = call(app, phone, "Ada's first call")
    call(app, phone, "Ada's second call")

    app.unlink_identity(ada, phone, UnlinkKind.RELEASE, AGENT)
    new = app.record_interaction(
        phone, content(channel=Channel.PHONE, summary="Bo's first call"), AGENT, ""
    )

    bo = new.interaction.customer_id
    assert new.customer_created
    assert bo != ada
    assert timeline(app, bo) == ["Bo's first call"]
    assert timeline(app, ada) == ["Ada's first call", "Ada's second call"]
    assert app.find_customer(phone).id == bo
    assert app.view_customer(ada).identities == ()


def test_a_released_number_linked_to_an_existing_customer_brings_no_history(
    app: CustomerHistory,
) -> None:
    phone = Identity.phone(random_refs.phone())
    ada = call(app, phone, "Ada's call")
    bo = app.record_interaction(
        Identity.email(random_refs.email()), content(summary="Bo's email"), AGENT, ""
    ).interaction.customer_id

    app.unlink_identity(ada, phone, UnlinkKind.RELEASE, AGENT)
    app.link_identity(bo, phone, AGENT)
    call(app, phone, "Bo's call")

    assert timeline(app, bo) == ["Bo's call", "Bo's email"]
    assert timeline(app, ada) == ["Ada's call"]


def test_what_an_earlier_holder_said_stays_theirs_through_later_corrections(
    app: CustomerHistory,
) -> None:
    phone = Identity.phone(random_refs.phone())
    ada = call(app, phone, "Ada's call")
    app.unlink_identity(ada, phone, UnlinkKind.RELEASE, AGENT)
    bo = call(app, phone, "Bo's call")
    cy = app.create_customer(CustomerProfile("Cy"), [], AGENT, "").customer.id

    # Bo was linked by mistake: the number is Cy's, and what came in since moves to Cy.
    app.unlink_identity(bo, phone, UnlinkKind.CORRECTION, AGENT)
    app.link_identity(cy, phone, AGENT)

    assert timeline(app, cy) == ["Bo's call"]
    assert timeline(app, bo) == []
    assert timeline(app, ada) == ["Ada's call"]


def test_a_released_number_given_back_to_its_old_holder_keeps_both_histories_there(
    app: CustomerHistory,
) -> None:
    phone = Identity.phone(random_refs.phone())
    ada = call(app, phone, "before")
    app.unlink_identity(ada, phone, UnlinkKind.RELEASE, AGENT)
    app.link_identity(ada, phone, AGENT)
    call(app, phone, "after")

    assert timeline(app, ada) == ["after", "before"]


def test_merging_the_old_holder_carries_what_came_through_a_released_number(
    app: CustomerHistory,
) -> None:
    phone = Identity.phone(random_refs.phone())
    ada = call(app, phone, "Ada's call")
    app.unlink_identity(ada, phone, UnlinkKind.RELEASE, AGENT)
    bo = call(app, phone, "Bo's call")
    other = app.record_interaction(
        Identity.email(random_refs.email()), content(summary="Ada's email"), AGENT, ""
    ).interaction.customer_id

    app.merge_customers(ada, other, "", AGENT)
    assert timeline(app, other) == ["Ada's call", "Ada's email"]
    app.unmerge_customer(ada, AGENT)

    assert timeline(app, ada) == ["Ada's call"]
    assert timeline(app, bo) == ["Bo's call"]


def test_a_call_written_for_the_old_holder_as_the_number_was_released_stays_theirs(
    app: CustomerHistory,
) -> None:
    phone = Identity.phone(random_refs.phone())
    ada = call(app, phone, "Ada's call")
    app.unlink_identity(ada, phone, UnlinkKind.RELEASE, AGENT)
    # A recording that read Ada as the holder just before the release, saved after it.
    late = Interaction(
        idempotency_key=f"random:{uuid4()}",
        customer_id=ada,
        content=content(channel=Channel.PHONE, summary="Ada's last call"),
        identity=phone,
        fingerprint="",
        customer_created=False,
        cause=AGENT,
    )
    app.save(late)
    bo = call(app, phone, "Bo's call")

    assert timeline(app, bo) == ["Bo's call"]
    assert timeline(app, ada) == ["Ada's call", "Ada's last call"]


def test_the_timeline_says_which_kind_of_unlink_it_was(app: CustomerHistory) -> None:
    phone, email = Identity.phone(random_refs.phone()), Identity.email(random_refs.email())
    ada = app.create_customer(CustomerProfile("Ada"), [phone, email], AGENT, "").customer.id
    app.unlink_identity(ada, phone, UnlinkKind.RELEASE, AGENT)
    app.unlink_identity(ada, email, UnlinkKind.CORRECTION, AGENT)
    wait_caught_up(app)

    page = app.timeline_page(TimelineQuery(ada, limit=10), 0, 5.0)
    unlinks = {
        e.item.identity: e.item.unlink_kind
        for e in page.entries
        if isinstance(e.item, CustomerChange) and e.item.unlink_kind is not None
    }
    assert unlinks == {phone: UnlinkKind.RELEASE, email: UnlinkKind.CORRECTION}


def test_unlinks_logged_before_kinds_existed_replay_as_corrections(
    app: CustomerHistory,
) -> None:
    phone = Identity.phone(random_refs.phone())
    ada = call(app, phone, "Ada's call")
    holder, claim = app.get_customer(ada), app._find(IdentityIndex, IdentityIndex.create_id(phone))
    assert claim is not None
    holder.unlink_identity(phone, UnlinkKind.CORRECTION, AGENT)
    claim.release(UnlinkKind.CORRECTION, AGENT)
    app.recorder.insert_events(
        [as_first_version(app, e) for e in [*holder.collect_events(), *claim.collect_events()]]
    )

    assert app.view_customer(ada).identities == ()
    bo = app.create_customer(CustomerProfile("Bo"), [phone], AGENT, "").customer.id
    assert timeline(app, bo) == ["Ada's call"]
    wait_caught_up(app)
    page = app.timeline_page(TimelineQuery(ada, limit=10), 0, 5.0)
    assert [e.item.unlink_kind for e in page.entries if isinstance(e.item, CustomerChange)] == [
        UnlinkKind.CORRECTION
    ]


def as_first_version(app: CustomerHistory, event: Any) -> StoredEvent:
    """The event as the version before unlink kinds stored it: no kind, no class_version."""
    stored = app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["kind"]
    return dataclasses.replace(stored, state=json.dumps(state).encode())


def test_the_read_models_rebuilt_after_releases_equal_the_live_ones(
    app: CustomerHistory, env: dict[str, str], projection: object
) -> None:
    from services.crm.projections.runner import (
        DIRECTORY,
        ProjectionSupervisor,
        rebuild,
        rebuild_timeline,
    )

    phone = Identity.phone(random_refs.phone())
    ada = call(app, phone, "Ada's call")
    app.unlink_identity(ada, phone, UnlinkKind.RELEASE, AGENT)
    bo = call(app, phone, "Bo's call")
    app.unlink_identity(bo, phone, UnlinkKind.RELEASE, AGENT)
    cy = call(app, phone, "Cy's call")
    app.unlink_identity(cy, phone, UnlinkKind.CORRECTION, AGENT)
    app.link_identity(bo, phone, AGENT)
    wait_caught_up(app)
    live = [all_rows(app, customer) for customer in (ada, bo, cy)]
    found = app.search_by_identity(phone, 0, 5.0)
    assert found is not None
    assert found.customer_id == bo
    assert [timeline(app, customer) for customer in (ada, bo, cy)] == [
        ["Ada's call"],
        ["Bo's call", "Cy's call"],
        [],
    ]
    assert isinstance(projection, ProjectionSupervisor)
    projection.stop()

    rebuild_timeline(env)
    rebuild(env, DIRECTORY)

    assert [all_rows(app, customer) for customer in (ada, bo, cy)] == live
    assert app.search_by_identity(phone, 0, 5.0) == found


def test_a_timeline_built_before_generations_gets_them_when_the_service_starts_again(
    app: CustomerHistory, env: dict[str, str], projection: object
) -> None:
    from services.crm.projections.runner import (
        READ_MODELS,
        ProjectionSupervisor,
        open_timeline_store,
    )

    phone = Identity.phone(random_refs.phone())
    ada = call(app, phone, "Ada's call")
    wait_caught_up(app)
    assert isinstance(projection, ProjectionSupervisor)
    projection.stop()
    timeline_store: Any = app.timeline
    with timeline_store.datastore.transaction(commit=True) as cursor:
        # As the version before generations left it.
        cursor.execute(timeline_store._q("ALTER TABLE {entries} DROP COLUMN via_generation"))
        cursor.execute(timeline_store._q("ALTER TABLE {holders} DROP COLUMN generation"))
        cursor.execute(timeline_store._q("DROP TABLE {released}"))
    open_timeline_store(env).close()  # What the next start of the service does first.
    restarted = ProjectionSupervisor(env, READ_MODELS[0], restart_delay=0.05)
    restarted.start()
    try:
        app.unlink_identity(ada, phone, UnlinkKind.RELEASE, AGENT)
        bo = call(app, phone, "Bo's call")

        assert timeline(app, bo) == ["Bo's call"]
        assert timeline(app, ada) == ["Ada's call"]
    finally:
        restarted.stop()


def test_racing_unlinks_of_one_number_succeed_once_and_refuse_the_rest(
    app: CustomerHistory,
) -> None:
    kinds = [UnlinkKind.RELEASE, UnlinkKind.CORRECTION, UnlinkKind.RELEASE]
    start = threading.Barrier(len(kinds))

    def race(customer: UUID, phone: Identity, kind: UnlinkKind) -> str:
        start.wait()
        try:
            app.unlink_identity(customer, phone, kind, AGENT)
        except CrmError as error:
            return error.reason
        return "OK"

    with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
        for _ in range(5):
            phone = Identity.phone(random_refs.phone())
            ada = call(app, phone, "Ada's call")
            answers = [f.result() for f in [pool.submit(race, ada, phone, k) for k in kinds]]
            assert sorted(answers) == ["IDENTITY_NOT_LINKED", "IDENTITY_NOT_LINKED", "OK"]
            assert app.view_customer(ada).identities == ()
