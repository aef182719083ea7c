"""How a case was resolved: a code reports can count, and a summary people read."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.crm.domain.errors import Violations
from services.crm.domain.visible import says_something

MAX_SUMMARY_CHARS = 4_000
_CODE = re.compile(r"[a-z0-9_:-]{1,64}")


@dataclass(frozen=True)
class Resolution:
    code: str
    summary: str

    def __post_init__(self) -> None:
        problems = Violations()
        problems.check(
            _CODE.fullmatch(self.code) is not None,
            "resolution.code",
            "INVALID_RESOLUTION_CODE",
            "must be 1-64 of [a-z0-9_:-], e.g. 'answered' or 'duplicate'",
        )
        problems.check(
            says_something(self.summary) and len(self.summary) <= MAX_SUMMARY_CHARS,
            "resolution.summary",
            "INVALID_RESOLUTION_SUMMARY",
            f"must say something, in at most {MAX_SUMMARY_CHARS} characters",
        )
        problems.raise_if_any()
