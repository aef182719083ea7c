"""Bulk import: many interactions from another system in one transaction, each once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.crm.application.base import commit_position
from services.crm.application.recording import RecordingUseCases
from services.crm.domain.cause import Cause
from services.crm.domain.customer import Customer
from services.crm.domain.errors import CrmError, InvalidInputError
from services.crm.domain.identity import Identity
from services.crm.domain.identity_index import IdentityIndex
from services.crm.domain.interaction import Interaction, InteractionContent, interaction_key
from services.crm.transcoder import fingerprint, plain

MAX_IMPORT_BATCH = 1_000


@dataclass(frozen=True)
class ImportItem:
    """One record to import: whose it is, and what happened."""

    target: UUID | Identity
    content: InteractionContent


@dataclass
class ImportReport:
    imported: int = 0
    already_imported: int = 0
    failures: dict[int, CrmError] = field(default_factory=dict)
    position: int = 0


class ImportUseCases(RecordingUseCases):
    def import_interactions(
        self, items: Sequence[tuple[int, ImportItem]], cause: Cause
    ) -> ImportReport:
        """Records each item once, keyed by its source system's id: a re-import of the
        same id records nothing. One failing item never stops the others."""
        report = ImportReport()
        holders: dict[UUID | Identity, UUID] = {}
        new: list[Customer | IdentityIndex | Interaction] = []
        accepted: list[tuple[int, ImportItem]] = []
        repeats: list[tuple[int, ImportItem]] = []
        seen: set[UUID] = set()
        for index, item in items:
            try:
                _check_importable(item.content)
                item.content.check_not_in_future(self.clock())
                customer_id = self._holder(item.target, holders, new, cause)
            except CrmError as error:
                report.failures[index] = error
                continue
            interaction = _interaction(item, customer_id, cause)
            if interaction.id in seen:
                # A source id twice in one call would fail the joint save for everyone.
                repeats.append((index, item))
                continue
            seen.add(interaction.id)
            new.append(interaction)
            accepted.append((index, item))
        if accepted:
            try:
                report.position = commit_position(self.save(*new))
                report.imported = len(accepted)
            except IntegrityError:
                # Some were imported before, or a writer raced us: take them one by one.
                self._import_one_by_one(accepted, cause, report)
        self._import_one_by_one(repeats, cause, report)
        return report

    def _holder(
        self,
        target: UUID | Identity,
        holders: dict[UUID | Identity, UUID],
        new: list[Customer | IdentityIndex | Interaction],
        cause: Cause,
    ) -> UUID:
        """The customer an item belongs to, found once per import call."""
        if target not in holders:
            holders[target], created = self._resolve_customer(target, cause)
            new += created
        return holders[target]

    def _import_one_by_one(
        self, pending: list[tuple[int, ImportItem]], cause: Cause, report: ImportReport
    ) -> None:
        for index, item in pending:
            try:
                result = self.record_interaction(item.target, item.content, cause, "")
            except CrmError as error:
                report.failures[index] = error
                continue
            if result.already_recorded:
                report.already_imported += 1
            else:
                report.imported += 1
            report.position = max(report.position, result.position)


def _check_importable(content: InteractionContent) -> None:
    if not content.idempotency_external_id:
        raise InvalidInputError.single(
            "interaction.external_id",
            "EXTERNAL_ID_REQUIRED",
            "imports need the source system's id, so that a re-import is safe",
        )


def _interaction(item: ImportItem, customer_id: UUID, cause: Cause) -> Interaction:
    content = item.content
    return Interaction(
        idempotency_key=interaction_key(
            content.channel, content.idempotency_external_id, cause.actor, ""
        ),
        customer_id=customer_id,
        content=content,
        identity=item.target if isinstance(item.target, Identity) else None,
        fingerprint=_fingerprint(item),
        customer_created=False,
        cause=cause,
    )


def _fingerprint(item: ImportItem) -> str:
    """As RecordInteraction computes it, so an import and a later record of the same
    source id are seen as one interaction."""
    return fingerprint(item.target, plain(item.content))
