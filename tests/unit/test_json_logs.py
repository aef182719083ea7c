"""The log line both services write keeps an error's type and frames, never its text."""

from __future__ import annotations

import json
import logging
import sys

from services.json_logs import JsonFormatter

CANARY = "canary.person@example.com"


def logged(error: BaseException) -> dict[str, object]:
    try:
        raise error
    except BaseException:
        record = logging.LogRecord(
            "t", logging.ERROR, __file__, 1, "call failed", None, sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert CANARY not in line
    parsed: dict[str, object] = json.loads(line)
    return parsed


def test_an_error_is_logged_by_type_and_frames_without_its_message() -> None:
    line = logged(KeyError(CANARY))

    assert line["message"] == "call failed"
    assert line["error"] == "KeyError"
    frames = line["frames"]
    assert isinstance(frames, list)
    assert "raise error" in frames[-1]
    assert "caused_by" not in line


def test_the_errors_behind_it_are_named_by_type_alone() -> None:
    try:
        try:
            raise ValueError(CANARY)
        except ValueError as inner:
            raise RuntimeError(f"while storing {CANARY}") from inner
    except RuntimeError as outer:
        line = logged(outer)

    assert line["error"] == "RuntimeError"
    assert line["caused_by"] == ["ValueError"]
