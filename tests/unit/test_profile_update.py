"""UpdateCustomer's rules without storage: which fields a mask changes, what the event
holds, and the name a first email brings."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.crm.domain.channels import Channel
from services.crm.domain.customer import Customer
from services.crm.domain.errors import AlreadyMergedError, InvalidInputError
from services.crm.domain.profile import (
    CustomerProfile,
    fields_to_update,
    first_seen_profile,
    name_and_address,
)
from tests.builders import AGENT

ALL_FIVE = ("display_name", "language_code", "preferred_channel", "attributes", "tags")


def new_customer() -> Customer:
    profile = CustomerProfile("Ada", "en", tags=("vip",))
    return Customer.register("random:1", profile, (), "f", AGENT)


def violations(error: pytest.ExceptionInfo[InvalidInputError]) -> dict[str, str]:
    return {v.field: v.reason for v in error.value.violations}


def test_a_mask_names_the_fields_and_a_star_names_all_five() -> None:
    assert fields_to_update(["tags", "display_name", "tags"], []) == ("tags", "display_name")
    assert fields_to_update(["*"], []) == ALL_FIVE


def test_without_a_mask_the_updatable_fields_set_change() -> None:
    populated = ["name", "etag", "language_code", "identities", "tags"]
    assert fields_to_update([], populated) == ("language_code", "tags")


def test_without_a_mask_a_request_setting_nothing_is_refused() -> None:
    with pytest.raises(InvalidInputError) as error:
        fields_to_update([], ["name", "etag"])
    assert violations(error) == {"update_mask": "NOTHING_TO_UPDATE"}


def test_every_unknown_or_fixed_path_is_reported_at_once() -> None:
    fixed = ["name", "identities", "create_time", "update_time", "merged_from", "etag"]
    with pytest.raises(InvalidInputError) as error:
        fields_to_update([*fixed, "displayName", "tags"], [])
    expected = {f"update_mask.paths[{i}]": "FIELD_NOT_UPDATABLE" for i in range(6)}
    assert violations(error) == expected | {"update_mask.paths[6]": "UNKNOWN_FIELD"}


def test_an_update_records_only_the_fields_it_changes_with_who_and_why() -> None:
    customer = new_customer()
    customer.collect_events()
    given = CustomerProfile("Ada Lovelace", "en", Channel.PHONE, tags=("gold",))

    customer.update_profile(given, ("display_name", "language_code", "preferred_channel"), AGENT)

    [updated] = customer.collect_events()
    assert isinstance(updated, Customer.ProfileUpdated)
    assert updated.updated_fields == ("display_name", "preferred_channel")
    assert updated.cause == AGENT
    assert customer.profile == CustomerProfile("Ada Lovelace", "en", Channel.PHONE, tags=("vip",))


def test_a_field_stored_before_a_rule_tightened_does_not_block_fixing_another() -> None:
    customer = new_customer()
    # As a log from before language codes were checked as BCP 47 tags may hold.
    object.__setattr__(customer.profile, "language_code", "en\n")

    customer.update_profile(CustomerProfile("Ada Lovelace"), ("display_name",), AGENT)

    assert customer.profile.display_name == "Ada Lovelace"
    assert customer.profile.language_code == "en\n"


def test_an_update_that_changes_nothing_records_nothing_and_keeps_the_etag() -> None:
    customer = new_customer()
    customer.collect_events()
    etag = customer.etag

    customer.update_profile(CustomerProfile("Ada", "fr"), ("display_name",), AGENT)

    assert customer.collect_events() == []
    assert customer.etag == etag


def test_the_etag_changes_with_every_change() -> None:
    customer = new_customer()
    before = customer.etag
    customer.update_profile(CustomerProfile(tags=()), ("tags",), AGENT)
    assert customer.etag != before
    assert customer.profile.tags == ()


def test_a_merged_customer_takes_no_update() -> None:
    customer = new_customer()
    customer.merge_into(uuid4(), "", AGENT)
    with pytest.raises(AlreadyMergedError):
        customer.update_profile(CustomerProfile("Other"), ("display_name",), AGENT)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"Ada Lovelace" <ada@example.com>', ("Ada Lovelace", "ada@example.com")),
        ("Ada Lovelace <Ada@Example.com>", ("Ada Lovelace", "Ada@Example.com")),
        ("<ada@example.com>", ("", "ada@example.com")),
        ("ada@example.com", ("", "ada@example.com")),
        ("Ada <not an address>", ("", "Ada <not an address>")),
    ],
)
def test_a_named_address_gives_the_name_and_the_address(
    raw: str, expected: tuple[str, str]
) -> None:
    assert name_and_address(raw) == expected


def test_a_first_name_that_is_no_display_name_is_dropped() -> None:
    assert first_seen_profile("Ada").display_name == "Ada"
    assert first_seen_profile("x" * 201) == CustomerProfile()
    assert first_seen_profile("x" * 200).display_name == "x" * 200
