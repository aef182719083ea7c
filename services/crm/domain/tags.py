"""Tags: short lower-case labels on customers and interactions."""

from __future__ import annotations

import re

from services.crm.domain.errors import Violations

MAX_TAGS = 20
_TAG_PATTERN = re.compile(r"^[a-z0-9_:-]{1,64}$")


def check_tags(problems: Violations, tags: tuple[str, ...]) -> None:
    problems.check(len(tags) <= MAX_TAGS, "tags", "TOO_MANY_TAGS", f"at most {MAX_TAGS}")
    for index, tag in enumerate(tags):
        problems.check(
            bool(_TAG_PATTERN.match(tag)),
            f"tags[{index}]",
            "INVALID_TAG",
            "must be 1-64 of [a-z0-9_:-]",
        )
