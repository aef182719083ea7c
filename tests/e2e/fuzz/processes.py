"""What the CRM and gateway processes print: the errors they logged, by request."""

from __future__ import annotations

import json
import re
from typing import Any

# The last line of a Python traceback, e.g. "RecursionError: maximum recursion depth".
EXCEPTION_LINE = re.compile(r"^(\w+\.)*\w*(Error|Exception|Exit|Interrupt)\b.*")


def exceptions_by_request(lines: list[str]) -> dict[str, str]:
    """The error the CRM logged for each call that raised, and where."""
    found = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("error"), str):
            found[str(record.get("request_id"))] = _raised(record)[:200]
    return found


def _raised(record: dict[str, Any]) -> str:
    """An error as the services log it: its type and where it was raised (never its
    message, which may quote the request)."""
    frames = record.get("frames") or [""]
    where = str(frames[-1]).strip().splitlines()[0] if frames[-1] else ""
    return f"{record['error']} at {where}"


def exception_lines(lines: list[str]) -> list[str]:
    """The distinct last lines of the tracebacks in a process's output, JSON or not."""
    found: list[str] = []
    for line in lines:
        texts = [line]
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("error"), str):
            texts = [record["error"]]
        for text in texts:
            match = EXCEPTION_LINE.match(text.strip())
            if match and match.group(0) not in found:
                found.append(match.group(0)[:300])
    return found
