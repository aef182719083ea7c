"""JSON log lines on stdout, one object per line, in the CRM's shape."""

from __future__ import annotations

import logging
import sys

from services.json_logs import JsonFormatter


def configure_logging() -> None:
    output = logging.StreamHandler(sys.stdout)
    output.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [output]
    root.setLevel(logging.INFO)
