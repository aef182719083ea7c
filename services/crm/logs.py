"""JSON log lines on stdout, one object per line, for log shippers to parse."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys

from services.json_logs import JsonFormatter


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
