"""What the service's child processes share: the import path they start with, and
dying with the process that started them."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

from crm.v1 import customer_history_service_pb2

_PR_SET_PDEATHSIG = 1


def child_environ(**overrides: str) -> dict[str, str]:
    """This process's environment for a `python -m services.crm ...` child, with an
    import path that finds our code and the generated code however we were started."""
    generated = Path(customer_history_service_pb2.__file__).resolve().parents[2]
    root = Path(__file__).resolve().parents[2]
    path = os.pathsep.join(
        p for p in (str(generated), str(root), os.environ.get("PYTHONPATH")) if p
    )
    return {**os.environ, "PYTHONPATH": path, **overrides}


def die_with_parent() -> None:
    """On Linux, a SIGTERM when the parent dies, even by SIGKILL: an orphaned child
    would otherwise race the next one (over the read models, or the port).

    The signal comes when the parent's thread that started this child ends, so one
    long-lived thread must start every child."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
