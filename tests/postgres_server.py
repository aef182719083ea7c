"""Finds a PostgreSQL server for the tests, or starts a throwaway cluster."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


class PostgresUnavailableError(RuntimeError):
    pass


def reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def postgres_url() -> Iterator[str]:
    """CRM_TEST_DATABASE_URL, else the local server, else a throwaway cluster.
    CRM_TEST_POSTGRES=throwaway skips the first two, to test the fallback."""
    configured = os.environ.get("CRM_TEST_DATABASE_URL")
    force_throwaway = os.environ.get("CRM_TEST_POSTGRES") == "throwaway"
    if configured and not force_throwaway:
        if not reachable(configured):
            raise PostgresUnavailableError(
                f"CRM_TEST_DATABASE_URL is set but unreachable: {configured}"
            )
        yield configured
        return
    if not force_throwaway and reachable(DEFAULT_URL):
        yield DEFAULT_URL
        return
    with throwaway_cluster() as url:
        yield url


def _binaries() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailableError("no PostgreSQL server reachable and no initdb installed")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    binaries = _binaries()
    root = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    # PostgreSQL refuses to run as root, so root runs it as the postgres user.
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*command: str) -> None:
        subprocess.run([*as_user, *command], check=True, capture_output=True, timeout=120)

    run(str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    run(
        str(binaries / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(root / "log"),
        "-w",
        "start",
    )
    try:
        run(
            str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "test"
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/test"
    finally:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
