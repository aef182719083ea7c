"""A customer's profile: what agents know about them besides their identities."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from services.crm.domain.channels import Channel
from services.crm.domain.errors import CrmError, InvalidInputError, Violations
from services.crm.domain.tags import check_tags
from services.crm.domain.visible import says_something

MAX_DISPLAY_NAME_CHARS = 200
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_CHARS = 64
MAX_ATTRIBUTE_VALUE_CHARS = 1_000
MAX_LANGUAGE_CODE_CHARS = 64
# RFC 5646's grammar for a well-formed tag; of its language forms only the 2-3 letter
# ones (with extended subtags) are registered, the rest being reserved.
_LANGTAG = (
    r"[a-z]{2,3}(?:-[a-z]{3}){0,3}"  # language, extlang
    r"(?:-[a-z]{4})?"  # script
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"  # variants
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"  # extensions
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"  # private use
)
_LANGUAGE_TAG = re.compile(
    rf"{_LANGTAG}|x(?:-[a-z0-9]{{1,8}})+"
    r"|en-gb-oed|i-(?:ami|bnn|default|enochian|hak|klingon|lux|mingo|navajo|pwn|tao|tay|tsu)"
    r"|sgn-(?:be-fr|be-nl|ch-de)",
    re.IGNORECASE | re.ASCII,
)


@dataclass(frozen=True)
class CustomerProfile:
    """What agents know about a customer besides their identities."""

    display_name: str = ""
    language_code: str = ""
    preferred_channel: Channel | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = Violations()
        problems.check(
            len(self.display_name) <= MAX_DISPLAY_NAME_CHARS,
            "display_name",
            "DISPLAY_NAME_TOO_LONG",
            f"at most {MAX_DISPLAY_NAME_CHARS} characters",
        )
        problems.check(
            not self.display_name or says_something(self.display_name),
            "display_name",
            "BLANK_DISPLAY_NAME",
            "must show at least one visible character, or be empty",
        )
        problems.check(
            not self.language_code
            or (
                len(self.language_code) <= MAX_LANGUAGE_CODE_CHARS
                and _LANGUAGE_TAG.fullmatch(self.language_code) is not None
            ),
            "language_code",
            "INVALID_LANGUAGE_CODE",
            "must be a BCP 47 tag such as 'en', 'en-GB' or 'zh-Hant-TW'",
        )
        problems.check(
            len(self.attributes) <= MAX_ATTRIBUTES,
            "attributes",
            "TOO_MANY_ATTRIBUTES",
            f"at most {MAX_ATTRIBUTES}",
        )
        for key, value in self.attributes.items():
            problems.check(
                0 < len(key) <= MAX_ATTRIBUTE_KEY_CHARS and len(value) <= MAX_ATTRIBUTE_VALUE_CHARS,
                f"attributes[{key[:MAX_ATTRIBUTE_KEY_CHARS]}]",
                "INVALID_ATTRIBUTE",
                f"keys 1-{MAX_ATTRIBUTE_KEY_CHARS} and values up to "
                f"{MAX_ATTRIBUTE_VALUE_CHARS} characters",
            )
        check_tags(problems, self.tags)
        problems.raise_if_any()


# What UpdateCustomer may change; the other fields of a customer are who they are
# (name, identities) or output only.
UPDATABLE_FIELDS = ("display_name", "language_code", "preferred_channel", "attributes", "tags")
_FIXED_FIELDS = frozenset(
    {"name", "identities", "create_time", "update_time", "merged_from", "etag"}
)


def fields_to_update(mask: Sequence[str], populated: Sequence[str]) -> tuple[str, ...]:
    """The profile fields an update changes: those the mask names ("*" for all), or,
    with no mask, the updatable fields the request populated (AIP-134)."""
    if not mask:
        chosen = tuple(name for name in UPDATABLE_FIELDS if name in populated)
        if not chosen:
            raise InvalidInputError.single(
                "update_mask", "NOTHING_TO_UPDATE", "name the fields to change, or set them"
            )
        return chosen
    problems = Violations()
    named: list[str] = []
    for index, path in enumerate(mask):
        where = f"update_mask.paths[{index}]"
        if path == "*":
            named.extend(UPDATABLE_FIELDS)
        elif path in UPDATABLE_FIELDS:
            named.append(path)
        elif path in _FIXED_FIELDS:
            problems.add(where, "FIELD_NOT_UPDATABLE", f"{path} cannot be changed by an update")
        else:
            problems.add(where, "UNKNOWN_FIELD", "not a field of Customer")
    problems.raise_if_any()
    return tuple(dict.fromkeys(named))


class EtagMismatchError(CrmError):
    """The customer changed since the caller read it (AIP-154): read it again."""

    reason = "ETAG_MISMATCH"

    def __init__(self, customer_id: str, current: str) -> None:
        super().__init__(
            f"customer {customer_id} changed since this etag was read; get it again",
            {"customer": f"customers/{customer_id}", "current_etag": current},
        )


def name_and_address(raw: str) -> tuple[str, str]:
    """'"Ada Lovelace" <ada@example.com>' -> ("Ada Lovelace", "ada@example.com"): the
    name a mail client shows, and the address, which alone is the identity."""
    if "<" not in raw:
        return "", raw
    try:
        found = validate_email(raw.strip(), allow_display_name=True, check_deliverability=False)
    except EmailNotValidError:
        return "", raw  # The identity check then says what is wrong with it.
    return (found.display_name or "").strip(), found.original


def first_seen_profile(display_name: str) -> CustomerProfile:
    """A new customer's profile from the name their first message came with; a name
    that would not pass as a display name is dropped rather than losing the message."""
    try:
        return CustomerProfile(display_name=display_name)
    except InvalidInputError:
        return CustomerProfile()


def with_values(profile: CustomerProfile, values: dict[str, object]) -> CustomerProfile:
    """The profile with these values, already checked, in place of its own; the fields
    kept are not judged again, so one stored before a rule tightened can still be fixed."""
    updated = copy.copy(profile)
    for name, value in values.items():
        object.__setattr__(updated, name, value)
    return updated
