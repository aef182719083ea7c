from __future__ import annotations

import pytest

from services.crm.domain.errors import InvalidInputError
from services.crm.domain.identity import Identity, IdentityKind


@pytest.mark.parametrize(
    "spelling", ["+44 20 7946 0958", "0044 20 7946 0958", "+442079460958", " +44 (0)20 7946 0958 "]
)
def test_every_spelling_of_a_phone_number_is_one_identity(spelling: str) -> None:
    assert Identity.phone(spelling) == Identity(IdentityKind.PHONE, "+442079460958")


def test_a_national_number_needs_the_default_region() -> None:
    assert Identity.phone("020 7946 0958", "GB").value == "+442079460958"
    with pytest.raises(InvalidInputError) as raised:
        Identity.phone("020 7946 0958")
    assert raised.value.reason == "INVALID_PHONE_NUMBER"


@pytest.mark.parametrize("raw", ["call me", "+44 20", "+999 123 456 789"])
def test_unparsable_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Identity.phone(raw)
    assert raised.value.violations[0].field == "phone"


def test_emails_are_lower_cased() -> None:
    assert Identity.email(" Ada.Lovelace@Example.COM ").value == "ada.lovelace@example.com"


@pytest.mark.parametrize("raw", ["", "ada", "ada@", "@example.com", "ada@@example.com"])
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        Identity.email(raw)
    assert raised.value.reason == "INVALID_EMAIL"


def test_social_handles_ignore_case_and_the_at_sign_per_platform() -> None:
    assert Identity.social("X", "@Acme") == Identity.social("twitter", "acme")
    assert Identity.social("x", "acme") != Identity.social("instagram", "acme")
    assert Identity.social("facebook", "12345").key == "social:facebook:12345"


def test_external_ids_are_exact_and_scoped_by_system() -> None:
    assert Identity.external("Billing", "C-1001").value == "billing:C-1001"
    assert Identity.external("billing", "C-1001") != Identity.external("billing", "c-1001")
    with pytest.raises(InvalidInputError):
        Identity.external("bad system!", "1")


def test_chat_visitor_ids_must_not_be_blank() -> None:
    with pytest.raises(InvalidInputError):
        Identity.chat_visitor(" ")
