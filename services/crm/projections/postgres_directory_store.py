"""The customer directory in PostgreSQL."""

from __future__ import annotations

from typing import ClassVar

from services.crm.projections.directory_store import DirectoryStore
from services.crm.projections.postgres_read_model import PostgresReadModel
from services.crm.projections.sql_directory import SqlDirectory


class PostgresDirectoryStore(SqlDirectory, PostgresReadModel, DirectoryStore):
    TABLES: ClassVar[dict[str, str]] = {
        "customers": "directory_customers",
        "tokens": "directory_name_tokens",
        "identities": "directory_identities",
        "mentions": "directory_mentions",
        "separations": "directory_separations",
    }
    # Byte-order collation, so prefix ranges and name order match SQLite's.
    DDL: ClassVar[list[str]] = [
        "CREATE TABLE IF NOT EXISTS {customers} (customer_id uuid PRIMARY KEY, "
        'display_name text NOT NULL, sort_name text COLLATE "C" NOT NULL, merged_into uuid)',
        "CREATE INDEX IF NOT EXISTS {customers_plain}_by_name "
        "ON {customers} (sort_name, customer_id)",
        "CREATE INDEX IF NOT EXISTS {customers_plain}_by_merge_target ON {customers} (merged_into) "
        "WHERE merged_into IS NOT NULL",
        'CREATE TABLE IF NOT EXISTS {tokens} (token text COLLATE "C" NOT NULL, '
        "customer_id uuid NOT NULL, PRIMARY KEY (token, customer_id))",
        "CREATE TABLE IF NOT EXISTS {identities} (identity_id uuid PRIMARY KEY, "
        "identity_key text NOT NULL, kind text NOT NULL, value text NOT NULL, mailbox text, "
        "domain text, customer_id uuid)",
        "CREATE INDEX IF NOT EXISTS {identities_plain}_by_key ON {identities} (identity_key)",
        "CREATE INDEX IF NOT EXISTS {identities_plain}_by_customer ON {identities} (customer_id)",
        "CREATE INDEX IF NOT EXISTS {identities_plain}_by_mailbox ON {identities} (mailbox)",
        "CREATE INDEX IF NOT EXISTS {identities_plain}_by_domain ON {identities} (domain)",
        "CREATE TABLE IF NOT EXISTS {mentions} (identity_key text NOT NULL, "
        "customer_id uuid NOT NULL, attribute text NOT NULL, "
        "PRIMARY KEY (identity_key, customer_id))",
        "CREATE TABLE IF NOT EXISTS {separations} (first_id uuid NOT NULL, "
        "second_id uuid NOT NULL, PRIMARY KEY (first_id, second_id))",
    ]
