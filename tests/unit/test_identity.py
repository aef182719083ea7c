from __future__ import annotations

from collections.abc import Callable

import pytest

from services.crm.domain.errors import InvalidInputError
from services.crm.domain.identity import Identity, IdentityKind, warning_of


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


def refusal(build: Callable[[], Identity]) -> tuple[str, str]:
    with pytest.raises(InvalidInputError) as raised:
        build()
    (violation,) = raised.value.violations
    return violation.field, violation.reason


def test_a_possible_number_outside_the_known_ranges_is_accepted_with_a_warning() -> None:
    drama = Identity.phone("+44 7700 900123")
    assert drama == Identity(IdentityKind.PHONE, "+447700900123")
    warning = warning_of(drama)
    assert warning is not None
    assert warning.code == "UNKNOWN_PHONE_RANGE"
    assert warning_of(Identity.phone("+44 20 7946 0958")) is None
    assert warning_of(Identity.email("ada@example.com")) is None


@pytest.mark.parametrize("raw", ["+44 20", "+44 7700 900123 4567 89", "", "+"])
def test_an_impossible_number_is_refused_on_its_field(raw: str) -> None:
    assert refusal(lambda: Identity.phone(raw)) == ("phone", "INVALID_PHONE_NUMBER")


def test_a_malformed_email_is_refused_on_its_field() -> None:
    assert refusal(lambda: Identity.email("ada@")) == ("email", "INVALID_EMAIL")


@pytest.mark.parametrize("handle", ["", "@", " ", "@ ", "\u200b", "@\u3164", "@ ada"])
def test_a_blank_or_padded_social_handle_is_refused(handle: str) -> None:
    assert refusal(lambda: Identity.social("x", handle)) == (
        "social.handle",
        "INVALID_SOCIAL_HANDLE",
    )


@pytest.mark.parametrize("platform", ["", " ", "_x", "-x", ".x", "my platform", "x!"])
def test_a_blank_or_malformed_platform_is_refused(platform: str) -> None:
    assert refusal(lambda: Identity.social(platform, "ada")) == (
        "social.platform",
        "INVALID_SOCIAL_PLATFORM",
    )


def test_platform_and_system_names_are_read_in_lower_case_without_spaces_around() -> None:
    assert Identity.social(" Instagram ", "@Ada.L").value == "instagram:ada.l"
    assert Identity.social("my_net.v2-b", "ada").value == "my_net.v2-b:ada"
    assert Identity.external(" ERP ", "Id-1").value == "erp:Id-1"
    assert Identity.external("9erp", "1").key == "external:9erp:1"


@pytest.mark.parametrize("external_id", ["", " ", "\u200b", " 42", "42 "])
def test_a_blank_or_padded_external_id_is_refused(external_id: str) -> None:
    assert refusal(lambda: Identity.external("erp", external_id)) == (
        "external.id",
        "INVALID_EXTERNAL_ID",
    )


@pytest.mark.parametrize("system", ["", " ", "_erp", "e rp"])
def test_a_blank_or_malformed_external_system_is_refused(system: str) -> None:
    assert refusal(lambda: Identity.external(system, "42")) == (
        "external.system",
        "INVALID_EXTERNAL_SYSTEM",
    )


@pytest.mark.parametrize("visitor_id", ["", " ", "\u2800", " v1", "v1 "])
def test_a_blank_or_padded_chat_visitor_id_is_refused(visitor_id: str) -> None:
    assert refusal(lambda: Identity.chat_visitor(visitor_id)) == (
        "chat_visitor_id",
        "INVALID_CHAT_VISITOR_ID",
    )


def test_chat_visitor_ids_are_exact() -> None:
    assert Identity.chat_visitor("Visitor-1") != Identity.chat_visitor("visitor-1")
    assert Identity.chat_visitor("Visitor-1").key == "chat_visitor:Visitor-1"


def test_each_kind_names_its_identities_in_keys() -> None:
    assert Identity.email("ada@example.com").key == "email:ada@example.com"
    assert Identity.phone("+44 20 7946 0958").key == "phone:+442079460958"
    assert Identity.social("twitter", "@Ada").key == "social:x:ada"
