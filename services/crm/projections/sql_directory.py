"""The customer directory's SQL, written once for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from services.crm.projections.directory_store import (
    CustomerListed,
    CustomerMerged,
    CustomerRenamed,
    DirectoryChange,
    DirectoryEntry,
    IdentityHeld,
    NameCursor,
    Suggestion,
)
from services.crm.projections.sql_read_model import SqlReadModel

MAX_MERGE_DEPTH = 1_000
# Above every code point, so "token >= p AND token < p + _END" is a prefix range.
_END = "\U0010ffff"

_SAME_MAILBOX = (
    "SELECT a.customer_id AS first, b.customer_id AS second, a.value AS one, b.value AS other, "
    "a.mailbox AS shared FROM {identities} a JOIN {identities} b "
    "ON a.mailbox = b.mailbox AND a.identity_id < b.identity_id "
    "WHERE a.customer_id IS NOT NULL AND b.customer_id IS NOT NULL"
)
_MENTIONED = (
    "SELECT m.customer_id AS first, i.customer_id AS second, i.kind AS kind, i.value AS value, "
    "m.attribute AS attribute FROM {mentions} m "
    "JOIN {identities} i ON i.identity_key = m.identity_key WHERE i.customer_id IS NOT NULL"
)
# Starts from customers sharing a name, so a big company domain is not self-joined.
_SAME_NAME_AND_DOMAIN = (
    "SELECT ca.customer_id AS first, cb.customer_id AS second, a.domain AS domain, "
    "ca.display_name AS name FROM {customers} ca JOIN {customers} cb "
    "ON cb.sort_name = ca.sort_name AND ca.customer_id < cb.customer_id "
    "JOIN {identities} a ON a.customer_id = ca.customer_id "
    "JOIN {identities} b ON b.customer_id = cb.customer_id AND b.domain = a.domain "
    "WHERE ca.sort_name <> '' AND a.domain IS NOT NULL"
)


class SqlDirectory(SqlReadModel):
    """The DirectoryStore methods over a backend's read model, which it must precede
    in the bases."""

    def apply(self, batch: Sequence[tuple[Sequence[DirectoryChange], Tracking]]) -> None:
        self._apply_each(batch, self._apply_one)

    def _apply_one(self, cursor: Any, changes: Sequence[DirectoryChange]) -> None:
        self._list(cursor, [change for change in changes if isinstance(change, CustomerListed)])
        for change in changes:
            if isinstance(change, IdentityHeld):
                self._hold(cursor, change)
            elif isinstance(change, CustomerMerged):
                self._merge(cursor, change)
            elif isinstance(change, CustomerRenamed):
                self._rename(cursor, change.listing)

    def search_by_name(
        self, tokens: Sequence[str], limit: int, after: NameCursor | None
    ) -> list[DirectoryEntry]:
        statement, params = self._name_search(tokens, limit, after)
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._q(statement), params)
            rows = cursor.fetchall()
            return [self._entry(cursor, self._py_id(row["customer_id"])) for row in rows]

    def explain_name_search(self, tokens: Sequence[str]) -> str:
        statement, params = self._name_search(tokens, 50, None)
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._explain(self._q(statement)), params)
            rows = cursor.fetchall()
            return "\n".join(" ".join(str(v) for v in dict(row).values()) for row in rows)

    def refresh_statistics(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute("ANALYZE")

    def search_by_identity(self, identity_id: UUID) -> DirectoryEntry | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                self._q("SELECT customer_id FROM {identities} WHERE identity_id = ?"),
                (self._db_id(identity_id),),
            )
            row = cursor.fetchone()
            if row is None or row["customer_id"] is None:
                return None
            return self._entry(cursor, self._root(cursor, self._py_id(row["customer_id"])))

    def suggestions(self, limit: int) -> list[Suggestion]:
        found: dict[frozenset[UUID], Suggestion] = {}
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._q("SELECT first_id, second_id FROM {separations}"))
            separated = {
                frozenset((self._py_id(row["first_id"]), self._py_id(row["second_id"])))
                for row in cursor.fetchall()
            }
            for statement, explain in (
                (_SAME_MAILBOX, _mailbox_evidence),
                (_MENTIONED, _mention_evidence),
                (_SAME_NAME_AND_DOMAIN, _name_evidence),
            ):
                cursor.execute(self._q(statement))
                for row in cursor.fetchall():
                    first = self._root(cursor, self._py_id(row["first"]))
                    second = self._root(cursor, self._py_id(row["second"]))
                    pair = frozenset((first, second))
                    if first != second and pair not in found and pair not in separated:
                        rule, evidence = explain(row)
                        low, high = sorted(pair)
                        found[pair] = Suggestion(low, high, rule, evidence)
        return sorted(found.values(), key=lambda s: (s.rule, s.first, s.second))[:limit]

    def _name_search(
        self, tokens: Sequence[str], limit: int, after: NameCursor | None
    ) -> tuple[str, list[Any]]:
        # Driven by the longest word's token range, as longer prefixes match fewer
        # names; CROSS JOIN keeps SQLite from starting at the customers table instead
        # (PostgreSQL plans it as an ordinary join).
        first, *others = sorted(tokens, key=len, reverse=True)
        where = ["t.token >= ?", "t.token < ?", "c.customer_id = t.customer_id"]
        where.append("c.merged_into IS NULL")
        params: list[Any] = [first, first + _END]
        for token in others:
            where.append(
                "c.customer_id IN (SELECT o.customer_id FROM {tokens} o "
                "WHERE o.token >= ? AND o.token < ?)"
            )
            params += [token, token + _END]
        if after is not None:
            where.append("(c.sort_name, c.customer_id) > (?, ?)")
            params += [after.sort_name, self._db_id(after.customer_id)]
        params.append(limit)
        statement = (
            "SELECT DISTINCT c.customer_id, c.sort_name FROM {tokens} t CROSS JOIN {customers} c "
            f"WHERE {' AND '.join(where)} ORDER BY c.sort_name, c.customer_id LIMIT ?"
        )
        return statement, params

    def _list(self, cursor: Any, listed: Sequence[CustomerListed]) -> None:
        """New customers come first in any change list, so batching them is safe."""
        if not listed:
            return
        cursor.executemany(
            self._q(
                "INSERT INTO {customers} (customer_id, display_name, sort_name, merged_into) "
                "VALUES (?, ?, ?, NULL) ON CONFLICT (customer_id) DO NOTHING"
            ),
            [(self._db_id(c.customer_id), c.display_name, c.sort_name) for c in listed],
        )
        cursor.executemany(
            self._q(
                "INSERT INTO {tokens} (token, customer_id) VALUES (?, ?) "
                "ON CONFLICT (token, customer_id) DO NOTHING"
            ),
            [(token, self._db_id(c.customer_id)) for c in listed for token in c.tokens],
        )
        mentions = [
            (key, self._db_id(c.customer_id), attribute)
            for c in listed
            for attribute, _, key in (mention.partition("=") for mention in c.mentions)
        ]
        if mentions:
            cursor.executemany(
                self._q(
                    "INSERT INTO {mentions} (identity_key, customer_id, attribute) "
                    "VALUES (?, ?, ?) ON CONFLICT (identity_key, customer_id) DO NOTHING"
                ),
                mentions,
            )

    def _rename(self, cursor: Any, listing: CustomerListed) -> None:
        customer = self._db_id(listing.customer_id)
        cursor.execute(
            self._q("UPDATE {customers} SET display_name = ?, sort_name = ? WHERE customer_id = ?"),
            (listing.display_name, listing.sort_name, customer),
        )
        for table in ("{tokens}", "{mentions}"):
            cursor.execute(self._q(f"DELETE FROM {table} WHERE customer_id = ?"), (customer,))
        self._list(cursor, [listing])

    def _hold(self, cursor: Any, held: IdentityHeld) -> None:
        holder = None if held.customer_id is None else self._db_id(held.customer_id)
        if held.key is None:
            cursor.execute(
                self._q("UPDATE {identities} SET customer_id = ? WHERE identity_id = ?"),
                (holder, self._db_id(held.identity_id)),
            )
            return
        cursor.execute(
            self._q(
                "INSERT INTO {identities} (identity_id, identity_key, kind, value, mailbox, "
                "domain, customer_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (identity_id) "
                "DO UPDATE SET customer_id = excluded.customer_id"
            ),
            (
                self._db_id(held.identity_id),
                held.key,
                held.kind,
                held.value,
                held.mailbox,
                held.domain,
                holder,
            ),
        )

    def _merge(self, cursor: Any, merged: CustomerMerged) -> None:
        target = None if merged.merged_into is None else self._db_id(merged.merged_into)
        cursor.execute(
            self._q("UPDATE {customers} SET merged_into = ? WHERE customer_id = ?"),
            (target, self._db_id(merged.customer_id)),
        )
        if merged.split_from is not None:
            # An agent split these two on purpose: never suggest merging them again.
            cursor.execute(
                self._q(
                    "INSERT INTO {separations} (first_id, second_id) VALUES (?, ?) "
                    "ON CONFLICT (first_id, second_id) DO NOTHING"
                ),
                tuple(self._db_id(c) for c in sorted((merged.customer_id, merged.split_from))),
            )

    def _root(self, cursor: Any, customer_id: UUID) -> UUID:
        for _ in range(MAX_MERGE_DEPTH):
            cursor.execute(
                self._q("SELECT merged_into FROM {customers} WHERE customer_id = ?"),
                (self._db_id(customer_id),),
            )
            row = cursor.fetchone()
            if row is None or row["merged_into"] is None:
                return customer_id
            customer_id = self._py_id(row["merged_into"])
        raise RuntimeError(f"merge pointers from {customer_id} do not end")

    def _entry(self, cursor: Any, customer_id: UUID) -> DirectoryEntry:
        merged: list[UUID] = []
        frontier = [customer_id]
        while frontier and len(merged) < MAX_MERGE_DEPTH:
            cursor.execute(
                self._q(
                    "SELECT customer_id FROM {customers} "
                    f"WHERE merged_into IN ({', '.join('?' * len(frontier))})"
                ),
                [self._db_id(c) for c in frontier],
            )
            frontier = [self._py_id(row["customer_id"]) for row in cursor.fetchall()]
            merged.extend(frontier)
        everyone = [customer_id, *merged]
        cursor.execute(
            self._q(
                "SELECT kind, value FROM {identities} "
                f"WHERE customer_id IN ({', '.join('?' * len(everyone))}) ORDER BY kind, value"
            ),
            [self._db_id(c) for c in everyone],
        )
        identities = tuple((row["kind"], row["value"]) for row in cursor.fetchall())
        cursor.execute(
            self._q("SELECT display_name, sort_name FROM {customers} WHERE customer_id = ?"),
            (self._db_id(customer_id),),
        )
        row = cursor.fetchone()
        return DirectoryEntry(
            customer_id, row["display_name"], row["sort_name"], identities, tuple(merged)
        )


def _mailbox_evidence(row: Any) -> tuple[str, str]:
    return "SAME_MAILBOX", f"{row['one']} and {row['other']} both deliver to {row['shared']}"


def _mention_evidence(row: Any) -> tuple[str, str]:
    rule = {"phone": "SAME_PHONE", "email": "SAME_EMAIL"}.get(row["kind"], "SAME_EXTERNAL_ID")
    return (
        rule,
        f"attribute {row['attribute']} of one is the {row['kind']} {row['value']} of the other",
    )


def _name_evidence(row: Any) -> tuple[str, str]:
    return (
        "SAME_NAME_AND_EMAIL_DOMAIN",
        f"both are called {row['name']} and write from {row['domain']}",
    )
