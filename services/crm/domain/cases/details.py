"""What a case is about: the fields an agent writes and UpdateCase may change."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.crm.domain.cases.priority import Priority
from services.crm.domain.errors import Violations
from services.crm.domain.visible import says_something

MAX_SUBJECT_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000
_CATEGORY = re.compile(r"[a-z0-9_:-]{1,64}")

# The fields UpdateCase may change; status, owner and escalation have methods of their own.
UPDATABLE_FIELDS = ("subject", "description", "category", "priority")


@dataclass(frozen=True)
class CaseDetails:
    subject: str
    description: str = ""
    category: str = ""
    priority: Priority = Priority.NORMAL

    def __post_init__(self) -> None:
        problems = Violations()
        problems.check(
            says_something(self.subject) and len(self.subject) <= MAX_SUBJECT_CHARS,
            "subject",
            "INVALID_SUBJECT",
            f"must say something, in at most {MAX_SUBJECT_CHARS} characters",
        )
        problems.check(
            len(self.description) <= MAX_DESCRIPTION_CHARS,
            "description",
            "DESCRIPTION_TOO_LONG",
            f"at most {MAX_DESCRIPTION_CHARS} characters",
        )
        problems.check(
            not self.category or _CATEGORY.fullmatch(self.category) is not None,
            "category",
            "INVALID_CATEGORY",
            "must be empty or 1-64 of [a-z0-9_:-]",
        )
        problems.raise_if_any()
