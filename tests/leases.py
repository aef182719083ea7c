"""What tests do to a lease from outside its holder."""

from __future__ import annotations

import psycopg


def end_holder_session(postgres_server: str, key: int) -> None:
    """The server ends the session holding the lease's lock, as when the connection
    breaks."""
    classid, objid = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        ended = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND granted AND classid = %s AND objid = %s AND objsubid = 1",
            [classid, objid],
        ).fetchall()
    assert ended == [(True,)]
