"""A customer's profile: what agents know about them besides their identities."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.crm.domain.channels import Channel
from services.crm.domain.errors import Violations
from services.crm.domain.tags import check_tags

MAX_DISPLAY_NAME_CHARS = 200
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_CHARS = 64
MAX_ATTRIBUTE_VALUE_CHARS = 1_000
_LANGUAGE_PATTERN = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


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
            not self.language_code or bool(_LANGUAGE_PATTERN.match(self.language_code)),
            "language_code",
            "INVALID_LANGUAGE_CODE",
            "must be a BCP-47 tag such as 'en-GB'",
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
