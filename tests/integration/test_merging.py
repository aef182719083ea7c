"""Identity moves, merges and unmerges, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import pytest

from services.crm.application import CustomerHistory
from services.crm.domain.cause import Cause
from services.crm.domain.channels import Channel
from services.crm.domain.customer_change import CustomerChange, CustomerChangeKind
from services.crm.domain.errors import (
    AlreadyMergedError,
    CrmError,
    IdentityAlreadyLinkedError,
    InvalidInputError,
    NotMergedError,
    TargetMergedIntoSourceError,
)
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import UnlinkKind
from services.crm.projections.timeline_store import TimelineQuery
from tests import random_refs
from tests.builders import AGENT, content
from tests.integration.helpers import interactions, wait_caught_up

pytestmark = pytest.mark.usefixtures("projection")


def timeline(app: CustomerHistory, customer_id: UUID) -> list[str]:
    """The summaries of a customer's interactions, newest first."""
    wait_caught_up(app)
    page = app.timeline_page(TimelineQuery(customer_id, limit=1000), 0, 5.0)
    return [record.content.summary for record in interactions(page)]


def changes(app: CustomerHistory, customer_id: UUID) -> list[CustomerChangeKind]:
    wait_caught_up(app)
    page = app.timeline_page(TimelineQuery(customer_id, limit=1000), 0, 5.0)
    return [e.item.kind for e in page.entries if isinstance(e.item, CustomerChange)]


def two_customers(app: CustomerHistory) -> tuple[Identity, UUID, Identity, UUID]:
    phone = Identity.phone(random_refs.phone())
    email = Identity.email(random_refs.email())
    call = app.record_interaction(phone, content(channel=Channel.PHONE, summary="call"), AGENT, "")
    mail = app.record_interaction(email, content(summary="email"), AGENT, "")
    return phone, call.interaction.customer_id, email, mail.interaction.customer_id


def test_merge_shows_one_interleaved_timeline_and_unmerge_restores_both(
    app: CustomerHistory,
) -> None:
    phone, caller, email, writer = two_customers(app)
    before = (timeline(app, caller), timeline(app, writer))

    merged = app.merge_customers(caller, writer, "same person, confirmed on the phone", AGENT)

    assert merged.customer.id == writer
    assert set(merged.customer.identities) == {phone, email}
    assert sorted(timeline(app, writer)) == ["call", "email"]
    assert timeline(app, caller) == timeline(app, writer)  # The source redirects.
    assert app.view_customer(caller).redirected_from == caller
    assert app.find_customer(phone).id == writer
    assert CustomerChangeKind.MERGED_FROM in changes(app, writer)

    app.unmerge_customer(caller, AGENT)

    assert (timeline(app, caller), timeline(app, writer)) == before
    assert app.find_customer(phone).id == caller
    assert app.view_customer(writer).identities == (email,)


def test_after_a_merge_new_interactions_follow_their_identity_on_unmerge(
    app: CustomerHistory,
) -> None:
    phone, caller, _, writer = two_customers(app)
    app.merge_customers(caller, writer, "", AGENT)
    app.record_interaction(phone, content(summary="second call"), AGENT, "")
    app.record_interaction(caller, content(summary="note typed on the merged customer"), AGENT, "")

    app.unmerge_customer(caller, AGENT)

    assert sorted(timeline(app, caller)) == ["call", "second call"]
    assert sorted(timeline(app, writer)) == ["email", "note typed on the merged customer"]


def test_a_chain_of_three_merges_and_unmerges_in_any_order(app: CustomerHistory) -> None:
    ids = [
        app.record_interaction(
            Identity.email(random_refs.email()), content(summary=name), AGENT, ""
        ).interaction.customer_id
        for name in ("a", "b", "c")
    ]
    a, b, c = ids
    app.merge_customers(a, b, "", AGENT)
    app.merge_customers(b, c, "", AGENT)
    assert sorted(timeline(app, c)) == ["a", "b", "c"]
    assert app.view_customer(a).customer.id == c
    assert set(app.view_customer(c).merged_from) == {a, b}

    app.unmerge_customer(a, AGENT)
    assert (sorted(timeline(app, a)), sorted(timeline(app, c))) == (["a"], ["b", "c"])
    app.unmerge_customer(b, AGENT)
    assert [timeline(app, x) for x in ids] == [["a"], ["b"], ["c"]]


def test_merges_that_make_no_sense_are_refused(app: CustomerHistory) -> None:
    _, caller, _, writer = two_customers(app)
    with pytest.raises(InvalidInputError):
        app.merge_customers(caller, caller, "", AGENT)
    app.merge_customers(caller, writer, "", AGENT)
    with pytest.raises(AlreadyMergedError):
        app.merge_customers(caller, writer, "", AGENT)
    with pytest.raises(TargetMergedIntoSourceError):
        app.merge_customers(writer, caller, "", AGENT)  # caller redirects to writer itself
    with pytest.raises(NotMergedError):
        app.unmerge_customer(writer, AGENT)


def test_a_corrected_identity_takes_its_interactions_to_its_next_holder(
    app: CustomerHistory,
) -> None:
    phone, caller, _, writer = two_customers(app)
    with pytest.raises(IdentityAlreadyLinkedError) as raised:
        app.link_identity(writer, phone, AGENT)
    assert raised.value.metadata["holder"] == f"customers/{caller}"

    app.unlink_identity(
        caller, phone, UnlinkKind.CORRECTION, Cause(AGENT.actor, "c", reason="their wife's phone")
    )
    assert timeline(app, caller) == ["call"]  # Stays until someone else holds the phone.
    app.link_identity(writer, phone, AGENT)

    assert sorted(timeline(app, writer)) == ["call", "email"]
    assert timeline(app, caller) == []
    assert changes(app, caller) == [CustomerChangeKind.IDENTITY_UNLINKED]


