"""What feeds the gauges: read model statuses and pool use, on the health poller's
interval (so they work when several processes write them to files), and the group
commit's batches as they commit."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.postgres import PostgresDatastore

from services.crm.application import CustomerHistory
from services.crm.metrics.definitions import (
    COMMIT_BATCH_SAVES,
    POOL_CONNECTIONS,
    POOL_CONNECTIONS_IN_USE,
    POOL_MAX_CONNECTIONS,
    POOL_WAITING_REQUESTS,
    READ_MODEL_EVENTS_APPLIED,
    READ_MODEL_LAG_EVENTS,
    READ_MODEL_LAG_SECONDS,
    READ_MODEL_PARKED_EVENTS,
    READ_MODEL_STALLED,
)
from services.crm.projections.health import ReadModelStatus, StatusObserver


def observe_commit_batch(saves: int) -> None:
    COMMIT_BATCH_SAVES.observe(saves)


def observe_events_applied(read_model: str, events: int) -> None:
    READ_MODEL_EVENTS_APPLIED.labels(read_model=read_model).inc(events)


def read_model_observer(app: CustomerHistory, pools: bool = True) -> StatusObserver:
    """Sets each read model's gauges from what health just read, and, with pools,
    those of the application's connection pools."""

    def observe(statuses: list[ReadModelStatus]) -> None:
        now = app.clock()
        for status in statuses:
            _set_read_model(status, now)
        if pools:
            observe_pools(app)

    return observe


def _set_read_model(status: ReadModelStatus, now: datetime) -> None:
    name = status.read_model
    READ_MODEL_LAG_EVENTS.labels(read_model=name).set(status.behind)
    READ_MODEL_PARKED_EVENTS.labels(read_model=name).set(status.parked)
    READ_MODEL_STALLED.labels(read_model=name).set(1 if status.stalled else 0)
    if status.behind == 0:
        READ_MODEL_LAG_SECONDS.labels(read_model=name).set(0)
    elif status.waiting_since is not None:
        waited = (now - status.waiting_since).total_seconds()
        READ_MODEL_LAG_SECONDS.labels(read_model=name).set(max(waited, 0.0))


def observe_pools(app: CustomerHistory) -> None:
    """On PostgreSQL, each connection pool's use; SQLite has no pools to report."""
    for pool, store in _stores(app).items():
        datastore = getattr(store, "datastore", None)
        if isinstance(datastore, PostgresDatastore):
            stats = datastore.pool.get_stats()
            POOL_CONNECTIONS.labels(pool=pool).set(stats["pool_size"])
            in_use = stats["pool_size"] - stats["pool_available"]
            POOL_CONNECTIONS_IN_USE.labels(pool=pool).set(in_use)
            POOL_MAX_CONNECTIONS.labels(pool=pool).set(stats["pool_max"])
            POOL_WAITING_REQUESTS.labels(pool=pool).set(stats.get("requests_waiting", 0))


def _stores(app: CustomerHistory) -> dict[str, object]:
    # The event log's pool also serves the snapshots.
    return {"events": app.recorder, "timeline": app.timeline, "directory": app.directory}
