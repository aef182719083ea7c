"""JSON log lines on stdout, one object per line, for log shippers to parse."""

from __future__ import annotations

import atexit
import json
import logging
import logging.handlers
import queue
import sys
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
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class _UnformattedQueueHandler(logging.handlers.QueueHandler):
    """Queues records as they are: the listener's thread formats and writes them, so a
    call never waits on the output's lock or a write."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def configure_logging(level: str) -> None:
    output = logging.StreamHandler(sys.stdout)
    output.setFormatter(JsonFormatter())
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = logging.handlers.QueueListener(records, output)
    listener.start()
    atexit.register(listener.stop)  # Writes what is queued before the process ends.
    root = logging.getLogger()
    root.handlers[:] = [_UnformattedQueueHandler(records)]
    root.setLevel(level)
