"""Every row of the PostgreSQL read models, to compare the live ones with a rebuild."""

from __future__ import annotations

from typing import Any

import psycopg

from services.crm.projections.runner import READ_MODELS
from services.crm.storage import eventsourcing_env, postgres_connection_settings

Rows = dict[str, list[tuple[Any, ...]]]


def read_model_rows(database_url: str) -> Rows:
    """Each read model table's rows, sorted; tracking positions are left out."""
    env = eventsourcing_env(database_url)
    tables: list[str] = []
    for read_model in READ_MODELS:
        store = read_model.open(env)
        tables.extend(store.tables.values())
        store.close()
    with psycopg.connect(**postgres_connection_settings(env)) as connection:
        return {
            table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
            for table in tables
        }
