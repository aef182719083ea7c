"""JSON log lines on stdout, one object per line, in the CRM's shape."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info and record.exc_info[0] is not None:
            # The type and the frames, not the message: a message may quote a request.
            line["error"] = record.exc_info[0].__name__
            line["frames"] = traceback.format_tb(record.exc_info[2])
        return json.dumps(line, default=str)


def configure_logging() -> None:
    output = logging.StreamHandler(sys.stdout)
    output.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [output]
    root.setLevel(logging.INFO)
