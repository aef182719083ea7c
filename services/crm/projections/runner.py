"""Keeps the read models in step with the log beside the service, and rebuilds them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.utils import Environment

from services.crm.application import CustomerHistory
from services.crm.application.group_commit import CommitObserver
from services.crm.projections.batch_runner import (
    AppliedObserver,
    ChangeProjection,
    apply_or_park,
    follow_log,
)
from services.crm.projections.directory_projection import DirectoryProjection
from services.crm.projections.directory_store import DirectoryStore
from services.crm.projections.parked_events import (
    AppliedElsewhereError,
    error_class,
    error_frames,
)
from services.crm.projections.postgres_directory_store import PostgresDirectoryStore
from services.crm.projections.postgres_timeline_store import PostgresTimelineStore
from services.crm.projections.sqlite_directory_store import SQLiteDirectoryStore
from services.crm.projections.sqlite_timeline_store import SQLiteTimelineStore
from services.crm.projections.timeline_projection import TimelineProjection
from services.crm.projections.timeline_store import TimelineStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadModel:
    """A projection and the store it writes, per database."""

    projection_class: type[ChangeProjection]
    sqlite_store: type[TrackingRecorder]
    postgres_store: type[TrackingRecorder]

    def store_class(self, env: Mapping[str, str]) -> type[TrackingRecorder]:
        if env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite":
            return self.sqlite_store
        return self.postgres_store

    def open(self, env: Mapping[str, str]) -> Any:
        """The store, configured as the projection runner configures it."""
        factory = InfrastructureFactory[TrackingRecorder].construct(
            env=Environment(self.projection_class.name, dict(env))
        )
        return factory.tracking_recorder(self.store_class(env))


TIMELINE = ReadModel(TimelineProjection, SQLiteTimelineStore, PostgresTimelineStore)
DIRECTORY = ReadModel(DirectoryProjection, SQLiteDirectoryStore, PostgresDirectoryStore)
READ_MODELS = (TIMELINE, DIRECTORY)


def open_timeline_store(env: Mapping[str, str]) -> TimelineStore:
    store: TimelineStore = TIMELINE.open(env)
    return store


def open_directory_store(env: Mapping[str, str]) -> DirectoryStore:
    store: DirectoryStore = DIRECTORY.open(env)
    return store


def open_application(
    env: Mapping[str, str], group_commit: bool = False, on_commit: CommitObserver | None = None
) -> CustomerHistory:
    """The application with its read models, as the service uses it."""
    return CustomerHistory(
        env=dict(env),
        timeline=lambda: open_timeline_store(env),
        directory=lambda: open_directory_store(env),
        group_commit=group_commit,
        on_commit=on_commit,
    )


class ProjectionSupervisor:
    """Follows the event log into one read model; after an error it starts again from
    the last tracked position, so nothing is skipped and nothing applied twice."""

    def __init__(
        self,
        env: Mapping[str, str],
        read_model: ReadModel = TIMELINE,
        projection_class: type[ChangeProjection] | None = None,
        restart_delay: float = 1.0,
        on_applied: AppliedObserver | None = None,
    ) -> None:
        self.env = dict(env)
        self.on_applied = on_applied
        self.read_model = read_model
        self.projection_class = projection_class or read_model.projection_class
        self.restart_delay = restart_delay
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"{self.projection_class.name}-projection", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stopping.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._follow_log()
            except AppliedElsewhereError:
                # Two projectors at once, for the moment a lost lease takes to notice.
                logger.warning(
                    "another projector applied these events; following from its position",
                    extra={"fields": {"projection": self.projection_class.name}},
                )
                self._stopping.wait(self.restart_delay)
            except Exception as error:
                self.restarts += 1
                # Not the message or its chain: an error met while parking may quote data.
                logger.error(
                    "projection failed; restarting",
                    extra={
                        "fields": {
                            "projection": self.projection_class.name,
                            "error_class": error_class(error),
                            "raised_at": error_frames(error),
                        }
                    },
                )
                self._stopping.wait(self.restart_delay)

    def _follow_log(self) -> None:
        store = self.read_model.open(self.env)
        try:
            follow_log(self.env, self.projection_class(store), self._stopping, self.on_applied)
        finally:
            store.close()


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild did, for its log line."""

    read_model: str
    replayed: int
    parked: int


def rebuild(env: Mapping[str, str], read_model: ReadModel, batch_size: int = 500) -> int:
    """Drop a read model and replay the whole log into it; returns the events replayed."""
    return rebuild_read_model(env, read_model, batch_size).replayed


def rebuild_read_model(
    env: Mapping[str, str], read_model: ReadModel, batch_size: int = 500
) -> Rebuilt:
    """Drop a read model and replay the whole log into it, parking what cannot be
    applied, as the projection does."""
    store = read_model.open(env)
    store.drop()
    projection = read_model.projection_class(store)
    app = CustomerHistory(env=dict(env))
    try:
        replayed, last, parked = 0, 0, 0
        while notifications := app.recorder.select_notifications(
            start=last, limit=batch_size, inclusive_of_start=False
        ):
            parked += apply_or_park(app, projection, notifications)
            replayed += len(notifications)
            last = notifications[-1].id
        if isinstance(store, DirectoryStore):
            store.refresh_statistics()  # After a bulk load, before the first search.
        return Rebuilt(projection.name, replayed, parked)
    finally:
        app.close()
        store.close()


def rebuild_timeline(env: Mapping[str, str]) -> int:
    return rebuild(env, TIMELINE)