def test_concurrent_merges_and_writes_lose_no_interaction(app: CustomerHistory) -> None:
    phone, caller, email, writer = two_customers(app)
    start = threading.Barrier(9)

    def write(n: int) -> None:
        start.wait()
        identity = phone if n % 2 else email
        for i in range(10):
            app.record_interaction(identity, content(summary=f"w{n}-{i}"), AGENT, "")

    def merge_and_unmerge(_: int) -> None:
        start.wait()
        for _ in range(3):
            app.merge_customers(caller, writer, "", AGENT)
            app.unmerge_customer(caller, AGENT)
        app.merge_customers(caller, writer, "", AGENT)

    with ThreadPoolExecutor(max_workers=9) as pool:
        futures = [pool.submit(write, n) for n in range(8)] + [pool.submit(merge_and_unmerge, 0)]
        for future in futures:
            future.result()

    assert len(timeline(app, writer)) == 2 + 80
    app.unmerge_customer(caller, AGENT)
    by_phone = {f"w{n}-{i}" for n in range(1, 8, 2) for i in range(10)}
    assert set(timeline(app, caller)) == by_phone | {"call"}
    assert len(timeline(app, writer)) == 41


def test_the_timeline_rebuilt_after_merges_equals_the_live_one(
    app: CustomerHistory, env: dict[str, str], projection: object
) -> None:
    from services.crm.projections.runner import ProjectionSupervisor, rebuild_timeline
    from tests.integration.helpers import all_rows

    phone, caller, _, writer = two_customers(app)
    app.merge_customers(caller, writer, "", AGENT)
    app.record_interaction(phone, content(summary="after"), AGENT, "")
    app.unlink_identity(writer, phone, UnlinkKind.CORRECTION, AGENT)
    app.unmerge_customer(caller, AGENT)
    wait_caught_up(app)
    live = [all_rows(app, caller), all_rows(app, writer)]
    assert isinstance(projection, ProjectionSupervisor)
    projection.stop()

    rebuild_timeline(env)

    assert [all_rows(app, caller), all_rows(app, writer)] == live


def test_a_freed_identity_can_be_given_to_a_new_customer(app: CustomerHistory) -> None:
    from services.crm.domain.profile import CustomerProfile

    email = Identity.email(random_refs.email())
    first = app.create_customer(CustomerProfile("First"), [email], AGENT, "").customer
    app.unlink_identity(first.id, email, UnlinkKind.RELEASE, AGENT)
    second = app.create_customer(CustomerProfile("Second"), [email], AGENT, "").customer
    assert app.find_customer(email).id == second.id


def test_concurrent_unmerges_of_one_pair_succeed_once_and_refuse_the_rest(
    app: CustomerHistory,
) -> None:
    _, caller, _, writer = two_customers(app)
    rounds, racers = 15, 3
    start = threading.Barrier(racers)

    def unmerge() -> str:
        start.wait()
        try:
            app.unmerge_customer(caller, AGENT)
        except CrmError as error:
            return error.reason
        return "OK"

    with ThreadPoolExecutor(max_workers=racers) as pool:
        for _ in range(rounds):
            app.merge_customers(caller, writer, "", AGENT)
            answers = sorted(f.result() for f in [pool.submit(unmerge) for _ in range(racers)])
            # One wins; the others find nothing left to unmerge, or are told to retry.
            assert answers.count("OK") == 1, answers
            assert set(answers) <= {"OK", "NOT_MERGED", "CONCURRENT_UPDATE"}, answers

    assert app.view_customer(caller).customer.merged_into is None
    assert app.view_customer(writer).merged_from == ()
    assert (timeline(app, caller), timeline(app, writer)) == (["call"], ["email"])
    assert changes(app, writer).count(CustomerChangeKind.SPLIT_OFF) == rounds


def test_racing_merges_and_unmerges_answer_cleanly_and_leave_consistent_pointers(
    app: CustomerHistory,
) -> None:
    ids = [
        app.record_interaction(
            Identity.email(random_refs.email()), content(summary=name), AGENT, ""
        ).interaction.customer_id
        for name in ("a", "b", "c")
    ]
    a, b, c = ids
    calls = [
        lambda: app.merge_customers(a, b, "", AGENT),
        lambda: app.merge_customers(a, c, "", AGENT),
        lambda: app.unmerge_customer(a, AGENT),
        lambda: app.merge_customers(b, c, "", AGENT),
        lambda: app.unmerge_customer(b, AGENT),
    ]
    start = threading.Barrier(len(calls))

    def race(call: Callable[[], object]) -> str:
        start.wait()
        try:
            call()
        except CrmError as error:
            return error.reason
        return "OK"

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for _ in range(10):
            answers = [f.result() for f in [pool.submit(race, call) for call in calls]]
            assert set(answers) <= {
                "OK",
                "ALREADY_MERGED",
                "NOT_MERGED",
                "TARGET_MERGED_INTO_SOURCE",
                "CONCURRENT_UPDATE",
            }, answers

    customers = {x: app.get_customer(x) for x in ids}
    for x, customer in customers.items():
        pointed_at_by = {y for y, other in customers.items() if other.merged_into == x}
        assert set(customer.absorbed) == pointed_at_by
    for name, x in zip("abc", ids, strict=True):
        assert name in timeline(app, x)
        root = app.view_customer(x).customer.id
        assert timeline(app, x) == timeline(app, root)
