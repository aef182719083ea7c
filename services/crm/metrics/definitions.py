"""Every metric the CRM exports; labels hold method names, status codes, read model
and pool names only, never anything a request carried.

Each gauge says how to combine the values of several serving processes
(CRM_SERVE_PROCESSES) when they write to PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RPC_REQUESTS = Counter(
    "crm_rpc_requests",
    "gRPC calls ended, by method and status code; streams count when they end.",
    ["method", "code"],
)
RPC_DURATION = Histogram(
    "crm_rpc_duration_seconds",
    "Time from a gRPC call's start to its end, by method and status code.",
    ["method", "code"],
)
OPEN_WATCHES = Gauge(
    "crm_open_watches",
    "WatchTimeline streams open now.",
    multiprocess_mode="livesum",
)
COMMIT_BATCH_SAVES = Histogram(
    "crm_group_commit_batch_saves",
    "Saves committed together in one transaction by the group commit.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 500),
)
READ_MODEL_LAG_EVENTS = Gauge(
    "crm_read_model_lag_events",
    "Events in the log the read model has not reached.",
    ["read_model"],
    multiprocess_mode="mostrecent",
)
READ_MODEL_LAG_SECONDS = Gauge(
    "crm_read_model_lag_seconds",
    "Age of the oldest event the read model has not applied; 0 when caught up.",
    ["read_model"],
    multiprocess_mode="mostrecent",
)
READ_MODEL_PARKED_EVENTS = Gauge(
    "crm_read_model_parked_events",
    "Events the read model could not apply, waiting for an operator.",
    ["read_model"],
    multiprocess_mode="mostrecent",
)
READ_MODEL_STALLED = Gauge(
    "crm_read_model_stalled",
    "1 while the read model is behind the log and has not moved for "
    "CRM_PROJECTION_STALL_SECONDS, else 0.",
    ["read_model"],
    multiprocess_mode="mostrecent",
)
READ_MODEL_EVENTS_APPLIED = Counter(
    "crm_read_model_events_applied",
    "Events this process's projector applied to the read model (parked ones excluded).",
    ["read_model"],
)
POOL_CONNECTIONS = Gauge(
    "crm_database_pool_connections",
    "PostgreSQL connections the pool holds open.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_CONNECTIONS_IN_USE = Gauge(
    "crm_database_pool_connections_in_use",
    "PostgreSQL connections of the pool lent to a call now.",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_MAX_CONNECTIONS = Gauge(
    "crm_database_pool_max_connections",
    "Connections the pool may open (pool_size + max_overflow).",
    ["pool"],
    multiprocess_mode="livesum",
)
POOL_WAITING_REQUESTS = Gauge(
    "crm_database_pool_waiting_requests",
    "Calls waiting for a connection of the pool now.",
    ["pool"],
    multiprocess_mode="livesum",
)
