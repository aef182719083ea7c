"""Customer search and merge suggestions, from the directory read model."""

from __future__ import annotations

import uuid

import pytest

from services.crm.application import CustomerHistory
from services.crm.domain.cause import Cause
from services.crm.domain.customer import Customer
from services.crm.domain.identity import Identity
from services.crm.domain.profile import CustomerProfile
from services.crm.projections.directory_store import CustomerListed
from services.crm.projections.postgres_directory_store import PostgresDirectoryStore
from services.crm.projections.runner import DIRECTORY, rebuild
from tests import random_refs
from tests.builders import AGENT
from tests.integration.helpers import wait_caught_up

pytestmark = pytest.mark.usefixtures("projection")


def names(app: CustomerHistory, query: str) -> list[str]:
    wait_caught_up(app)
    return [entry.display_name for entry in app.search_by_name(query, 50, None, 0, 5.0)]


def create(app: CustomerHistory, name: str, *identities: Identity, **attributes: str) -> Customer:
    profile = CustomerProfile(name, attributes=attributes)
    return app.create_customer(profile, list(identities), AGENT, "").customer.customer


def test_names_are_found_by_word_prefix_ignoring_case_and_accents(app: CustomerHistory) -> None:
    for name in ("Zoë Ångström", "Zoe Anderson", "Ada Lovelace", "Ådam Zoellner"):
        create(app, name)
    assert names(app, "zoe") == ["Ådam Zoellner", "Zoe Anderson", "Zoë Ångström"]
    assert names(app, "ZOË ang") == ["Zoë Ångström"]
    assert names(app, "love") == ["Ada Lovelace"]
    assert names(app, "velace") == []


def test_a_phone_written_three_ways_finds_one_customer(app: CustomerHistory) -> None:
    ada = create(app, "Ada", Identity.phone("+44 20 7946 0958"))
    wait_caught_up(app)
    for spelling in ("+44 20 7946 0958", "0044 20 7946 0958", "+442079460958"):
        found = app.search_by_identity(Identity.phone(spelling), 0, 5.0)
        assert found is not None
        assert found.customer_id == ada.id


def test_merged_customers_are_found_as_the_customer_they_joined(app: CustomerHistory) -> None:
    phone = Identity.phone(random_refs.phone())
    source = create(app, "Ada Byron", phone)
    target = create(app, "Ada Lovelace", Identity.email(random_refs.email()))
    app.merge_customers(source.id, target.id, "", AGENT)
    wait_caught_up(app)
    found = app.search_by_identity(phone, 0, 5.0)
    assert found is not None
    assert (found.customer_id, found.merged_from) == (target.id, (source.id,))
    assert names(app, "ada") == ["Ada Lovelace"]


def test_suggestions_give_the_rule_and_the_evidence(app: CustomerHistory) -> None:
    first = create(app, "Grace Hopper", Identity.email("grace.hopper+navy@gmail.com"))
    second = create(app, "G. Hopper", Identity.email("gracehopper@googlemail.com"))
    caller = create(app, "Caller", Identity.phone("+44 20 7946 0111"))
    noted = create(app, "Noted", phone="020 7946 0111".replace("020", "+44 20"))
    billing = create(app, "Billing", Identity.external("billing", "C-1"))
    legacy = create(app, "Legacy", billing_id="C-1")
    alan_a = create(app, "Alan Turing", Identity.email(f"alan@{random_refs.suffix()}.example"))
    alan_b = create(app, "alan  turing", Identity.email(alan_a_email_other(app, alan_a)))
    create(app, "Someone Else", Identity.email(random_refs.email()))
    create(app, "Sales", Identity.email("+sales@corp.example"))
    create(app, "Support", Identity.email("+support@corp.example"))
    wait_caught_up(app)

    found = {
        (s.rule, frozenset((s.first, s.second))): s.evidence for s in app.merge_suggestions(50)
    }

    assert set(found) == {
        ("SAME_MAILBOX", frozenset((first.id, second.id))),
        ("SAME_PHONE", frozenset((caller.id, noted.id))),
        ("SAME_EXTERNAL_ID", frozenset((billing.id, legacy.id))),
        ("SAME_NAME_AND_EMAIL_DOMAIN", frozenset((alan_a.id, alan_b.id))),
    }
    assert "gracehopper@gmail.com" in found[("SAME_MAILBOX", frozenset((first.id, second.id)))]
    app.merge_customers(second.id, first.id, "suggested", AGENT)
    wait_caught_up(app)
    assert all(s.rule != "SAME_MAILBOX" for s in app.merge_suggestions(50))
    app.unmerge_customer(second.id, Cause(AGENT.actor, "c", "not the same person after all"))
    wait_caught_up(app)
    assert all(s.rule != "SAME_MAILBOX" for s in app.merge_suggestions(50))


def alan_a_email_other(app: CustomerHistory, alan: Customer) -> str:
    domain = alan.identities[0].value.rpartition("@")[2]
    return f"a.turing@{domain}"


def test_the_directory_rebuilt_from_zero_answers_the_same(
    app: CustomerHistory, env: dict[str, str]
) -> None:
    create(app, "Ada Lovelace", Identity.email(random_refs.email()))
    create(app, "Ada Byron")
    before = names(app, "ada")
    rebuild(env, DIRECTORY)
    assert names(app, "ada") == before == ["Ada Byron", "Ada Lovelace"]


WORD_SETS = [("004242",), ("customer", "0042"), ("cust", "00424")]


@pytest.mark.slow
def test_name_search_uses_indexes_at_a_hundred_thousand_customers(app: CustomerHistory) -> None:
    store = app.directory
    rows = [
        CustomerListed(
            uuid.uuid4(), f"Customer {n:06d}", f"customer {n:06d}", ("customer", f"{n:06d}")
        )
        for n in range(100_000)
    ]
    from eventsourcing.persistence import Tracking

    for start in range(0, len(rows), 5_000):
        store.apply([(rows[start : start + 5_000], Tracking("bulk-load", start + 1))])
    # SQLite gathers no statistics unless told to, and the service never tells it, so its
    # plan must be good without them; PostgreSQL's autovacuum analyzes new tables itself.
    if isinstance(store, PostgresDirectoryStore):
        store.refresh_statistics()
    plans = {words: store.explain_name_search(list(words)).lower() for words in WORD_SETS}

    for plan in plans.values():
        assert "by_merge" not in plan, plan
        assert "seq scan on directory_customers" not in plan, plan
        assert "scan c " not in plan, plan
        assert "scan directory_customers" not in plan, plan
        assert "index" in plan, plan
    assert [e.display_name for e in store.search_by_name(["004242"], 10, None)] == [
        "Customer 004242"
    ]
