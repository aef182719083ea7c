"""CustomerHistory: the application service, assembled from its use cases."""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import MutableOrImmutableAggregate

from services.crm.application.auditing import AuditUseCases
from services.crm.application.identities import IdentityUseCases
from services.crm.application.importing import ImportUseCases
from services.crm.application.notes import NoteUseCases
from services.crm.application.profiles import ProfileUseCases
from services.crm.application.reading import ReadingUseCases
from services.crm.application.recording import RecordingUseCases
from services.crm.application.watching import WatchingUseCases
from services.crm.domain.customer import Customer


class CustomerHistory(
    ImportUseCases,
    AuditUseCases,
    RecordingUseCases,
    IdentityUseCases,
    NoteUseCases,
    ProfileUseCases,
    ReadingUseCases,
    WatchingUseCases,
):
    """The service layer: every write is one atomic save of new events."""

    name = "CustomerHistory"
    # Customers change rarely; interactions are separate aggregates that never grow.
    snapshotting_intervals: ClassVar[dict[type[MutableOrImmutableAggregate[Any]], int]] = {
        Customer: 50
    }
