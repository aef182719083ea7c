"""Use cases that read the read models: timelines, search, suggestions."""

from __future__ import annotations

import dataclasses

from services.crm.application.base import (
    CustomerHistoryBase,
)
from services.crm.application.results import TimelinePage
from services.crm.domain.errors import (
    InvalidInputError,
)
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import IdentityIndex
from services.crm.domain.names import name_tokens
from services.crm.projections.directory_store import (
    DirectoryEntry,
    NameCursor,
    Suggestion,
)
from services.crm.projections.timeline_store import TimelineQuery

MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 8


class ReadingUseCases(CustomerHistoryBase):
    def timeline_page(
        self, query: TimelineQuery, min_position: int, wait_seconds: float
    ) -> TimelinePage:
        if min_position:
            self.wait_for_position(min_position, wait_seconds)
        found = self.timeline.select_entries(
            dataclasses.replace(query, limit=query.limit + 1), self.name
        )
        if not found.rows:
            self.get_customer(query.customer_id)  # An empty page, or no such customer?
        entries = [self.timeline_entry(row) for row in found.rows[: query.limit]]
        return TimelinePage(entries, len(found.rows) > query.limit, found.position)

    def search_by_name(
        self, name: str, limit: int, after: NameCursor | None, min_position: int, wait: float
    ) -> list[DirectoryEntry]:
        tokens = name_tokens(name)
        if not tokens:
            raise InvalidInputError.single(
                "name", "EMPTY_SEARCH", "give at least one letter or digit to search for"
            )
        if len(name) > MAX_SEARCH_CHARS or len(tokens) > MAX_SEARCH_WORDS:
            raise InvalidInputError.single(
                "name",
                "SEARCH_TOO_LONG",
                f"at most {MAX_SEARCH_WORDS} words and {MAX_SEARCH_CHARS} characters",
            )
        self.wait_for_position(min_position, wait, self.directory)
        return self.directory.search_by_name(tokens, limit, after)

    def search_by_identity(
        self, identity: Identity, min_position: int, wait: float
    ) -> DirectoryEntry | None:
        self.wait_for_position(min_position, wait, self.directory)
        return self.directory.search_by_identity(IdentityIndex.create_id(identity))

    def merge_suggestions(self, limit: int) -> list[Suggestion]:
        return self.directory.suggestions(limit)
