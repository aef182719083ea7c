"""The customer directory in SQLite."""

from __future__ import annotations

from typing import ClassVar

from services.crm.projections.directory_store import DirectoryStore
from services.crm.projections.sql_directory import SqlDirectory
from services.crm.projections.sqlite_read_model import SQLiteReadModel


class SQLiteDirectoryStore(SqlDirectory, SQLiteReadModel, DirectoryStore):
    TRACKING_TABLE = "directory_tracking"
    TABLES: ClassVar[dict[str, str]] = {
        "customers": "directory_customers",
        "tokens": "directory_name_tokens",
        "identities": "directory_identities",
        "mentions": "directory_mentions",
        "separations": "directory_separations",
    }
    DDL: ClassVar[list[str]] = [
        "CREATE TABLE IF NOT EXISTS {customers} (customer_id TEXT PRIMARY KEY, "
        "display_name TEXT NOT NULL, sort_name TEXT NOT NULL, merged_into TEXT)",
        "CREATE INDEX IF NOT EXISTS {customers}_by_name ON {customers} (sort_name, customer_id)",
        "CREATE INDEX IF NOT EXISTS {customers}_by_merge_target ON {customers} (merged_into) "
        "WHERE merged_into IS NOT NULL",
        "CREATE TABLE IF NOT EXISTS {tokens} (token TEXT NOT NULL, customer_id TEXT NOT NULL, "
        "PRIMARY KEY (token, customer_id)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS {identities} (identity_id TEXT PRIMARY KEY, "
        "identity_key TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, mailbox TEXT, "
        "domain TEXT, customer_id TEXT)",
        "CREATE INDEX IF NOT EXISTS {identities}_by_key ON {identities} (identity_key)",
        "CREATE INDEX IF NOT EXISTS {identities}_by_customer ON {identities} (customer_id)",
        "CREATE INDEX IF NOT EXISTS {identities}_by_mailbox ON {identities} (mailbox)",
        "CREATE INDEX IF NOT EXISTS {identities}_by_domain ON {identities} (domain)",
        "CREATE TABLE IF NOT EXISTS {mentions} (identity_key TEXT NOT NULL, "
        "customer_id TEXT NOT NULL, attribute TEXT NOT NULL, "
        "PRIMARY KEY (identity_key, customer_id))",
        "CREATE TABLE IF NOT EXISTS {separations} (first_id TEXT NOT NULL, "
        "second_id TEXT NOT NULL, PRIMARY KEY (first_id, second_id))",
    ]
