"""A gateway fault is a JSON 500 with a request id, logged without its message."""

from __future__ import annotations

import json
import logging

import pytest
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from services.gateway.request_log import RequestLog
from services.json_logs import JsonFormatter

# Built, so that the source line a traceback shows does not hold it.
EMAIL = "@".join(["ada", "example.com"])


async def failing_handler(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError(f"{EMAIL} broke it")


def test_an_unexpected_error_is_a_json_500_and_its_message_is_not_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = TestClient(RequestLog(failing_handler))
    with caplog.at_level(logging.INFO):
        response = client.get("/anywhere", headers={"X-Request-Id": "fault-1"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "fault-1"
    assert response.json()["error"]["status"] == "INTERNAL"
    assert "fault-1" in response.json()["error"]["message"]
    failure, request = [r for r in caplog.records if r.name == "gateway.requests"]
    logged = json.loads(JsonFormatter().format(failure))
    assert (logged["error"], logged["request_id"]) == ("RuntimeError", "fault-1")
    assert EMAIL not in json.dumps(logged)
    assert request.__dict__["fields"]["status"] == 500
