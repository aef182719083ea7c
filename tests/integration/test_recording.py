"""The application's recording scenarios, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from services.crm.application import CustomerHistory
from services.crm.domain.channels import Channel, EmailDetails
from services.crm.domain.errors import (
    CustomerNotFoundError,
    IdentityAlreadyLinkedError,
    InteractionAlreadyRecordedError,
    RequestIdReusedError,
)
from services.crm.domain.identity import Identity
from services.crm.domain.profile import CustomerProfile
from tests import random_refs
from tests.builders import AGENT, content


def test_a_first_interaction_from_a_new_address_creates_its_customer(app: CustomerHistory) -> None:
    email = Identity.email(random_refs.email())
    first = app.record_interaction(email, content(), AGENT, "")
    second = app.record_interaction(email, content(), AGENT, "")
    assert first.customer_created
    assert not second.customer_created
    assert first.interaction.customer_id == second.interaction.customer_id
    assert app.find_customer(email).identities == (email,)


def test_fifty_concurrent_first_contacts_from_one_email_make_one_customer(
    app: CustomerHistory,
) -> None:
    email = Identity.email(random_refs.email())
    start = threading.Barrier(50)

    def first_contact(_: int) -> tuple[str, bool]:
        start.wait()
        result = app.record_interaction(email, content(), AGENT, "")
        return str(result.interaction.customer_id), result.customer_created

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(first_contact, range(50)))

    assert len({customer for customer, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert str(app.find_customer(email).id) == results[0][0]


def test_a_retried_request_returns_the_first_result_and_records_nothing(
    app: CustomerHistory,
) -> None:
    email = Identity.email(random_refs.email())
    request_id = random_refs.request_id()
    sent = content()
    first = app.record_interaction(email, sent, AGENT, request_id)
    log_end = app.recorder.max_notification_id()
    retry = app.record_interaction(email, sent, AGENT, request_id)
    assert retry.interaction == first.interaction
    assert retry.customer_created is first.customer_created is True
    assert retry.position >= first.position
    assert app.recorder.max_notification_id() == log_end


def test_a_request_id_reused_for_another_request_is_refused(app: CustomerHistory) -> None:
    email = Identity.email(random_refs.email())
    request_id = random_refs.request_id()
    app.record_interaction(email, content(summary="first"), AGENT, request_id)
    with pytest.raises(RequestIdReusedError):
        app.record_interaction(email, content(summary="second"), AGENT, request_id)


def test_the_same_email_message_imported_twice_is_recorded_once(app: CustomerHistory) -> None:
    email = Identity.email(random_refs.email())
    message = content(details=EmailDetails(subject="Refund", message_id="<m-1@mail.test>"))
    first = app.record_interaction(email, message, AGENT, random_refs.request_id())
    again = app.record_interaction(email, message, AGENT, random_refs.request_id())
    assert again.interaction.id == first.interaction.id
    changed = content(details=EmailDetails(subject="Other", message_id="<m-1@mail.test>"))
    with pytest.raises(InteractionAlreadyRecordedError):
        app.record_interaction(email, changed, AGENT, "")


def test_recording_for_an_unknown_customer_stores_nothing(app: CustomerHistory) -> None:
    from uuid import uuid4

    log_end = app.recorder.max_notification_id()
    with pytest.raises(CustomerNotFoundError):
        app.record_interaction(uuid4(), content(), AGENT, "")
    assert app.recorder.max_notification_id() == log_end


def test_an_identity_belongs_to_one_customer_and_the_error_names_the_holder(
    app: CustomerHistory,
) -> None:
    phone = Identity.phone(random_refs.phone())
    holder = app.create_customer(CustomerProfile("Holder"), [phone], AGENT, "").customer
    other = app.create_customer(CustomerProfile("Other"), [], AGENT, "").customer
    with pytest.raises(IdentityAlreadyLinkedError) as raised:
        app.link_identity(other.id, phone, AGENT)
    assert raised.value.metadata["holder"] == f"customers/{holder.id}"
    linked = app.link_identity(holder.id, phone, AGENT)
    assert linked.customer.identities == (phone,)


def test_a_linked_identity_routes_later_interactions_to_its_customer(app: CustomerHistory) -> None:
    customer = app.create_customer(CustomerProfile("Ada"), [], AGENT, "").customer
    phone = Identity.phone("0044 20 7946 0958")
    app.link_identity(customer.id, phone, AGENT)
    call = app.record_interaction(
        Identity.phone("+44 20 7946 0958"), content(channel=Channel.PHONE), AGENT, ""
    )
    assert call.interaction.customer_id == customer.id
    assert not call.customer_created


def test_create_customer_is_idempotent_by_request_id(app: CustomerHistory) -> None:
    request_id = random_refs.request_id()
    email = Identity.email(random_refs.email())
    first = app.create_customer(
        CustomerProfile("Ada", attributes={"a": "1", "b": "2"}), [email], AGENT, request_id
    )
    log_end = app.recorder.max_notification_id()
    again = app.create_customer(
        CustomerProfile("Ada", attributes={"b": "2", "a": "1"}), [email], AGENT, request_id
    )
    assert again.customer.id == first.customer.id
    assert app.recorder.max_notification_id() == log_end
    with pytest.raises(RequestIdReusedError):
        app.create_customer(CustomerProfile("Bob"), [email], AGENT, request_id)


def test_concurrent_retries_of_one_create_customer_all_get_the_customer(
    app: CustomerHistory,
) -> None:
    request_id = random_refs.request_id()
    email = Identity.email(random_refs.email())
    start = threading.Barrier(20)

    def create(_: int) -> str:
        start.wait()
        return str(
            app.create_customer(CustomerProfile("Ada"), [email], AGENT, request_id).customer.id
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        created = set(pool.map(create, range(20)))
    assert created == {str(app.find_customer(email).id)}


def test_request_ids_of_different_callers_never_collide(app: CustomerHistory) -> None:
    from services.crm.domain.cause import Cause

    request_id = "1"
    mine = app.create_customer(CustomerProfile("Mine"), [], AGENT, request_id).customer
    theirs = app.create_customer(
        CustomerProfile("Theirs"), [], Cause("service:other", "c"), request_id
    ).customer
    assert mine.id != theirs.id
    assert app.get_customer(theirs.id).profile.display_name == "Theirs"
