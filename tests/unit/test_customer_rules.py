"""The Customer aggregate's rules that refuse a request, and its stable ids."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from services.crm.domain.customer import Customer, customer_key
from services.crm.domain.errors import AlreadyMergedError, InvalidInputError, NotMergedError
from services.crm.domain.identity import Identity
from services.crm.domain.profile import CustomerProfile
from tests.builders import AGENT


def new_customer() -> Customer:
    return Customer.register(f"random:{uuid4()}", CustomerProfile("Ada"), (), "f", AGENT)


def test_a_customer_cannot_be_merged_into_itself() -> None:
    customer = new_customer()
    with pytest.raises(InvalidInputError) as raised:
        customer.merge_into(customer.id, "same person", AGENT)
    assert [(v.field, v.reason) for v in raised.value.violations] == [
        ("target", "CANNOT_MERGE_INTO_ITSELF")
    ]
    assert customer.merged_into is None


def test_a_merged_customer_can_neither_merge_again_nor_absorb_another() -> None:
    customer, target = new_customer(), new_customer()
    customer.merge_into(target.id, "same phone", AGENT)
    assert customer.merged_into == target.id
    with pytest.raises(AlreadyMergedError) as raised:
        customer.merge_into(new_customer().id, "again", AGENT)
    assert raised.value.metadata == {
        "customer": f"customers/{customer.id}",
        "merged_into": f"customers/{target.id}",
    }
    with pytest.raises(AlreadyMergedError):
        customer.absorb(new_customer().id, "again", AGENT)


def test_only_a_merged_customer_can_be_unmerged_and_it_names_its_former_target() -> None:
    customer, target = new_customer(), new_customer()
    with pytest.raises(NotMergedError):
        customer.unmerge(AGENT)
    customer.merge_into(target.id, "same phone", AGENT)
    assert customer.unmerge(AGENT) == target.id
    assert customer.merged_into is None


def test_a_target_remembers_whom_it_absorbed() -> None:
    target, source = new_customer(), new_customer()
    target.absorb(source.id, "same phone", AGENT)
    assert target.absorbed == [source.id]


def test_linking_adds_the_identity_once() -> None:
    customer = new_customer()
    email = Identity.email("ada@example.com")
    customer.link_identity(email, AGENT)
    customer.link_identity(email, AGENT)
    assert customer.identities == (email,)


def test_customer_ids_are_stable_across_versions() -> None:
    assert customer_key("agent:a", "r1") == "request:agent:a:r1"
    assert customer_key("agent:a", "").startswith("random:")
    assert customer_key("agent:a", "") != customer_key("agent:a", "")
    # A retried CreateCustomer finds the stored customer by this id: it must never change.
    assert Customer.create_id("request:agent:a:r1") == UUID("26ed7af8-c149-51df-ba06-dac6bc95ee0f")
