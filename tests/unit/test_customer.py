from __future__ import annotations

from uuid import uuid4

import pytest

from services.crm.domain.channels import Channel
from services.crm.domain.customer import MAX_IDENTITIES, Customer
from services.crm.domain.errors import IdentityNotLinkedError, InvalidInputError, NotMergedError
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import IdentityIndex, UnlinkKind
from services.crm.domain.profile import CustomerProfile
from tests.builders import AGENT


def new_customer(*identities: Identity) -> Customer:
    return Customer.register("random:1", CustomerProfile("Ada"), identities, "f", AGENT)


def test_linking_an_identity_records_who_did_it() -> None:
    customer = new_customer()
    customer.link_identity(Identity.email("ada@example.com"), AGENT)
    _registered, linked = customer.collect_events()
    assert isinstance(linked, Customer.IdentityLinked)
    assert linked.cause.actor == "agent:test-agent"
    assert customer.holds(Identity.email("ADA@example.com"))


def test_linking_an_identity_twice_records_nothing_new() -> None:
    email = Identity.email("ada@example.com")
    customer = new_customer(email)
    customer.link_identity(email, AGENT)
    assert len(customer.collect_events()) == 1


def test_a_customer_holds_a_bounded_number_of_identities() -> None:
    customer = new_customer(*(Identity.chat_visitor(f"v{i}") for i in range(MAX_IDENTITIES)))
    with pytest.raises(InvalidInputError) as raised:
        customer.link_identity(Identity.chat_visitor("one-too-many"), AGENT)
    assert raised.value.reason == "TOO_MANY_IDENTITIES"


def test_a_customer_is_registered_with_a_bounded_number_of_identities() -> None:
    too_many = tuple(Identity.chat_visitor(f"v{i}") for i in range(MAX_IDENTITIES + 1))
    with pytest.raises(InvalidInputError) as raised:
        new_customer(*too_many)
    assert raised.value.reason == "TOO_MANY_IDENTITIES"


def test_one_identity_always_maps_to_the_same_index_id() -> None:
    a = IdentityIndex.create_id(Identity.phone("+44 20 7946 0958"))
    b = IdentityIndex.create_id(Identity.phone("0044 20 7946 0958"))
    assert a == b != IdentityIndex.create_id(Identity.phone("+44 20 7946 0959"))


def test_profiles_are_validated() -> None:
    with pytest.raises(InvalidInputError) as raised:
        CustomerProfile(display_name="x" * 201, language_code="english!", tags=("VIP",))
    assert {v.field for v in raised.value.violations} == {
        "display_name",
        "language_code",
        "tags[0]",
    }
    assert (
        CustomerProfile("Ada", "en-GB", Channel.EMAIL, {"tier": "gold"}, ("vip",)).display_name
        == "Ada"
    )


def test_events_have_stable_topics() -> None:
    assert Customer.Registered.TOPIC == "crm.Customer.Registered"  # type: ignore[attr-defined]
    assert IdentityIndex.Claimed.TOPIC == "crm.IdentityIndex.Claimed"  # type: ignore[attr-defined]


def test_a_customer_lets_go_only_of_a_customer_merged_into_it() -> None:
    target, source = new_customer(), uuid4()
    with pytest.raises(NotMergedError):
        target.release(source, AGENT)
    target.absorb(source, "", AGENT)
    target.release(source, AGENT)
    assert not target.absorbs(source)
    with pytest.raises(NotMergedError):
        target.release(source, AGENT)


def test_unlinking_an_identity_takes_it_off_the_customer_and_says_which_kind() -> None:
    email, phone = Identity.email("ada@example.com"), Identity.phone("+44 20 7946 0958")
    customer = new_customer(email, phone)
    customer.unlink_identity(phone, UnlinkKind.RELEASE, AGENT)
    assert customer.identities == (email,)
    unlinked = customer.collect_events()[-1]
    assert isinstance(unlinked, Customer.IdentityUnlinked)
    assert unlinked.kind == UnlinkKind.RELEASE
    with pytest.raises(IdentityNotLinkedError):
        customer.unlink_identity(phone, UnlinkKind.CORRECTION, AGENT)


def test_a_release_starts_the_identitys_next_generation_and_a_correction_does_not() -> None:
    phone = Identity.phone("+44 20 7946 0958")
    claim = IdentityIndex(identity=phone, customer_id=uuid4(), cause=AGENT)
    claim.release(UnlinkKind.CORRECTION, AGENT)
    assert (claim.customer_id, claim.generation) == (None, 0)
    claim.reclaim(uuid4(), AGENT)
    claim.release(UnlinkKind.RELEASE, AGENT)
    assert (claim.customer_id, claim.generation) == (None, 1)
