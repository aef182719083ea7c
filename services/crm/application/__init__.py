"""Use cases of the customer history, over the event store and its read models."""

from services.crm.application.results import (
    ConcurrentUpdateError,
    CustomerResult,
    CustomerView,
    ProjectionLaggingError,
    RecordedResult,
    TimelineEntry,
    TimelinePage,
)
from services.crm.application.service import CustomerHistory

__all__ = [
    "ConcurrentUpdateError",
    "CustomerHistory",
    "CustomerResult",
    "CustomerView",
    "ProjectionLaggingError",
    "RecordedResult",
    "TimelineEntry",
    "TimelinePage",
]
