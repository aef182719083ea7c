"""Identities: the addresses a customer reaches us through, in one canonical form each."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.crm.domain.errors import InvalidInputError
from services.crm.domain.visible import says_something

MAX_IDENTIFIER_LENGTH = 200
_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_PLATFORM_ALIASES = {"twitter": "x"}


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    SOCIAL = "social"
    CHAT_VISITOR = "chat_visitor"
    EXTERNAL = "external"


@dataclass(frozen=True)
class Identity:
    """One normalised address; two spellings of one address compare equal."""

    kind: IdentityKind
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"

    @classmethod
    def email(cls, raw: str) -> Identity:
        try:
            normalized = _normalized_email(raw.strip())
        except EmailNotValidError as error:
            raise InvalidInputError.single("email", "INVALID_EMAIL", str(error)) from None
        if len(normalized) > MAX_IDENTIFIER_LENGTH:
            raise InvalidInputError.single(
                "email", "INVALID_EMAIL", f"at most {MAX_IDENTIFIER_LENGTH} characters"
            )
        return cls(IdentityKind.EMAIL, normalized)

    @classmethod
    def phone(cls, raw: str, default_region: str | None = None) -> Identity:
        text = raw.strip()
        if text.startswith("00"):
            text = "+" + text[2:]
        try:
            number = phonenumbers.parse(text, default_region or None)
        except phonenumbers.NumberParseException as error:
            raise InvalidInputError.single(
                "phone", "INVALID_PHONE_NUMBER", f"not a phone number: {error}"
            ) from None
        # Possible, not valid: the library's ranges lag new allocations, so a number in
        # none of them is accepted with a warning (see warning_of).
        if not phonenumbers.is_possible_number(number):
            raise InvalidInputError.single(
                "phone",
                "INVALID_PHONE_NUMBER",
                "not a possible number in its region: too short, too long or no such region",
            )
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return cls(IdentityKind.PHONE, e164)

    @classmethod
    def social(cls, platform: str, handle: str) -> Identity:
        name = _PLATFORM_ALIASES.get(platform.strip().lower(), platform.strip().lower())
        _check_name(name, "social.platform", "INVALID_SOCIAL_PLATFORM")
        # Handles on the big platforms ignore case and the leading "@".
        account = handle.strip().lower().removeprefix("@")
        _check_identifier(account, "social.handle", "INVALID_SOCIAL_HANDLE")
        return cls(IdentityKind.SOCIAL, f"{name}:{account}")

    @classmethod
    def chat_visitor(cls, visitor_id: str) -> Identity:
        _check_identifier(visitor_id, "chat_visitor_id", "INVALID_CHAT_VISITOR_ID")
        return cls(IdentityKind.CHAT_VISITOR, visitor_id)

    @classmethod
    def external(cls, system: str, external_id: str) -> Identity:
        name = system.strip().lower()
        _check_name(name, "external.system", "INVALID_EXTERNAL_SYSTEM")
        _check_identifier(external_id, "external.id", "INVALID_EXTERNAL_ID")
        return cls(IdentityKind.EXTERNAL, f"{name}:{external_id}")


@dataclass(frozen=True)
class IdentityWarning:
    """Why an accepted identity may still be mistyped."""

    code: str
    description: str


def warning_of(identity: Identity) -> IdentityWarning | None:
    if identity.kind is IdentityKind.PHONE and not phonenumbers.is_valid_number(
        phonenumbers.parse(identity.value)
    ):
        return IdentityWarning(
            "UNKNOWN_PHONE_RANGE",
            "a possible number, but in no range the numbering-plan data knows; check it",
        )
    return None


@functools.lru_cache(maxsize=4096)
def _normalized_email(address: str) -> str:
    # Checking an address costs more than the rest of recording it, and a bulk import
    # names the same customers over and over.
    return validate_email(address, check_deliverability=False).normalized.lower()


def _check_name(name: str, field: str, reason: str) -> None:
    if not _NAME_PATTERN.match(name):
        raise InvalidInputError.single(
            field, reason, "must be 1-32 of [a-z0-9_.-], starting with a letter or digit"
        )


def _check_identifier(value: str, field: str, reason: str) -> None:
    if not says_something(value) or value != value.strip() or len(value) > MAX_IDENTIFIER_LENGTH:
        raise InvalidInputError.single(
            field,
            reason,
            f"must be 1-{MAX_IDENTIFIER_LENGTH} characters without surrounding spaces",
        )
