"""The JSON log line both services write: one object per line, for log shippers."""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    """Fields as given; an exception as its type, its frames and the types of the
    errors behind it, never a message: messages may quote a request's personal data."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        error = record.exc_info[1] if record.exc_info else None
        if error is not None:
            line["error"] = type(error).__name__
            line["frames"] = traceback.format_tb(error.__traceback__)
            behind = _errors_behind(error)
            if behind:
                line["caused_by"] = behind
        return json.dumps(line, default=str)


def _errors_behind(error: BaseException) -> list[str]:
    found: list[str] = []
    seen = {id(error)}
    cause = error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        found.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    return found
